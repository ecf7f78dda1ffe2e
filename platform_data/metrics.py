"""The metric table: the series each runtime and exporter serves, and the PromQL the platform builds from them.

Dashboards, alert rules and autoscalers take every expression from here (through
``components.monitoring.signals_for``), so a metric name is written exactly once and the three cannot drift apart.
Each row lists the series its source really exposes, with where that was seen (docs/pins-provenance.md, section 3);
a test checks that every expression names only series of its runtime or of an exporter below.

Templates are plain strings with placeholders replaced by ``fill`` (never ``str.format``: PromQL is full of braces):

- ``{sel}``: label matchers selecting one model's scrape targets (its namespace and MODEL_LABEL),
- ``{pods}``: label matchers selecting one model's pods (namespace and pod name), for series about pods,
- ``{deploy}``: label matchers selecting one model's Deployment, for kube-state-metrics series,
- ``{ns}``: a label matcher selecting the stack's namespace,
- ``{w}``: a range window such as ``5m``; ``{q}``: a quantile such as ``0.99``.

Units: latencies in seconds, ratios from 0 to 1, GPU utilisation in percent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from .runtimes import RUNTIMES, TRITON_SUMMARY_QUANTILES

#: Target label each model's PodMonitor puts on everything it scrapes (value: the catalog key). Runtimes' own labels
#: (Triton's `model`, vLLM's `model_name`) name the model inside the server, which need not be the catalog key.
MODEL_LABEL = "ml_model"
#: The serving container's name in every model pod (components/workload.py): the templates filter cAdvisor and
#: kube-state-metrics series on `container="server"` so the weight-downloading init container does not count.
SERVER_CONTAINER = "server"


def fill(template: str, **values: str) -> str:
    """Replace ``{name}`` placeholders, leaving PromQL's own braces alone."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def promql_string(value: str) -> str:
    """A PromQL string literal (double-quoted, Go escapes; JSON's escapes are a subset)."""
    return json.dumps(value)


def histogram_series(base: str) -> frozenset[str]:
    return frozenset({f"{base}_bucket", f"{base}_sum", f"{base}_count"})


# --- exporters ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exporter:
    """A source of series other than the model servers themselves."""

    name: str
    metrics: frozenset[str]
    source: str


EXPORTERS: dict[str, Exporter] = {
    row.name: row
    for row in (
        Exporter(
            "prometheus",
            frozenset({"up", "ALERTS"}),
            "Prometheus itself: `up` per scrape target, `ALERTS` per pending or firing alert.",
        ),
        Exporter(
            "kube-state-metrics",
            frozenset(
                {
                    "kube_deployment_spec_replicas",
                    "kube_deployment_status_replicas",
                    "kube_deployment_status_replicas_available",
                    "kube_deployment_status_replicas_unavailable",
                    "kube_horizontalpodautoscaler_spec_max_replicas",
                    "kube_horizontalpodautoscaler_spec_min_replicas",
                    "kube_horizontalpodautoscaler_status_current_replicas",
                    "kube_horizontalpodautoscaler_status_desired_replicas",
                    "kube_pod_container_status_restarts_total",
                    "kube_pod_container_status_waiting_reason",
                    "kube_pod_init_container_status_waiting_reason",
                    "kube_pod_container_resource_limits",
                }
            ),
            "kubernetes/kube-state-metrics docs/metrics/workload/{deployment,horizontalpodautoscaler,pod}-metrics.md "
            "(all STABLE); part of kube-prometheus-stack.",
        ),
        Exporter(
            "cadvisor",
            frozenset({"container_memory_working_set_bytes", "container_cpu_usage_seconds_total"}),
            "The kubelet's cAdvisor endpoint, scraped by kube-prometheus-stack's kubelet ServiceMonitor "
            "(labels namespace, pod, container).",
        ),
        Exporter(
            "dcgm-exporter",
            frozenset({"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE"}),
            "NVIDIA dcgm-exporter default counters (GPU_UTIL in %, FB_USED/FB_FREE in MiB), with the Kubernetes pod "
            "mapping labels namespace/pod/container; the node is `Hostname` before NVIDIA/dcgm-exporter#655 and "
            "`hostname` after it.",
        ),
    )
}

