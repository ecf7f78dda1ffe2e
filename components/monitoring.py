"""Pure builders for monitoring and autoscaling: catalog entry + stack settings -> manifest dicts and chart values.

Per model: a PodMonitor on the runtime's metrics endpoint, a PrometheusRule, and (for Prometheus-read scaling
metrics) a KEDA ScaledObject. Per stack: the monitoring and autoscaler namespaces and the charts' values. Every
PromQL expression comes from ``signals_for``, which fills the metric table (platform_data/metrics.py) for one model:
alerts, dashboards (components/dashboards.py) and autoscalers read the same signals. No Pulumi here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from model_catalog.checks import WHOLE_MODEL_METRICS, scaling_target
from model_catalog.quantities import byte_count
from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings
from platform_data import metrics as table
from platform_data import pins
from platform_data.metrics import MODEL_LABEL, RuntimeMetrics, fill, promql_string

from . import capacity_placement
from .kube import await_ready
from .labels import platform_labels, selector_labels
from .multinode import lws
from .namespace import ip_peers, namespace_manifest, namespace_peer, network_policy, platform_namespace_policies
from .workload import (
    PROMETHEUS_POD_LABELS,
    deployment_timeout_seconds,
    effective_runtime,
    gpu_placement,
    has_autoscaler,
    scaling_behavior,
)

Manifest = dict[str, Any]

PROMETHEUS_PORT = 9090
#: The Secret holding Grafana's admin credentials (the chart reads it through grafana.admin.existingSecret).
GRAFANA_ADMIN_SECRET = "grafana-admin"
GRAFANA_ADMIN_USER = "admin"
GRAFANA_USER_KEY = "admin-user"
GRAFANA_PASSWORD_KEY = "admin-password"
#: Label Grafana's dashboard sidecar watches ConfigMaps for (the chart's default).
DASHBOARD_LABEL_KEY = "grafana_dashboard"
DASHBOARD_LABEL_VALUE = "1"
#: Range windows: autoscalers react within a minute; alerts and dashboards smooth over five.
SCALER_WINDOW = "1m"
ALERT_WINDOW = "5m"
#: Scaling metrics KEDA reads from Prometheus (cpu and memory stay with the HPA in components/workload.py).
KEDA_METRICS = ("requests-per-second", "concurrency", "gpu-utilization", *table.RUNTIME_SCALING_SIGNALS)
#: How long `pulumi up` waits for KEDA to report a ScaledObject Ready.
SCALED_OBJECT_READY_SECONDS = 300
#: Alert thresholds that are not per model.
GPU_MEMORY_FULL_RATIO = 0.95
CONTAINER_MEMORY_FULL_RATIO = 0.9
#: Share of the Prometheus volume retention may use (the rest is WAL and compaction headroom).
RETENTION_SIZE_SHARE = 0.85
#: Pod Security exception of the monitoring namespace, stated on the object and in docs/monitoring.md.
MONITORING_PSS_REASON = (
    "node-exporter needs hostNetwork, hostPID and hostPath; the DCGM exporter runs as root with SYS_ADMIN and a "
    "hostPath to the kubelet's pod-resources socket (docs/monitoring.md#pod-security-exception)"
)


def monitoring_release(settings: StackSettings) -> str:
    """kube-prometheus-stack's Helm release name and fullnameOverride, per stack: every object the chart names after
    its release (ClusterRoles and their bindings included) is then the stack's own, never another stack's."""
    return f"{settings.environment.namespace}-monitoring"


def prometheus_url(settings: StackSettings) -> str:
    """The Prometheus the stack's autoscalers query: its own (Service `<release>-prometheus`), or the existing one."""
    mon = settings.monitoring
    if mon.mode == "existing":
        assert mon.existing is not None, "settings checks require 'existing' for mode existing"
        return mon.existing.prometheus_url
    return f"http://{monitoring_release(settings)}-prometheus.{mon.namespace}.svc.cluster.local:{PROMETHEUS_PORT}"


