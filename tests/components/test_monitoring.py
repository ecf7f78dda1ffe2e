"""Per-model scraping, alert rules and autoscalers, and the monitoring stack's chart values (pure builders)."""

from __future__ import annotations

import json

import pytest

from components.labels import model_labels
from components.monitoring import (
    GRAFANA_PASSWORD_KEY,
    GRAFANA_USER_KEY,
    alerts_for,
    autoscaler_namespace_manifest,
    dcgm_exporter_values,
    grafana_admin_secret,
    kube_prometheus_stack_values,
    metrics_for,
    monitoring_namespace_manifest,
    pod_monitor,
    prometheus_rule,
    scaled_object,
)
from components.workload import build_model_objects, deployment_timeout_seconds
from mlserve.manifest_checks import validate_custom_resource
from mlserve.render import validate
from platform_data.accelerators import ACCELERATOR_LABEL
from platform_data.metrics import EXPORTERS, MODEL_LABEL
from tests.helpers import ROOT, STACKS, metric_names, settings, spec

ENVS = {stack: validate(ROOT, stack) for stack in STACKS}
ALL_MODELS = [(stack, model) for stack, env in ENVS.items() for model in env.models]
EXPORTED = frozenset().union(*(e.metrics for e in EXPORTERS.values()))


def model(stack: str, name: str):
    env = ENVS[stack]
    return env.models[name], env.settings


def labels(name: str, model_spec) -> dict[str, str]:
    return model_labels(name, model_spec.runtime)


def by_name(stack: str, name: str) -> dict:
    model_spec, stack_settings = model(stack, name)
    return {a.name: a for a in alerts_for(name, model_spec, stack_settings)}