# --- signals about pods and Deployments, the same for every runtime ------------------------------------------------

#: Scrape targets of the model that answered their last scrape.
TARGETS_UP = "sum(up{{sel}})"
#: Replicas the Deployment asks for (what the autoscaler set), and those available.
REPLICAS_DESIRED = "max(kube_deployment_spec_replicas{{deploy}})"
REPLICAS_AVAILABLE = "max(kube_deployment_status_replicas_available{{deploy}})"
REPLICAS_UNAVAILABLE = "max(kube_deployment_status_replicas_unavailable{{deploy}})"
#: 1 while a server or weight-downloader container of the model waits in CrashLoopBackOff.
CRASH_LOOPING = (
    'max(kube_pod_container_status_waiting_reason{{pods},reason="CrashLoopBackOff"})'
    ' or max(kube_pod_init_container_status_waiting_reason{{pods},reason="CrashLoopBackOff"})'
)
CONTAINER_RESTARTS = 'sum(increase(kube_pod_container_status_restarts_total{{pods},container="server"}[{w}]))'
#: The fullest server container's memory working set over its limit (OOM kill at 1).
MEMORY_USED_RATIO = (
    'max(max by (pod) (container_memory_working_set_bytes{{pods},container="server"})'
    ' / max by (pod) (kube_pod_container_resource_limits{{pods},container="server",resource="memory"}))'
)
CPU_CORES_USED = 'sum(rate(container_cpu_usage_seconds_total{{pods},container="server"}[{w}]))'
#: Mean GPU utilisation (%) over the model's GPUs.
GPU_UTILIZATION = "avg(DCGM_FI_DEV_GPU_UTIL{{pods}})"
#: Sum over replicas of each replica's mean GPU utilisation: with AverageValue, the autoscaler divides it by the
#: replica count, so the target is "percent per replica" whatever the GPUs per pod.
GPU_UTILIZATION_SUM_OF_REPLICAS = "sum(avg by (pod) (DCGM_FI_DEV_GPU_UTIL{{pods}}))"
#: The fullest GPU's frame buffer, used over total.
GPU_MEMORY_USED_RATIO = "max(DCGM_FI_DEV_FB_USED{{pods}} / (DCGM_FI_DEV_FB_USED{{pods}} + DCGM_FI_DEV_FB_FREE{{pods}}))"
#: Per node GPU utilisation, whichever spelling of the node label the exporter uses (Hostname before #655, hostname after).
GPU_UTILIZATION_BY_NODE = (
    'max by (node) (label_replace(label_replace(DCGM_FI_DEV_GPU_UTIL, "node", "$1", "Hostname", "(.+)"),'
    ' "node", "$1", "hostname", "(.+)"))'
)

#: Alerts firing in the stack's namespace, by model and alert (the rules label every alert with both).
FIRING_ALERTS = 'sum by (model, alertname, severity) (ALERTS{alertstate="firing",{ns}})'

# --- runtimes -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Graph:
    """A runtime-specific dashboard panel (beyond the ones every model gets)."""

    title: str
    unit: str
    expr: str


@dataclass(frozen=True)
class RuntimeMetrics:
    """One runtime's series and the signals built from them (templates over ``{sel}``, ``{w}``, ``{q}``)."""

    requests: str
    """Requests finished per second (all outcomes)."""
    errors: str
    """Requests per second that failed on the server's side (client mistakes such as bad input excluded where the
    runtime tells them apart)."""
    latency_mean: str
    """Mean request latency, seconds."""
    in_flight: str
    """Requests in the server (executing plus queued), summed over replicas: the `concurrency` scaling signal."""
    exposes: frozenset[str]
    """Every series this runtime serves that an expression may name."""
    source: str
    """Where the names were seen."""
    latency_quantile: str | None = None
    """Latency quantile ``{q}``, seconds; None when the runtime has neither histogram nor summary."""
    latency_quantiles: tuple[float, ...] | None = None
    """The quantiles ``latency_quantile`` can answer (a summary's); None: any (a histogram)."""
    queue_depth: str | None = None
    """Requests waiting for the model, summed over replicas, where the runtime exposes it: the `queue-depth` scaling
    signal."""
    queue_time: str | None = None
    """Mean seconds a request waits before the model starts on it (all replicas): the `queue-time` scaling signal."""
    ttft_quantile: str | None = None
    """Time-to-first-token quantile ``{q}``, seconds, from a histogram (LLM servers): the `ttft-p90` signal."""
    kv_cache_usage: str | None = None
    """KV-cache usage of the fullest replica (0-1), for LLM servers."""
    gpu_memory_pressure: str | None = None
    """A runtime's own signal that GPU memory is running out (0-1), used instead of DCGM's frame-buffer ratio by the
    GPU-memory alert: vLLM preallocates ~90% of the GPU by design, so its KV cache is what fills up."""
    in_flight_note: str = ""
    """How ``in_flight`` is derived, for the docs."""
    extra_graphs: tuple[Graph, ...] = field(default=())
    """Runtime-specific dashboard panels."""

    def can_answer(self, quantile: float) -> bool:
        return self.latency_quantile is not None and (
            self.latency_quantiles is None or quantile in self.latency_quantiles
        )