def rule_labels(settings: StackSettings, labels: dict[str, str]) -> dict[str, str]:
    """Labels of PodMonitors and PrometheusRules: the model's, plus what an existing Prometheus selects them by."""
    existing = settings.monitoring.existing
    return {**labels, **(existing.selector_labels if existing is not None else {})}


def metrics_for(spec: ModelSpec) -> RuntimeMetrics:
    """The metric-table row of the model's runtime; for `custom`, the row its `server.metrics` block declares."""
    if spec.runtime != "custom":
        return table.RUNTIME_METRICS[spec.runtime]
    declared = spec.server.metrics if spec.server is not None else None
    if declared is None:
        return table.custom_metrics()
    return table.custom_metrics(
        requests_total=declared.requests_total,
        status_label=declared.status_label,
        error_status=declared.error_status,
        request_labels=declared.request_labels,
        latency_histogram=declared.latency_histogram,
        in_flight=declared.in_flight,
    )


def pod_name_regex(model: str) -> str:
    """Names of a Deployment's pods: <deployment>-<replica-set hash>-<suffix> (neither part contains '-')."""
    return f"{model}-[a-z0-9]+-[a-z0-9]+"


@dataclass(frozen=True)
class ModelSignals:
    """Every PromQL expression about one model, from the metric table. Alerts, dashboards and scalers use these."""

    model: str
    namespace: str
    row: RuntimeMetrics
    gpu: bool

    @functools.cached_property
    def selectors(self) -> Mapping[str, str]:
        """The model's series selectors (worked out once: every expression of the model fills them in)."""
        ns = f"namespace={promql_string(self.namespace)}"
        return MappingProxyType(
            {
                "sel": f"{ns},{MODEL_LABEL}={promql_string(self.model)}",
                "pods": f"{ns},pod=~{promql_string(pod_name_regex(self.model))}",
                "deploy": f"{ns},deployment={promql_string(self.model)}",
            }
        )

    def _fill(self, template: str, window: str = ALERT_WINDOW, quantile: float | None = None) -> str:
        values = {**self.selectors, "w": window}
        if quantile is not None:
            values["q"] = f"{quantile:g}"
        return fill(template, **values)

    # requests
    def requests(self, window: str = ALERT_WINDOW) -> str:
        return self._fill(self.row.requests, window)

    def errors(self, window: str = ALERT_WINDOW) -> str:
        return self._fill(self.row.errors, window)

    def error_ratio(self, window: str = ALERT_WINDOW) -> str:
        # A runtime may create its error series only on the first error: no series means no errors.
        return f"({self.errors(window)} or vector(0)) / ({self.requests(window)})"

    # latency
    @property
    def latency_statistic(self) -> str:
        """What the latency alert and the fleet view measure: "p99" where the runtime can tell, else "mean"."""
        return "p99" if self.row.can_answer(0.99) else "mean"

    def latency(self, quantile: float, window: str = ALERT_WINDOW) -> str | None:
        if not self.row.can_answer(quantile):
            return None
        assert self.row.latency_quantile is not None
        return self._fill(self.row.latency_quantile, window, quantile)

    def latency_mean(self, window: str = ALERT_WINDOW) -> str:
        return self._fill(self.row.latency_mean, window)

    def latency_for_alert(self, window: str = ALERT_WINDOW) -> str:
        return self.latency(0.99, window) or self.latency_mean(window)

    # load
    def in_flight(self, window: str = ALERT_WINDOW) -> str:
        return self._fill(self.row.in_flight, window)

    def queue_depth(self, window: str = ALERT_WINDOW) -> str | None:
        return None if self.row.queue_depth is None else self._fill(self.row.queue_depth, window)

    def kv_cache_usage(self) -> str | None:
        return None if self.row.kv_cache_usage is None else self._fill(self.row.kv_cache_usage)

    # GPUs (DCGM exporter), pods and the Deployment
    def gpu_utilization(self) -> str:
        return self._fill(table.GPU_UTILIZATION)

    def gpu_memory_used(self) -> str:
        return self._fill(table.GPU_MEMORY_USED_RATIO)

    def gpu_memory_pressure(self) -> str:
        """The signal of the GPU-memory alert: the runtime's own where it has one (vLLM's KV cache), else DCGM's."""
        return self._fill(self.row.gpu_memory_pressure) if self.row.gpu_memory_pressure else self.gpu_memory_used()

    def targets_up(self) -> str:
        return self._fill(table.TARGETS_UP)

    def replicas_desired(self) -> str:
        return self._fill(table.REPLICAS_DESIRED)

    def replicas_available(self) -> str:
        return self._fill(table.REPLICAS_AVAILABLE)

    def replicas_unavailable(self) -> str:
        return self._fill(table.REPLICAS_UNAVAILABLE)

    def crash_looping(self) -> str:
        return self._fill(table.CRASH_LOOPING)

    def restarts(self, window: str = "1h") -> str:
        return self._fill(table.CONTAINER_RESTARTS, window)

    def memory_used_ratio(self) -> str:
        return self._fill(table.MEMORY_USED_RATIO)

    def cpu_cores_used(self, window: str = ALERT_WINDOW) -> str:
        return self._fill(table.CPU_CORES_USED, window)

    def scaling_signal(self, metric: str, window: str = SCALER_WINDOW) -> str:
        """The autoscaler's query for ``metric``: a sum over replicas (KEDA's AverageValue divides it by them), or
        for the whole-model latencies (WHOLE_MODEL_METRICS) one value compared as is (KEDA's Value)."""
        if metric == "requests-per-second":
            return self.requests(window)
        if metric == "concurrency":
            return self.in_flight(window)
        if metric == "gpu-utilization":
            return self._fill(table.GPU_UTILIZATION_SUM_OF_REPLICAS, window)
        if metric == "queue-depth" and self.row.queue_depth is not None:
            return self._fill(self.row.queue_depth, window)
        # Whole-model latencies: an idle model has no requests, and 0/0 (or a quantile of no observations) is NaN,
        # which KEDA cannot compare; `> 0 or vector(0)` turns "no wait measured" into 0.
        if metric == "queue-time" and self.row.queue_time is not None:
            return f"({self._fill(self.row.queue_time, window)}) > 0 or vector(0)"
        if metric == "ttft-p90" and self.row.ttft_quantile is not None:
            return f"({self._fill(self.row.ttft_quantile, window, table.TTFT_QUANTILE)}) > 0 or vector(0)"
        raise ValueError(f"'{metric}' is not read from Prometheus")


