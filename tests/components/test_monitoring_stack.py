"""The monitoring stack and each model's monitoring, as the real program registers them under Pulumi mocks."""

from __future__ import annotations

import json

import pytest
import yaml

from components.monitoring import KEDA_METRICS
from mlserve import mock_runtime
from mlserve.render import render, run_stack
from platform_data import pins
from tests.helpers import ROOT, render_objects, run_catalog

CHART = "kubernetes:helm.sh/v4:Chart"
PASSWORD = "random:index/randomPassword:RandomPassword"

CPU_ONLY = """
models:
  tagger:
    runtime: tensorflow-serving
    weights: {uri: "s3://bucket/tagger/", sizeGiB: 1}
    resources: {cpu: "2", memory: 4Gi}
    scaling: {minReplicas: 1, maxReplicas: 3, metric: cpu}
"""


@pytest.fixture(scope="module")
def prod():
    return run_stack(ROOT, "prod")


def charts(run) -> dict[str, dict]:
    return {r.name: r.inputs for r in run.registrations if r.type == CHART}


def registration(run, name: str):
    return next(r for r in run.registrations if r.name == name)


def test_prod_has_the_monitoring_stack_and_per_model_scraping_rules_dashboard_and_autoscaler(prod):
    monitoring_charts = {name for name in charts(prod) if name.startswith("monitoring-")}
    assert monitoring_charts == {"monitoring-kube-prometheus-stack", "monitoring-dcgm-exporter", "monitoring-keda"}
    objects = render_objects(prod)
    env = prod.environment
    for model, spec in env.models.items():
        assert objects[("PodMonitor", model)]["metadata"]["namespace"] == "ml-prod"
        (group,) = objects[("PrometheusRule", model)]["spec"]["groups"]
        assert len(group["rules"]) >= 6
        assert objects[("ConfigMap", f"dashboard-{model}")]["metadata"]["labels"]["grafana_dashboard"] == "1"
        metric = spec.scaling.metric
        if metric in KEDA_METRICS:
            assert [t["name"] for t in objects[("ScaledObject", model)]["spec"]["triggers"]] == [metric]
        else:
            hpa = objects[("HorizontalPodAutoscaler", model)]
            assert hpa["spec"]["metrics"][0]["resource"]["name"] == metric
    assert ("ConfigMap", "ml-serving-overview") in objects


@pytest.mark.parametrize(
    ("name", "pin", "release", "namespace"),
    [
        ("monitoring-kube-prometheus-stack", pins.KUBE_PROMETHEUS_STACK, "ml-prod-monitoring", "ml-prod-monitoring"),
        ("monitoring-keda", pins.KEDA, "keda", "ml-prod-keda"),
        ("monitoring-dcgm-exporter", pins.DCGM_EXPORTER, "ml-prod-dcgm-exporter", "ml-prod-monitoring"),
    ],
)
def test_charts_are_pinned_helm_v4_charts_installed_without_hooks(prod, name, pin, release, namespace):
    chart = charts(prod)[name]
    assert (chart["chart"], chart["version"], chart["repositoryOpts"]["repo"]) == (pin.name, pin.version, pin.repo)
    # per-stack release names (docs/monitoring.md#shared-clusters); KEDA exists once per cluster
    assert (chart["name"], chart["namespace"], chart["includeHooks"]) == (release, namespace, False)