#: TF Serving's server-side failures (its `status` label holds a canonical error code name; bad input is
#: INVALID_ARGUMENT or NOT_FOUND and does not count).
_TF_SERVER_ERRORS = "INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|UNKNOWN|DATA_LOSS|ABORTED|UNIMPLEMENTED"
_VLLM_INFERENCE_HANDLERS = "/v1/(chat/completions|completions|embeddings)"
#: Triton's cumulative queue duration over successful requests: the mean queue wait (microseconds -> seconds).
_TRITON_QUEUE_TIME = (
    "sum(rate(nv_inference_queue_duration_us{{sel}}[{w}])) / sum(rate(nv_inference_request_success{{sel}}[{w}])) / 1e6"
)

RUNTIME_METRICS: dict[str, RuntimeMetrics] = {
    "tensorflow-serving": RuntimeMetrics(
        requests="sum(rate(:tensorflow:serving:request_count{{sel}}[{w}]))",
        errors='sum(rate(:tensorflow:serving:request_count{{sel},status=~"' + _TF_SERVER_ERRORS + '"}[{w}]))',
        latency_quantile=(
            "histogram_quantile({q}, sum by (le) (rate(:tensorflow:serving:request_latency_bucket{{sel}}[{w}]))) / 1e6"
        ),
        latency_mean=(
            "sum(rate(:tensorflow:serving:request_latency_sum{{sel}}[{w}]))"
            " / sum(rate(:tensorflow:serving:request_latency_count{{sel}}[{w}])) / 1e6"
        ),
        in_flight="sum(rate(:tensorflow:serving:request_latency_sum{{sel}}[{w}])) / 1e6",
        in_flight_note="Little's law: seconds of request time accrued per second = mean requests in the server",
        exposes=frozenset({":tensorflow:serving:request_count"})
        | histogram_series(":tensorflow:serving:request_latency")
        | histogram_series(":tensorflow:serving:runtime_latency"),
        source="tensorflow_serving/servables/tensorflow/util.cc (request_count{model_name,status}, "
        "request_latency{model_name,API,entrypoint} in microseconds); served at /monitoring/prometheus/metrics",
    ),
    "triton": RuntimeMetrics(
        # Newer Tritons create the failure series (labelled by reason) on the first failure: `or vector(0)`.
        requests=(
            "sum(rate(nv_inference_request_success{{sel}}[{w}]))"
            " + (sum(rate(nv_inference_request_failure{{sel}}[{w}])) or vector(0))"
        ),
        errors="sum(rate(nv_inference_request_failure{{sel}}[{w}]))",
        latency_quantile='max(nv_inference_request_summary_us{{sel},quantile="{q}"}) / 1e6',
        latency_quantiles=tuple(q for q, _ in TRITON_SUMMARY_QUANTILES),
        latency_mean=(
            "sum(rate(nv_inference_request_duration_us{{sel}}[{w}]))"
            " / sum(rate(nv_inference_request_success{{sel}}[{w}])) / 1e6"
        ),
        in_flight="sum(rate(nv_inference_request_duration_us{{sel}}[{w}])) / 1e6",
        in_flight_note="Little's law on the cumulative request duration (queue plus compute)",
        queue_depth="sum(nv_inference_pending_request_count{{sel}})",
        queue_time=_TRITON_QUEUE_TIME,
        extra_graphs=(Graph("Queue time (mean)", "s", _TRITON_QUEUE_TIME),),
        exposes=frozenset(
            {
                "nv_inference_request_success",
                "nv_inference_request_failure",
                "nv_inference_count",
                "nv_inference_exec_count",
                "nv_inference_request_duration_us",
                "nv_inference_queue_duration_us",
                "nv_inference_compute_input_duration_us",
                "nv_inference_compute_infer_duration_us",
                "nv_inference_compute_output_duration_us",
                "nv_inference_pending_request_count",
                "nv_gpu_utilization",
                "nv_gpu_memory_total_bytes",
                "nv_gpu_memory_used_bytes",
                # summaries: the quantile series carry the base name
                "nv_inference_request_summary_us",
                "nv_inference_request_summary_us_sum",
                "nv_inference_request_summary_us_count",
                "nv_inference_queue_summary_us",
            }
        ),
        source="triton-inference-server/server docs/user_guide/metrics.md; summaries need "
        "--metrics-config=summary_latencies=true (set in the runtime table)",
    ),
    "vllm": RuntimeMetrics(
        requests='sum(rate(http_requests_total{{sel},handler=~"' + _VLLM_INFERENCE_HANDLERS + '"}[{w}]))',
        errors='sum(rate(http_requests_total{{sel},handler=~"' + _VLLM_INFERENCE_HANDLERS + '",status="5xx"}[{w}]))',
        latency_quantile="histogram_quantile({q}, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket{{sel}}[{w}])))",
        latency_mean=(
            "sum(rate(vllm:e2e_request_latency_seconds_sum{{sel}}[{w}]))"
            " / sum(rate(vllm:e2e_request_latency_seconds_count{{sel}}[{w}]))"
        ),
        in_flight="sum(vllm:num_requests_running{{sel}}) + sum(vllm:num_requests_waiting{{sel}})",
        in_flight_note="requests in the running batch plus requests waiting for it",
        queue_depth="sum(vllm:num_requests_waiting{{sel}})",
        queue_time=(
            "sum(rate(vllm:request_queue_time_seconds_sum{{sel}}[{w}]))"
            " / sum(rate(vllm:request_queue_time_seconds_count{{sel}}[{w}]))"
        ),
        ttft_quantile=(
            "histogram_quantile({q}, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{{sel}}[{w}])))"
        ),
        kv_cache_usage="max(vllm:kv_cache_usage_perc{{sel}})",
        gpu_memory_pressure="max(vllm:kv_cache_usage_perc{{sel}})",
        extra_graphs=(
            Graph(
                "Time to first token (p99)",
                "s",
                "histogram_quantile(0.99, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{{sel}}[{w}])))",
            ),
            Graph("Generated tokens per second", "short", "sum(rate(vllm:generation_tokens_total{{sel}}[{w}]))"),
        ),
        exposes=frozenset(
            {
                "vllm:num_requests_running",
                "vllm:num_requests_waiting",
                "vllm:kv_cache_usage_perc",
                "vllm:request_success_total",
                "vllm:prompt_tokens_total",
                "vllm:generation_tokens_total",
                "vllm:num_preemptions_total",
                "http_requests_total",
            }
        )
        | histogram_series("vllm:e2e_request_latency_seconds")
        | histogram_series("vllm:time_to_first_token_seconds")
        | histogram_series("vllm:request_queue_time_seconds"),
        source="vLLM docs/design/metrics.md and v1 loggers.py; kv_cache_usage_perc replaced gpu_cache_usage_perc "
        "(vllm#18354, removed in #29330); http_requests_total{handler,method,status} from "
        "prometheus_fastapi_instrumentator (vllm#15657)",
    ),
    "torchserve": RuntimeMetrics(
        requests="sum(rate(ts_inference_requests_total{{sel}}[{w}]))",
        errors="sum(rate(Requests5XX{{sel}}[{w}]))",
        latency_mean=(
            "sum(rate(ts_inference_latency_microseconds{{sel}}[{w}]))"
            " / sum(rate(ts_inference_requests_total{{sel}}[{w}])) / 1e6"
        ),
        in_flight="sum(rate(ts_inference_latency_microseconds{{sel}}[{w}])) / 1e6",
        in_flight_note="Little's law on the cumulative inference latency counter",
        queue_depth="sum(rate(ts_queue_latency_microseconds{{sel}}[{w}])) / 1e6",
        queue_time=(
            "sum(rate(ts_queue_latency_microseconds{{sel}}[{w}]))"
            " / sum(rate(ts_inference_requests_total{{sel}}[{w}])) / 1e6"
        ),
        exposes=frozenset(
            {
                "ts_inference_requests_total",
                "ts_inference_latency_microseconds",
                "ts_queue_latency_microseconds",
                "Requests2XX",
                "Requests4XX",
                "Requests5XX",
                "QueueTime",
                "WorkerThreadTime",
                "HandlerTime",
                "PredictionTime",
            }
        ),
        source="pytorch/serve ts/configs/metrics.yaml (metrics_mode=prometheus on the metrics port); latencies are "
        "cumulative microsecond counters, there is no histogram, so latency is a mean and queue depth comes from "
        "Little's law on the queue-latency counter",
    ),
}