def signals_for(model: str, spec: ModelSpec, namespace: str) -> ModelSignals:
    return ModelSignals(model=model, namespace=namespace, row=metrics_for(spec), gpu=spec.resources.gpu is not None)


# --- scraping -------------------------------------------------------------------------------------------------------


def pod_monitor(model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str]) -> Manifest:
    """Scrape every pod of the model on the runtime's metrics port and path, labelling its series with the model."""
    view = effective_runtime(spec)
    namespace = settings.environment.namespace
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": model, "namespace": namespace, "labels": rule_labels(settings, labels)},
        "spec": {
            "selector": {"matchLabels": selector_labels(model)},
            "namespaceSelector": {"matchNames": [namespace]},
            "podMetricsEndpoints": [
                {
                    "port": view.metrics_port,
                    "path": view.metrics_path,
                    "interval": settings.monitoring.scrape_interval,
                    "relabelings": [{"action": "replace", "targetLabel": MODEL_LABEL, "replacement": model}]
                    + (
                        # With a canary: series say which pods they come from (rollout="canary", or empty).
                        [
                            {
                                "action": "replace",
                                "sourceLabels": ["__meta_kubernetes_pod_label_ml_serving_dev_rollout"],
                                "targetLabel": "rollout",
                            }
                        ]
                        if spec.rollout.canary is not None
                        else []
                    ),
                }
            ],
        },
    }


# --- alerts ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    name: str
    severity: str
    for_: str
    expr: str
    summary: str
    description: str

    @property
    def anchor(self) -> str:
        """The alert's section in docs/runbooks.md (GitHub's heading anchor for `## <name>`)."""
        return self.name.lower()