# --- scraping -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "port", "path"),
    [
        ("resnet50", "http", "/monitoring/prometheus/metrics"),
        ("object-detector", "metrics", "/metrics"),
        ("llama3-70b", "http", "/metrics"),
        ("review-sentiment", "metrics", "/metrics"),
        ("churn-predictor", "http", "/metrics"),
    ],
)
def test_each_model_is_scraped_on_its_runtimes_metrics_port_and_path(name, port, path):
    model_spec, stack_settings = model("prod", name)
    (endpoint,) = pod_monitor(name, model_spec, stack_settings, {})["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == (port, path)
    container = build_model_objects(name, model_spec, "img", stack_settings).deployment["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert port in {p["name"] for p in container["ports"]}


def test_the_pod_monitor_selects_only_the_models_pods_and_labels_their_series_with_the_model():
    model_spec, stack_settings = model("prod", "resnet50")
    monitor = pod_monitor("resnet50", model_spec, stack_settings, {})
    assert monitor["spec"]["selector"] == {"matchLabels": {"ml-serving.dev/model": "resnet50"}}
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["ml-prod"]}
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["relabelings"] == [{"action": "replace", "targetLabel": MODEL_LABEL, "replacement": "resnet50"}]
    assert endpoint["interval"] == stack_settings.monitoring.scrape_interval


def test_a_custom_server_with_a_separate_metrics_port_is_scraped_there():
    custom = spec(
        runtime="custom",
        image={"ref": "registry.example.com/app:1"},
        weights={"baked": True},
        server={"port": 8080, "metricsPort": 9090, "metricsPath": "/prom"},
    )
    (endpoint,) = pod_monitor("app", custom, settings(), {})["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/prom")


# --- alerts ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "name"), ALL_MODELS)
def test_every_model_has_at_least_six_alerts_each_with_severity_summary_and_runbook(stack, name):
    model_spec, stack_settings = model(stack, name)
    (group,) = prometheus_rule(name, model_spec, stack_settings, {})["spec"]["groups"]
    assert len(group["rules"]) >= 6
    for rule in group["rules"]:
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["labels"]["model"] == name
        assert rule["annotations"]["summary"].startswith(f"{name}: ")
        assert rule["annotations"]["runbook_url"] == f"docs/runbooks.md#{rule['alert'].lower()}"


@pytest.mark.parametrize(("stack", "name"), ALL_MODELS)
def test_every_alert_parses_and_reads_only_series_the_runtime_or_an_exporter_serves(stack, name):
    model_spec, stack_settings = model(stack, name)
    served = metrics_for(model_spec).exposes | EXPORTED
    for alert in alerts_for(name, model_spec, stack_settings):
        assert metric_names(alert.expr) <= served, (alert.name, alert.expr)


def test_model_down_is_the_seeds_alert_no_serving_replica_for_one_minute():
    down = by_name("prod", "resnet50")["ModelDown"]
    assert (down.severity, down.for_) == ("critical", "1m")
    assert metric_names(down.expr) == {"kube_deployment_spec_replicas", "up"}
    # only while replicas are wanted: a model scaled to zero is not down
    assert 'kube_deployment_spec_replicas{namespace="ml-prod",deployment="resnet50"}) > 0' in down.expr


def test_the_core_alerts_apply_to_every_model_and_the_rest_only_where_they_mean_something():
    core = {
        "ModelDown",
        "ModelHighErrorRate",
        "ModelHighLatency",
        "ModelCrashLooping",
        "ModelReplicasUnavailable",
        "ModelMemoryNearLimit",
    }
    assert set(by_name("prod", "resnet50")) == core | {"ModelReplicasAtMax"}
    assert set(by_name("prod", "llama3-70b")) == core | {"ModelReplicasAtMax", "ModelGpuMemoryNearFull"}
    # fixed size in dev (1..1): nothing to pin at a maximum; CPU only: no GPU memory
    assert set(by_name("dev", "churn-predictor")) == core


def test_replicas_at_max_compares_the_desired_replicas_with_the_catalog_maximum():
    assert by_name("prod", "review-sentiment")["ModelReplicasAtMax"].expr.endswith(" >= 10")


def test_a_model_scaling_only_between_zero_and_one_is_not_pinned_at_max_whenever_it_is_awake():
    assert "ModelReplicasAtMax" not in by_name("dev", "review-sentiment")  # 0..1 in dev
    assert len(by_name("dev", "review-sentiment")) >= 6


def test_a_model_that_may_scale_to_zero_is_down_only_after_its_worst_case_start_up():
    model_spec, _ = model("dev", "review-sentiment")
    minutes = int(by_name("dev", "review-sentiment")["ModelDown"].for_.removesuffix("m"))
    assert minutes * 60 >= deployment_timeout_seconds(model_spec)
    assert by_name("prod", "review-sentiment")["ModelDown"].for_ == "1m"


def test_gpu_memory_alert_watches_dcgm_frame_buffers_but_the_kv_cache_for_vllm():
    assert metric_names(by_name("prod", "object-detector")["ModelGpuMemoryNearFull"].expr) == {
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_FREE",
    }
    assert metric_names(by_name("prod", "llama3-70b")["ModelGpuMemoryNearFull"].expr) == {"vllm:kv_cache_usage_perc"}


@pytest.mark.parametrize(
    ("name", "reads", "statistic"),
    [
        ("resnet50", ":tensorflow:serving:request_latency_bucket", "p99"),
        ("object-detector", "nv_inference_request_summary_us", "p99"),
        ("llama3-70b", "vllm:e2e_request_latency_seconds_bucket", "p99"),
        ("churn-predictor", "http_request_duration_seconds_bucket", "p99"),
        ("review-sentiment", "ts_inference_latency_microseconds", "mean"),
    ],
)
def test_latency_alert_is_p99_where_the_runtime_can_tell_and_the_mean_otherwise(name, reads, statistic):
    latency = by_name("prod", name)["ModelHighLatency"]
    assert reads in metric_names(latency.expr)
    assert f": {statistic} latency above" in latency.summary


def test_alert_thresholds_come_from_the_catalog_with_documented_defaults():
    default = {a.name: a for a in alerts_for("m", spec(maxRequestSeconds=10), settings())}
    assert default["ModelHighLatency"].expr.endswith(" > 5")
    assert default["ModelHighErrorRate"].expr.endswith(" > 0.05")
    tuned = {
        a.name: a for a in alerts_for("m", spec(alerts={"latencySeconds": 0.25, "errorRatePercent": 1}), settings())
    }
    assert tuned["ModelHighLatency"].expr.endswith(" > 0.25")
    assert tuned["ModelHighErrorRate"].expr.endswith(" > 0.01")


def test_unavailable_replicas_alert_only_after_the_worst_case_start_up():
    model_spec, _ = model("prod", "llama3-70b")
    minutes = int(by_name("prod", "llama3-70b")["ModelReplicasUnavailable"].for_.removesuffix("m"))
    assert minutes * 60 >= deployment_timeout_seconds(model_spec) > 900


# --- autoscaling ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "name"), ALL_MODELS)
def test_every_autoscaled_model_gets_exactly_one_autoscaler_and_a_fixed_size_model_none(stack, name):
    model_spec, stack_settings = model(stack, name)
    objects = build_model_objects(name, model_spec, "img", stack_settings)
    autoscalers = [o for o in (objects.hpa, scaled_object(name, model_spec, stack_settings, {})) if o is not None]
    autoscaled = model_spec.scaling.min_replicas != model_spec.scaling.max_replicas
    assert len(autoscalers) == (1 if autoscaled else 0)
    # the Deployment always states its replicas (never released under server-side apply): the fixed size, or the
    # count at creation that the autoscaler then owns (ModelService ignores later changes to it)
    expected = max(model_spec.scaling.min_replicas, 1) if autoscaled else model_spec.scaling.min_replicas
    assert objects.deployment["spec"]["replicas"] == expected


@pytest.mark.parametrize(
    ("name", "reads"),
    [
        ("llama3-70b", {"vllm:num_requests_running", "vllm:num_requests_waiting"}),
        ("object-detector", {"nv_inference_request_duration_us"}),
    ],
)
def test_concurrency_scaling_reads_the_runtimes_own_load_metrics_against_the_catalog_target(name, reads):
    model_spec, stack_settings = model("prod", name)
    (trigger,) = scaled_object(name, model_spec, stack_settings, {})["spec"]["triggers"]
    assert (trigger["type"], trigger["name"], trigger["metricType"]) == ("prometheus", "concurrency", "AverageValue")
    assert metric_names(trigger["metadata"]["query"]) == reads
    assert trigger["metadata"]["threshold"] == f"{model_spec.scaling.target:g}"
    assert (
        trigger["metadata"]["serverAddress"]
        == "http://ml-prod-monitoring-prometheus.ml-prod-monitoring.svc.cluster.local:9090"
    )


def test_requests_per_second_scaling_reads_the_request_counter_per_replica():
    model_spec, stack_settings = model("prod", "review-sentiment")
    so = scaled_object("review-sentiment", model_spec, stack_settings, {})["spec"]
    (trigger,) = so["triggers"]
    assert trigger["metadata"]["query"] == (
        'sum(rate(ts_inference_requests_total{namespace="ml-prod",ml_model="review-sentiment"}[1m]))'
    )
    assert trigger["metadata"]["threshold"] == "40"
    assert (so["minReplicaCount"], so["maxReplicaCount"]) == (2, 10)


def test_gpu_utilization_scaling_averages_each_replicas_gpus_then_sums_over_replicas():
    gpu_model = spec(
        runtime="triton",
        resources={"cpu": "4", "memory": "16Gi", "gpu": {"accelerator": "nvidia-l4", "count": 2}},
        scaling={"minReplicas": 1, "maxReplicas": 3, "metric": "gpu-utilization"},
    )
    (trigger,) = scaled_object("det", gpu_model, settings(), {})["spec"]["triggers"]
    assert trigger["metadata"]["query"] == (
        'sum(avg by (pod) (DCGM_FI_DEV_GPU_UTIL{namespace="ml-test",pod=~"det-[a-z0-9]+-[a-z0-9]+"}))'
    )
    assert trigger["metadata"]["threshold"] == "80"


def test_cpu_and_memory_stay_with_the_hpa():
    model_spec, stack_settings = model("prod", "resnet50")
    assert scaled_object("resnet50", model_spec, stack_settings, {}) is None
    assert build_model_objects("resnet50", model_spec, "img", stack_settings).hpa is not None


def test_dev_scales_to_zero_where_the_catalog_allows_it_and_wakes_on_the_stacks_schedule():
    model_spec, stack_settings = model("dev", "review-sentiment")
    so = scaled_object("review-sentiment", model_spec, stack_settings, {})["spec"]
    assert so["minReplicaCount"] == 0
    requests, wake = so["triggers"]
    assert requests["metadata"]["ignoreNullValues"] == "true"  # no series at zero replicas is normal
    assert wake == {
        "type": "cron",
        "name": "wake-hours",
        "metadata": {
            "timezone": "Europe/Dublin",
            "start": "0 8 * * 1-5",
            "end": "0 19 * * 1-5",
            "desiredReplicas": "1",
        },
    }


def test_a_model_that_keeps_replicas_treats_a_missing_signal_as_an_error_and_keeps_its_replicas():
    model_spec, stack_settings = model("prod", "llama3-70b")
    so = scaled_object("llama3-70b", model_spec, stack_settings, {})["spec"]
    assert so["triggers"][0]["metadata"]["ignoreNullValues"] == "false"
    assert so["fallback"] == {"failureThreshold": 3, "replicas": 2, "behavior": "currentReplicasIfHigher"}


def test_keda_runs_an_hpa_named_like_the_model_that_scales_down_slowly_for_gpu_models():
    model_spec, stack_settings = model("prod", "llama3-70b")
    hpa_config = scaled_object("llama3-70b", model_spec, stack_settings, {})["spec"]["advanced"][
        "horizontalPodAutoscalerConfig"
    ]
    assert hpa_config["name"] == "llama3-70b"
    assert hpa_config["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 600


@pytest.mark.parametrize(("stack", "name"), ALL_MODELS)
def test_monitor_rule_and_scaler_validate_against_the_upstream_crds(stack, name, crds):
    model_spec, stack_settings = model(stack, name)
    objects = [
        pod_monitor(name, model_spec, stack_settings, labels(name, model_spec)),
        prometheus_rule(name, model_spec, stack_settings, labels(name, model_spec)),
        scaled_object(name, model_spec, stack_settings, labels(name, model_spec)),
    ]
    for obj in filter(None, objects):
        assert validate_custom_resource(json.loads(json.dumps(obj)), crds) == [], obj["kind"]


# --- the stack ------------------------------------------------------------------------------------------------------


def walk_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in walk_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in walk_keys(v)}
    return set()


def test_grafana_reads_its_admin_password_from_a_secret_never_from_chart_values():
    stack_settings = ENVS["prod"].settings
    values = kube_prometheus_stack_values(stack_settings)
    admin = values["grafana"]["admin"]
    assert "adminPassword" not in walk_keys(values)
    secret = grafana_admin_secret(stack_settings, password=object())
    assert secret["metadata"]["name"] == admin["existingSecret"]
    assert secret["metadata"]["namespace"] == "ml-prod-monitoring"
    assert (
        set(secret["stringData"])
        == {admin["userKey"], admin["passwordKey"]}
        == {GRAFANA_USER_KEY, GRAFANA_PASSWORD_KEY}
    )


def test_grafanas_dashboard_sidecar_is_on_and_watches_the_monitoring_namespace():
    sidecar = kube_prometheus_stack_values(ENVS["dev"].settings)["grafana"]["sidecar"]["dashboards"]
    assert sidecar == {
        "enabled": True,
        "label": "grafana_dashboard",
        "labelValue": "1",
        "searchNamespace": "ml-dev-monitoring",
    }


def test_prometheus_retention_storage_and_replicas_come_from_the_stack():
    prod = kube_prometheus_stack_values(ENVS["prod"].settings)
    spec_ = prod["prometheus"]["prometheusSpec"]
    assert (spec_["replicas"], spec_["retention"], spec_["retentionSize"]) == (2, "30d", "170GB")
    claim = spec_["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["resources"]["requests"]["storage"] == "200Gi" and "storageClassName" not in claim
    assert prod["alertmanager"]["alertmanagerSpec"]["replicas"] == 3
    assert (
        prod["prometheus"]["podDisruptionBudget"]["enabled"] and prod["alertmanager"]["podDisruptionBudget"]["enabled"]
    )
    dev = kube_prometheus_stack_values(ENVS["dev"].settings)
    assert "storageSpec" not in dev["prometheus"]["prometheusSpec"]
    assert dev["prometheus"]["prometheusSpec"]["retention"] == "2d"
    assert not dev["prometheus"]["podDisruptionBudget"]["enabled"]


def test_prometheus_picks_up_monitors_and_rules_from_every_namespace():
    spec_ = kube_prometheus_stack_values(settings())["prometheus"]["prometheusSpec"]
    for kind in ("podMonitor", "serviceMonitor", "rule"):
        assert spec_[f"{kind}SelectorNilUsesHelmValues"] is False


def test_the_operators_admission_webhook_and_its_tls_are_off_because_chart_v4_runs_no_hooks():
    operator = kube_prometheus_stack_values(settings())["prometheusOperator"]
    assert operator == {
        "admissionWebhooks": {"enabled": False},
        "tls": {"enabled": False},
        "namespaces": {"releaseNamespace": True, "additional": ["ml-test"]},
    }


def test_the_monitoring_namespace_enforces_privileged_audits_restricted_and_says_why():
    ns = monitoring_namespace_manifest(ENVS["prod"].settings)["metadata"]
    assert ns["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert ns["labels"]["pod-security.kubernetes.io/audit"] == "restricted"
    assert ns["labels"]["pod-security.kubernetes.io/enforce-version"] == "v1.33"
    assert "node-exporter" in ns["annotations"]["ml-serving.dev/pod-security-exception"]


def test_kedas_namespace_is_restricted_like_the_models():
    ns = autoscaler_namespace_manifest(ENVS["prod"].settings)["metadata"]
    assert ns["name"] == "ml-prod-keda" and ns["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_dcgm_exporter_runs_on_the_gpu_nodes_the_models_use_and_keeps_their_pod_labels():
    stack_settings = ENVS["prod"].settings
    values = dcgm_exporter_values(stack_settings, ["nvidia-l4", "nvidia-h100", "nvidia-l4"])
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [
        {"matchExpressions": [{"key": ACCELERATOR_LABEL, "operator": "In", "values": ["nvidia-h100"]}]},
        {"matchExpressions": [{"key": ACCELERATOR_LABEL, "operator": "In", "values": ["nvidia-l4"]}]},
    ]
    assert values["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert values["serviceMonitor"]["honorLabels"] is True
    assert "@sha256:" in values["image"]["tag"]