def test_the_grafana_password_is_generated_and_never_appears_in_plain_text(tmp_path, monkeypatch):
    canary = "Canary0Password0That0Must0Never0Leak"
    monkeypatch.setitem(
        mock_runtime.COMPUTED_OUTPUTS, PASSWORD, lambda inputs: {"result": canary, "bcryptHash": "$2a$canary"}
    )
    render(ROOT, "prod", tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert canary not in path.read_text(encoding="utf-8"), path
    resources = json.loads((tmp_path / "resources.json").read_text())["resources"]
    generator = next(r for r in resources if r["type"] == PASSWORD)
    assert generator["inputs"] == {"length": 32, "special": False}
    secret = next(r for r in resources if r["name"] == "monitoring-grafana-admin")
    # A Kubernetes object's content is its manifest; resources.json points at it instead of repeating it.
    assert "inputs" not in secret
    manifest = yaml.safe_load((tmp_path / secret["manifest"]).read_text(encoding="utf-8"))
    # A known secret value is masked where it sits: the keys stay, every value is "[secret]".
    assert manifest["stringData"] == {"admin-password": "[secret]", "admin-user": "[secret]"}
    kps = next(r for r in resources if r["name"] == "monitoring-kube-prometheus-stack")
    assert kps["inputs"]["values"]["grafana"]["admin"]["existingSecret"] == "grafana-admin"


def test_offline_the_password_is_a_masked_placeholder_rather_than_invented(prod):
    (generator,) = [r for r in prod.registrations if r.type == PASSWORD]
    result = mock_runtime.COMPUTED_OUTPUTS[PASSWORD](generator.inputs)["result"]
    assert result == {mock_runtime.SECRET_SIG: mock_runtime.SECRET_MARK, "value": mock_runtime.GENERATED_PLACEHOLDER}
    # The Secret keeps its keys (a valid object), every value masked.
    assert render_objects(prod)[("Secret", "grafana-admin")]["stringData"] == {
        "admin-password": "[secret]",
        "admin-user": "[secret]",
    }


def test_monitors_and_rules_wait_for_the_operator_and_scalers_for_keda_and_the_deployment(prod):
    operator = registration(prod, "monitoring-kube-prometheus-stack").urn
    keda = registration(prod, "monitoring-keda").urn
    assert operator in registration(prod, "llama3-70b-pod-monitor").dependencies
    assert operator in registration(prod, "llama3-70b-alert-rules").dependencies
    scaler = registration(prod, "llama3-70b-scaled-object")
    assert {keda, registration(prod, "llama3-70b-deployment").urn} <= set(scaler.dependencies)
    assert registration(prod, "monitoring-dcgm-exporter").dependencies == [operator]


def test_each_models_monitoring_is_one_component_named_after_the_model(prod):
    component = registration(prod, "resnet50-pod-monitor").parent
    assert component == "urn:pulumi:prod::ml-serving::ml-serving:monitoring:ModelMonitoring::resnet50"
    children = {r.name for r in prod.registrations if r.parent == component}
    assert children == {"resnet50-pod-monitor", "resnet50-alert-rules", "resnet50-dashboard"}


def test_the_dcgm_exporter_comes_only_with_gpu_models():
    dev = run_stack(ROOT, "dev")  # dev runs every model on CPU
    assert "monitoring-dcgm-exporter" not in charts(dev)
    assert "monitoring-keda" in charts(dev)  # review-sentiment scales on requests per second


def test_keda_comes_only_when_a_model_scales_on_a_prometheus_metric(tmp_path):
    run = run_catalog(tmp_path, CPU_ONLY, monitoring={"enabled": True})
    assert set(charts(run)) == {"monitoring-kube-prometheus-stack"}
    assert ("Namespace", "ml-test-keda") not in render_objects(run)
    assert ("HorizontalPodAutoscaler", "tagger") in render_objects(run)


def test_with_monitoring_off_nothing_of_it_is_registered(tmp_path):
    run = run_catalog(tmp_path, CPU_ONLY)
    assert not [r for r in run.registrations if r.type.startswith("ml-serving:monitoring") or r.type == CHART]
    assert "monitoring" not in run.outputs


def test_chart_rbac_is_narrowed_in_the_values():
    from components.monitoring import keda_values, kube_prometheus_stack_values
    from tests.helpers import settings as make_settings

    s = make_settings(monitoring={"enabled": True})
    keda = keda_values(s)
    assert "watchNamespace" not in keda  # one KEDA per cluster serves every stack
    assert keda["permissions"] == {"operator": {"restrict": {"secret": True}}}
    values = kube_prometheus_stack_values(s)
    assert values["grafana"]["rbac"] == {"namespaced": True}
    assert "secrets" not in values["kube-state-metrics"]["collectors"]
    assert {"pods", "deployments", "nodes"} <= set(values["kube-state-metrics"]["collectors"])