def latency_threshold_seconds(spec: ModelSpec) -> float:
    """ModelHighLatency's threshold: the catalog's, else half the longest request the model may serve."""
    return spec.alerts.latency_seconds if spec.alerts.latency_seconds is not None else spec.max_request_seconds / 2


def _minutes(seconds: float) -> str:
    return f"{math.ceil(seconds / 60)}m"


def model_down_after(spec: ModelSpec) -> str:
    """One minute (the seeds' alert), except for a model that may scale to zero: waking up, it is down by design
    until its first replica has started, so it gets its worst-case start-up time."""
    if spec.scaling.min_replicas > 0:
        return "1m"
    return _minutes(max(60, deployment_timeout_seconds(spec)))


def can_pin_at_max(spec: ModelSpec) -> bool:
    """Whether "pinned at the maximum" says anything: the autoscaler must have room above one replica (a model that
    only scales between zero and one is at its maximum whenever it is awake)."""
    return has_autoscaler(spec) and spec.scaling.max_replicas > max(spec.scaling.min_replicas, 1)


def alerts_for(model: str, spec: ModelSpec, settings: StackSettings) -> list[Alert]:
    """The model's alerts. Every model gets the six that apply to any server; models an autoscaler can take above
    one replica add ModelReplicasAtMax, GPU models ModelGpuMemoryNearFull."""
    s = signals_for(model, spec, settings.environment.namespace)
    error_ratio = spec.alerts.error_rate_percent / 100
    latency = latency_threshold_seconds(spec)
    found = [
        Alert(
            "ModelDown",
            "critical",
            model_down_after(spec),
            f"({s.replicas_desired()} > 0) unless ({s.targets_up()} > 0)",
            f"{model}: no replica is serving",
            f"{model} should run replicas but none has answered a metrics scrape for a minute.",
        ),
        Alert(
            "ModelHighErrorRate",
            "critical",
            "10m",
            f"{s.error_ratio()} > {error_ratio:g}",
            f"{model}: more than {spec.alerts.error_rate_percent:g}% of requests fail",
            f"{{{{ $value | humanizePercentage }}}} of {model}'s requests failed on the server side over 5 minutes.",
        ),
        Alert(
            "ModelHighLatency",
            "warning",
            "10m",
            f"{s.latency_for_alert()} > {latency:g}",
            f"{model}: {s.latency_statistic} latency above {latency:g}s",
            f"{model}'s {s.latency_statistic} request latency is {{{{ $value | humanizeDuration }}}} "
            f"(threshold {latency:g}s).",
        ),
        Alert(
            "ModelCrashLooping",
            "warning",
            "5m",
            f"({s.crash_looping()}) > 0",
            f"{model}: a container is crash looping",
            f"A server or weight-download container of {model} keeps crashing (CrashLoopBackOff).",
        ),
        Alert(
            "ModelReplicasUnavailable",
            "warning",
            # Longer than the worst-case start of a replica (node, image pull, weights, load): a scale-up or a
            # rollout in progress is not a problem yet.
            _minutes(max(900, deployment_timeout_seconds(spec))),
            f"{s.replicas_unavailable()} > 0",
            f"{model}: replicas stay unavailable",
            f"{{{{ $value }}}} of {model}'s desired replicas have not become available within the worst-case "
            "start-up time.",
        ),
        Alert(
            "ModelMemoryNearLimit",
            "warning",
            "15m",
            f"{s.memory_used_ratio()} > {CONTAINER_MEMORY_FULL_RATIO:g}",
            f"{model}: server memory near its limit",
            f"A replica of {model} uses {{{{ $value | humanizePercentage }}}} of its memory limit; at 100% it is "
            "OOM-killed.",
        ),
    ]
    if can_pin_at_max(spec):
        found.append(
            Alert(
                "ModelReplicasAtMax",
                "warning",
                "15m",
                f"{s.replicas_desired()} >= {spec.scaling.max_replicas}",
                f"{model}: pinned at its maximum of {spec.scaling.max_replicas} replicas",
                f"The autoscaler has wanted {model}'s maximum ({spec.scaling.max_replicas}) for 15 minutes; demand "
                "may exceed capacity.",
            )
        )
    if s.gpu:
        found.append(
            Alert(
                "ModelGpuMemoryNearFull",
                "warning",
                "10m",
                f"{s.gpu_memory_pressure()} > {GPU_MEMORY_FULL_RATIO:g}",
                f"{model}: GPU memory nearly full",
                f"{model}'s "
                + ("KV cache" if s.row.gpu_memory_pressure else "fullest GPU's memory")
                + " is at {{ $value | humanizePercentage }}.",
            )
        )
    return found


