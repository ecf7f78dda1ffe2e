"""Grafana dashboards: valid JSON, unique panel ids, only real series, and the panels each model needs."""

from __future__ import annotations

import json

import pytest

from components.dashboards import FLEET_UID, dashboard_config_map, fleet_dashboard, model_dashboard
from components.monitoring import metrics_for
from mlserve.render import validate
from platform_data.metrics import EXPORTERS
from tests.helpers import ROOT, STACKS, metric_names

ENVS = {stack: validate(ROOT, stack) for stack in STACKS}
ALL_MODELS = [(stack, model) for stack, env in ENVS.items() for model in env.models]
EXPORTED = frozenset().union(*(e.metrics for e in EXPORTERS.values()))


def shipped(stack: str, name: str | None = None) -> dict:
    """A dashboard as Grafana's sidecar reads it: the JSON file in its ConfigMap."""
    env = ENVS[stack]
    if name is None:
        dashboard, cm_name = fleet_dashboard(env.models, env.settings), FLEET_UID
    else:
        dashboard, cm_name = model_dashboard(name, env.models[name], env.settings), f"dashboard-{name}"
    config_map = dashboard_config_map(cm_name, dashboard, env.settings)
    (text,) = config_map["data"].values()
    return json.loads(text)


def titles(dashboard: dict) -> list[str]:
    return [p["title"] for p in dashboard["panels"]]


def queries(dashboard: dict) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


@pytest.mark.parametrize(("stack", "name"), ALL_MODELS + [(stack, None) for stack in STACKS])
def test_every_dashboard_is_valid_json_with_unique_panel_ids_and_non_overlapping_panels(stack, name):
    dashboard = shipped(stack, name)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    positions = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in dashboard["panels"]]
    assert len(positions) == len(set(positions))
    for panel in dashboard["panels"]:
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)) and refs, panel["title"]


@pytest.mark.parametrize(("stack", "name"), ALL_MODELS)
def test_every_dashboard_query_parses_and_reads_only_series_that_exist(stack, name):
    served = metrics_for(ENVS[stack].models[name]).exposes | EXPORTED
    for expr in queries(shipped(stack, name)):
        assert metric_names(expr) <= served, expr


@pytest.mark.parametrize("stack", STACKS)
def test_the_fleet_dashboards_queries_read_only_series_of_the_stacks_runtimes(stack):
    served = EXPORTED.union(*(metrics_for(s).exposes for s in ENVS[stack].models.values()))
    for expr in queries(shipped(stack)):
        assert metric_names(expr) <= served, expr


@pytest.mark.parametrize(("stack", "name"), ALL_MODELS)
def test_every_model_dashboard_shows_requests_errors_latency_and_replicas_vs_desired(stack, name):
    dashboard = shipped(stack, name)
    assert {"Requests per second", "Server errors", "Request latency", "Replicas: available vs desired"} <= set(
        titles(dashboard)
    )
    replicas = next(p for p in dashboard["panels"] if p["title"] == "Replicas: available vs desired")
    assert [t["legendFormat"] for t in replicas["targets"]][:2] == ["available", "desired"]


def test_latency_shows_percentiles_where_the_runtime_can_and_the_mean_for_torchserve():
    def legends(name: str) -> list[str]:
        panel = next(p for p in shipped("prod", name)["panels"] if p["title"] == "Request latency")
        return [t["legendFormat"] for t in panel["targets"]]

    assert legends("llama3-70b") == ["p50", "p90", "p99", "alert threshold"]
    assert legends("object-detector") == ["p50", "p90", "p99", "alert threshold"]
    assert legends("review-sentiment") == ["mean", "alert threshold"]


def test_kv_cache_and_queue_depth_appear_where_the_runtime_exposes_them():
    llm = shipped("prod", "llama3-70b")
    assert "KV-cache usage (fullest replica)" in titles(llm)
    load = next(p for p in llm["panels"] if p["title"] == "Requests in flight and queued")
    assert [t["legendFormat"] for t in load["targets"]] == ["in the server (executing + queued)", "queued"]
    triton = next(p for p in shipped("prod", "object-detector")["panels"] if p["title"].startswith("Requests in"))
    assert "nv_inference_pending_request_count" in triton["targets"][1]["expr"]
    tf = shipped("prod", "resnet50")
    assert "KV-cache usage (fullest replica)" not in titles(tf)
    assert len(next(p for p in tf["panels"] if p["title"].startswith("Requests in"))["targets"]) == 1


def test_gpu_panels_only_for_gpu_models():
    gpu_titles = {"GPU utilisation", "GPU memory used (fullest GPU)"}
    assert gpu_titles <= set(titles(shipped("prod", "object-detector")))
    assert not gpu_titles & set(titles(shipped("dev", "object-detector")))  # dev runs it on CPU
    assert not gpu_titles & set(titles(shipped("prod", "resnet50")))


def test_models_scaled_on_prometheus_show_their_signal_against_the_catalog_target():
    panel = next(p for p in shipped("prod", "review-sentiment")["panels"] if p["title"].startswith("Scaling signal"))
    assert panel["title"] == "Scaling signal per replica (requests-per-second)"
    assert panel["targets"][1] == {
        "refId": "B",
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "expr": "vector(40)",
        "legendFormat": "target",
    }
    assert not [t for t in titles(shipped("prod", "resnet50")) if t.startswith("Scaling signal")]


def test_the_fleet_overview_has_a_series_per_model_and_gpu_panels_only_with_gpu_models():
    prod = shipped("prod")
    requests = next(p for p in prod["panels"] if p["title"] == "Requests per second by model")
    assert [t["legendFormat"] for t in requests["targets"]] == sorted(ENVS["prod"].models)
    by_node = next(p for p in prod["panels"] if p["title"] == "GPU utilisation by node")
    assert '"Hostname"' in by_node["targets"][0]["expr"] and '"hostname"' in by_node["targets"][0]["expr"]
    assert "Firing alerts" in titles(prod)
    assert not [t for t in titles(shipped("dev")) if t.startswith("GPU")]


def test_dashboards_ship_as_config_maps_the_grafana_sidecar_picks_up():
    env = ENVS["prod"]
    config_map = dashboard_config_map(
        "dashboard-resnet50", model_dashboard("resnet50", env.models["resnet50"], env.settings), env.settings
    )
    assert config_map["metadata"]["namespace"] == "ml-prod-monitoring"
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert list(config_map["data"]) == ["resnet50.json"]