# --- custom servers -------------------------------------------------------------------------------------------------

#: What a `custom` server exposes unless its catalog `server.metrics` block says otherwise: the prometheus_client
#: conventions that images/churn-predictor/app.py follows (a test renders that app's metrics to prove it).
CUSTOM_REQUESTS_TOTAL = "http_requests_total"
CUSTOM_STATUS_LABEL = "code"
CUSTOM_ERROR_STATUS = "5.."
CUSTOM_LATENCY_HISTOGRAM = "http_request_duration_seconds"
CUSTOM_IN_FLIGHT = "http_requests_in_flight"


def custom_metrics(
    requests_total: str = CUSTOM_REQUESTS_TOTAL,
    status_label: str = CUSTOM_STATUS_LABEL,
    error_status: str = CUSTOM_ERROR_STATUS,
    request_labels: Mapping[str, str] | None = None,
    latency_histogram: str = CUSTOM_LATENCY_HISTOGRAM,
    in_flight: str | None = CUSTOM_IN_FLIGHT,
) -> RuntimeMetrics:
    """The row of a custom server, from the names its catalog entry declares."""
    only = "".join(f",{label}={promql_string(value)}" for label, value in sorted((request_labels or {}).items()))
    requests = f"{requests_total}{{{{sel}}{only}}}"
    errors = f"{requests_total}{{{{sel}}{only},{status_label}=~{promql_string(error_status)}}}"
    little = f"sum(rate({latency_histogram}_sum{{{{sel}}}}[{{w}}]))"
    return RuntimeMetrics(
        requests=f"sum(rate({requests}[{{w}}]))",
        errors=f"sum(rate({errors}[{{w}}]))",
        latency_quantile=f"histogram_quantile({{q}}, sum by (le) (rate({latency_histogram}_bucket{{{{sel}}}}[{{w}}])))",
        latency_mean=f"{little} / sum(rate({latency_histogram}_count{{{{sel}}}}[{{w}}]))",
        in_flight=f"sum({in_flight}{{{{sel}}}})" if in_flight else little,
        in_flight_note="the server's in-flight gauge" if in_flight else "Little's law on the latency histogram",
        exposes=frozenset({requests_total} | ({in_flight} if in_flight else set()))
        | histogram_series(latency_histogram),
        source="declared by the model's catalog entry (server.metrics)",
    )


#: Scaling metrics a runtime serves only if its row has the signal: metric -> the RuntimeMetrics field.
RUNTIME_SCALING_SIGNALS = {"queue-depth": "queue_depth", "queue-time": "queue_time", "ttft-p90": "ttft_quantile"}
#: The quantile of the `ttft-p90` signal.
TTFT_QUANTILE = 0.9


def runtimes_with_signal(metric: str) -> list[str]:
    """Runtimes whose row serves a runtime-specific scaling signal (``RUNTIME_SCALING_SIGNALS``), sorted."""
    attribute = RUNTIME_SCALING_SIGNALS[metric]
    return sorted(name for name, row in RUNTIME_METRICS.items() if getattr(row, attribute) is not None)


assert set(RUNTIME_METRICS) | {"custom"} == set(RUNTIMES), "every runtime preset needs a row of the metric table"