def prometheus_rule(model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str]) -> Manifest:
    namespace = settings.environment.namespace
    base = settings.monitoring.runbook_base_url
    rules = [
        {
            "alert": a.name,
            "expr": a.expr,
            "for": a.for_,
            "labels": {"severity": a.severity, "model": model, "namespace": namespace},
            "annotations": {
                "summary": a.summary,
                "description": a.description,
                "runbook_url": f"{base}#{a.anchor}",
            },
        }
        for a in alerts_for(model, spec, settings)
    ]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": model, "namespace": namespace, "labels": rule_labels(settings, labels)},
        "spec": {"groups": [{"name": f"ml-serving.{model}", "rules": rules}]},
    }


# --- autoscaling ----------------------------------------------------------------------------------------------------


def uses_keda(spec: ModelSpec) -> bool:
    return has_autoscaler(spec) and spec.scaling.metric in KEDA_METRICS


def scaled_object(model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str]) -> Manifest | None:
    """A KEDA ScaledObject for models scaled on a Prometheus metric (cpu and memory: the HPA of workload.py)."""
    if not uses_keda(spec):
        return None
    scaling = spec.scaling
    signals = signals_for(model, spec, settings.environment.namespace)
    slow_start = spec.resources.gpu is not None
    to_zero = scaling.min_replicas == 0
    query = signals.scaling_signal(scaling.metric)
    target, min_replicas, max_replicas = model, scaling.min_replicas, scaling.max_replicas
    if capacity_placement.has_floor(spec, settings):
        # Spot with an on-demand floor: KEDA scales the spot Deployment on the load above what the floor carries.
        target = capacity_placement.spot_deployment_name(model)
        query = capacity_placement.spot_scaling_query(query, spec)
        min_replicas, max_replicas = 0, capacity_placement.spot_replicas(spec)
    triggers: list[Manifest] = [
        {
            "type": "prometheus",
            "name": scaling.metric,
            # AverageValue: the query is a sum over replicas; the HPA divides it by the replica count. Value (a
            # latency of the whole model): desired = ceil(current replicas x value / target).
            "metricType": "Value" if scaling.metric in WHOLE_MODEL_METRICS else "AverageValue",
            "metadata": {
                "serverAddress": prometheus_url(settings),
                "query": query,
                "threshold": f"{scaling_target(spec):g}",
                # No series is normal at zero replicas; otherwise it means a broken scrape, and an error makes KEDA
                # fall back (below) instead of scaling down on a missing signal.
                "ignoreNullValues": "true" if to_zero else "false",
            },
        }
    ]
    wake = settings.monitoring.wake_hours
    if to_zero and wake is not None:
        triggers.append(
            {
                "type": "cron",
                "name": "wake-hours",
                "metadata": {"timezone": wake.timezone, "start": wake.start, "end": wake.end, "desiredReplicas": "1"},
            }
        )
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        # KEDA reports Ready once it validated the triggers and created the HPA: a broken one fails `pulumi up`.
        "metadata": await_ready(
            {"name": model, "namespace": settings.environment.namespace, "labels": labels}, SCALED_OBJECT_READY_SECONDS
        ),
        "spec": {
            "scaleTargetRef": (
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}
                if target != model
                else lws.scale_target(model, spec)
            ),
            "minReplicaCount": min_replicas,
            "maxReplicaCount": max_replicas,
            "pollingInterval": 15,
            # Idle time before scaling to zero (only used when minReplicaCount is 0).
            "cooldownPeriod": 600 if slow_start else 300,
            "fallback": {
                "failureThreshold": 3,
                "replicas": max(min_replicas, 1),
                "behavior": "currentReplicasIfHigher",
            },
            "advanced": {
                # The HPA KEDA manages is named like the model's other objects (and like a cpu/memory HPA).
                "horizontalPodAutoscalerConfig": {"name": model, "behavior": scaling_behavior(slow_start)},
            },
            "triggers": triggers,
        },
    }


# --- the stack ------------------------------------------------------------------------------------------------------


def monitoring_namespace_manifest(settings: StackSettings) -> Manifest:
    """The monitoring namespace: Pod Security 'privileged' enforced (the documented exception of MANIFEST-RULES
    rule 1), 'restricted' audited so the audit log names every pod that needs the exception."""
    version = f"v{settings.cluster.kubernetes_version}"
    pss = {
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/enforce-version": version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": version,
    }
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": settings.monitoring.namespace,
            "labels": {**platform_labels("monitoring", settings.environment.labels), **pss},
            "annotations": {"ml-serving.dev/pod-security-exception": MONITORING_PSS_REASON},
        },
    }


def autoscaler_namespace_manifest(settings: StackSettings) -> Manifest:
    """KEDA's namespace: Pod Security 'restricted', like the models' (the KEDA chart's pods comply by default)."""
    return namespace_manifest(
        settings.monitoring.autoscaler_namespace,
        settings.cluster.kubernetes_version,
        platform_labels("autoscaling", settings.environment.labels),
    )


def grafana_admin_secret(settings: StackSettings, password: Any) -> Manifest:
    """Grafana's admin credentials. ``password`` is a secret Output (pulumi-random); it never enters chart values,
    so previews stay exact and the value stays out of the Helm release."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": GRAFANA_ADMIN_SECRET,
            "namespace": settings.monitoring.namespace,
            "labels": platform_labels("monitoring", settings.environment.labels),
        },
        "stringData": {GRAFANA_USER_KEY: GRAFANA_ADMIN_USER, GRAFANA_PASSWORD_KEY: password},
    }


def retention_size(storage: str) -> str:
    """Prometheus' retention.size for a volume: RETENTION_SIZE_SHARE of it, in Prometheus' (base-2) GB."""
    return f"{math.floor(byte_count(storage) * RETENTION_SIZE_SHARE / 2**30)}GB"


def kube_prometheus_stack_values(settings: StackSettings) -> dict[str, Any]:
    """Values of the kube-prometheus-stack chart. Only plain data: no Output may enter them (an unknown value makes
    every preview show the whole chart replaced)."""
    mon = settings.monitoring
    prometheus_spec: dict[str, Any] = {
        "replicas": mon.prometheus_replicas,
        "retention": mon.retention,
        # Select PodMonitors, ServiceMonitors and PrometheusRules in every namespace the operator watches (the release's
        # and the models'), not only those labelled for the release.
        "podMonitorSelectorNilUsesHelmValues": False,
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
        "probeSelectorNilUsesHelmValues": False,
    }
    if mon.storage is not None:
        claim: dict[str, Any] = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": mon.storage}},
        }
        if mon.storage_class is not None:
            claim["storageClassName"] = mon.storage_class
        prometheus_spec["storageSpec"] = {"volumeClaimTemplate": {"spec": claim}}
        prometheus_spec["retentionSize"] = retention_size(mon.storage)
    values: dict[str, Any] = {
        "fullnameOverride": monitoring_release(settings),
        # Once per cluster (docs/monitoring.md#shared-clusters): the CRDs, and node-exporter's host port on every node.
        "crds": {"enabled": mon.cluster_wide},
        "nodeExporter": {"enabled": mon.cluster_wide},
        "prometheusOperator": {
            # This stack's operator manages only this stack's namespaces: a second stack's operator in the same
            # cluster never reconciles (and fights over) this one's Prometheus, Alertmanager, monitors or rules.
            "namespaces": {"releaseNamespace": True, "additional": settings.model_namespaces},
            # The admission webhook's certificates come from Helm hook Jobs, which a Chart v4 does not run as hooks;
            # rules are validated offline instead (tests: CRD schema, PromQL parse). Its TLS needs those certificates.
            "admissionWebhooks": {"enabled": False},
            "tls": {"enabled": False},
        },
        "prometheus": {
            "prometheusSpec": prometheus_spec,
            "podDisruptionBudget": {"enabled": mon.prometheus_replicas >= 2, "minAvailable": 1},
        },
        "alertmanager": {
            "alertmanagerSpec": {"replicas": mon.alertmanager_replicas},
            "podDisruptionBudget": {"enabled": mon.alertmanager_replicas >= 2, "minAvailable": 1},
        },
        "grafana": {
            # The password lives in a Secret this stack creates; never in values (adminPassword stays unused).
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET,
                "userKey": GRAFANA_USER_KEY,
                "passwordKey": GRAFANA_PASSWORD_KEY,
            },
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": DASHBOARD_LABEL_KEY,
                    "labelValue": DASHBOARD_LABEL_VALUE,
                    # Dashboards are ConfigMaps in the monitoring namespace; the sidecar needs to watch only it.
                    "searchNamespace": mon.namespace,
                },
            },
            # The chart's test Pod is a Helm test hook; nothing runs `helm test` here.
            "testFramework": {"enabled": False},
            # A Role in the monitoring namespace instead of a ClusterRole reading every ConfigMap and Secret.
            "rbac": {"namespaced": True},
        },
        "kube-state-metrics": {"collectors": list(KUBE_STATE_METRICS_COLLECTORS)},
    }
    return values


def keda_values(settings: StackSettings) -> dict[str, Any]:
    """Values of the KEDA chart: its defaults are restricted-compliant; it installs its own CRDs. It reads no Secret
    outside its own namespace (the Prometheus and cron triggers need none). It watches every namespace: one KEDA
    serves every stack of the cluster (clusterWide), so `watchNamespace` cannot name one stack's."""
    return {
        "crds": {"install": True},
        "permissions": {"operator": {"restrict": {"secret": True}}},
    }


#: kube-state-metrics collectors: the chart's defaults without `secrets` (which would list every Secret of the
#: cluster). Nothing here alerts on Secrets.
KUBE_STATE_METRICS_COLLECTORS = (
    "certificatesigningrequests",
    "configmaps",
    "cronjobs",
    "daemonsets",
    "deployments",
    "endpoints",
    "horizontalpodautoscalers",
    "ingresses",
    "jobs",
    "leases",
    "limitranges",
    "mutatingwebhookconfigurations",
    "namespaces",
    "networkpolicies",
    "nodes",
    "persistentvolumeclaims",
    "persistentvolumes",
    "poddisruptionbudgets",
    "pods",
    "replicasets",
    "replicationcontrollers",
    "resourcequotas",
    "services",
    "statefulsets",
    "storageclasses",
    "validatingwebhookconfigurations",
    "volumeattachments",
)
#: Labels of KEDA's operator pods (the chart's `app: <operator.name>`): the only KEDA pods that query Prometheus.
KEDA_OPERATOR_POD_LABELS = {"app": "keda-operator"}
ALERTMANAGER_POD_LABELS = {"app.kubernetes.io/name": "alertmanager"}
#: Ports Prometheus scrapes on nodes: node-exporter (host network) and the kubelet (cAdvisor).
NODE_SCRAPE_PORTS = (9100, 10250)
#: Ports of KEDA's pods the API server calls: the metrics API server and the admission webhooks.
KEDA_API_PORTS = (6443, 9443)


def monitoring_network_policies(settings: StackSettings, with_autoscaler: bool) -> list[Manifest]:
    """The monitoring namespace: default deny, then DNS, the API, its own pods talking to each other, Prometheus
    scraping the models' namespace and the nodes, KEDA querying Prometheus, Alertmanager calling its receivers."""
    mon, net = settings.monitoring, settings.network
    labels = settings.environment.labels
    tcp = [{"protocol": "TCP", "port": port} for port in NODE_SCRAPE_PORTS]
    extra = [
        network_policy(
            "prometheus-scrape",
            mon.namespace,
            labels,
            PROMETHEUS_POD_LABELS,
            egress=[
                {"to": [namespace_peer(namespace) for namespace in settings.model_namespaces]},
                {"to": ip_peers(["0.0.0.0/0"]), "ports": tcp},
            ],
        ),
        network_policy(
            "alertmanager-receivers",
            mon.namespace,
            labels,
            ALERTMANAGER_POD_LABELS,
            egress=[{"to": ip_peers(["0.0.0.0/0"]), "ports": [{"protocol": "TCP", "port": 443}]}],
        ),
    ]
    if with_autoscaler:
        extra.append(
            network_policy(
                "prometheus-from-keda",
                mon.namespace,
                labels,
                PROMETHEUS_POD_LABELS,
                ingress=[
                    {
                        # The cluster's one KEDA: this stack's (clusterWide) or another stack's, whose namespace
                        # this stack does not know (then KEDA operator pods of any namespace).
                        "from": [
                            namespace_peer(mon.autoscaler_namespace, KEDA_OPERATOR_POD_LABELS)
                            if mon.cluster_wide and mon.autoscaler_namespace is not None
                            else {
                                "namespaceSelector": {},
                                "podSelector": {"matchLabels": dict(KEDA_OPERATOR_POD_LABELS)},
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": PROMETHEUS_PORT}],
                    }
                ],
            )
        )
    return platform_namespace_policies(mon.namespace, labels, net.api_server_cidrs, within_namespace=True, extra=extra)


def autoscaler_network_policies(settings: StackSettings) -> list[Manifest]:
    """KEDA's namespace: default deny, then DNS, the API, its operator and metrics server talking to each other,
    the API server calling its metrics API and webhooks, and the operator querying Prometheus."""
    mon, net = settings.monitoring, settings.network
    labels = settings.environment.labels
    extra = [
        network_policy(
            "from-kube-api",
            mon.autoscaler_namespace,
            labels,
            {},
            ingress=[
                {
                    "from": ip_peers(net.api_server_cidrs),
                    "ports": [{"protocol": "TCP", "port": port} for port in KEDA_API_PORTS],
                }
            ],
        ),
        network_policy(
            "to-prometheus",
            mon.autoscaler_namespace,
            labels,
            KEDA_OPERATOR_POD_LABELS,
            egress=[
                {
                    "to": [namespace_peer(mon.namespace, PROMETHEUS_POD_LABELS)],
                    "ports": [{"protocol": "TCP", "port": PROMETHEUS_PORT}],
                }
            ],
        ),
    ]
    return platform_namespace_policies(
        mon.autoscaler_namespace, labels, net.api_server_cidrs, within_namespace=True, extra=extra
    )


def dcgm_exporter_values(settings: StackSettings, accelerators: list[str]) -> dict[str, Any]:
    """Values of the DCGM exporter chart: a DaemonSet on exactly the GPU nodes the stack's models use (the node
    labels and taints come from the same table as the models' placement)."""
    terms, tolerations = [], []
    for accelerator in sorted(set(accelerators)):
        placement = gpu_placement(settings, accelerator)
        expressions = [
            {"key": key, "operator": "In", "values": [value]} for key, value in sorted(placement.node_selector.items())
        ]
        terms.append({"matchExpressions": expressions})
        tolerations += [dict(t) for t in placement.tolerations if dict(t) not in tolerations]
    return {
        "image": {"repository": pins.DCGM_EXPORTER_IMAGE_REPOSITORY, "tag": pins.DCGM_EXPORTER_IMAGE_TAG},
        "serviceMonitor": {
            "enabled": True,
            "interval": settings.monitoring.scrape_interval,
            # The exporter labels each GPU's series with the namespace and pod using it; honour them so they are
            # not renamed exported_namespace/exported_pod (the target's own labels name the exporter pod).
            "honorLabels": True,
        },
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}},
        "tolerations": tolerations,
    }
