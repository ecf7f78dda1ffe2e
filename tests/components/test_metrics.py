"""The metric table: every runtime has a row, every expression parses and names only series that exist."""

from __future__ import annotations

import importlib.util

import pytest

from platform_data import metrics as table
from platform_data.runtimes import RUNTIMES, TRITON_SUMMARY_QUANTILES
from tests.helpers import ROOT, metric_names

PLACEHOLDERS = {
    "sel": 'namespace="ns",ml_model="m"',
    "pods": 'namespace="ns",pod=~"m-[a-z0-9]+-[a-z0-9]+"',
    "deploy": 'namespace="ns",deployment="m"',
    "ns": 'namespace="ns"',
    "w": "5m",
    "q": "0.99",
}
EXPORTED = frozenset().union(*(e.metrics for e in table.EXPORTERS.values()))
ROWS = {**table.RUNTIME_METRICS, "custom": table.custom_metrics(request_labels={"path": "/predict"})}


def templates(row: table.RuntimeMetrics) -> list[str]:
    fields = ("requests", "errors", "latency_mean", "in_flight", "latency_quantile", "queue_depth", "kv_cache_usage")
    found = [getattr(row, f) for f in fields] + [row.gpu_memory_pressure] + [g.expr for g in row.extra_graphs]
    return [t for t in found if t is not None]


PLATFORM_TEMPLATES = [
    table.TARGETS_UP,
    table.REPLICAS_DESIRED,
    table.REPLICAS_AVAILABLE,
    table.REPLICAS_UNAVAILABLE,
    table.CRASH_LOOPING,
    table.CONTAINER_RESTARTS,
    table.MEMORY_USED_RATIO,
    table.CPU_CORES_USED,
    table.GPU_UTILIZATION,
    table.GPU_UTILIZATION_SUM_OF_REPLICAS,
    table.GPU_MEMORY_USED_RATIO,
    table.GPU_UTILIZATION_BY_NODE,
    table.FIRING_ALERTS,
]


def test_every_runtime_preset_has_a_row_of_the_metric_table():
    assert set(ROWS) == set(RUNTIMES)


@pytest.mark.parametrize("runtime", sorted(ROWS))
def test_every_runtime_expression_parses_and_names_only_series_the_runtime_or_an_exporter_serves(runtime):
    row = ROWS[runtime]
    for template in templates(row):
        expr = table.fill(template, **PLACEHOLDERS)
        assert "{" + "sel}" not in expr and "{w}" not in expr, expr
        unknown = metric_names(expr) - row.exposes - EXPORTED
        assert not unknown, f"{runtime}: {expr} reads {unknown}"


def test_platform_expressions_parse_and_name_only_exporter_series():
    for template in PLATFORM_TEMPLATES:
        expr = table.fill(template, **PLACEHOLDERS)
        assert metric_names(expr) <= EXPORTED, expr


def test_pod_level_series_are_filtered_to_the_server_container_the_workload_names():
    from components.workload import pod_template
    from tests.helpers import settings, spec

    pod = pod_template("m", spec(), "img", settings(), {})
    assert [c["name"] for c in pod["spec"]["containers"]] == [table.SERVER_CONTAINER]
    for template in (table.CONTAINER_RESTARTS, table.MEMORY_USED_RATIO, table.CPU_CORES_USED):
        assert f'container="{table.SERVER_CONTAINER}"' in template


def test_vllm_reads_the_kv_cache_metric_not_the_removed_gpu_cache_one():
    row = table.RUNTIME_METRICS["vllm"]
    assert "vllm:kv_cache_usage_perc" in row.kv_cache_usage
    assert all("gpu_cache_usage_perc" not in t for t in templates(row))
    assert "vllm:num_requests_waiting" in row.queue_depth and "vllm:num_requests_waiting" in row.in_flight


def test_triton_latency_quantiles_are_the_ones_its_runtime_args_turn_on():
    row = table.RUNTIME_METRICS["triton"]
    args = RUNTIMES["triton"].args
    assert "--metrics-config=summary_latencies=true" in args
    configured = next(a for a in args if a.startswith("--metrics-config=summary_quantiles="))
    assert [float(pair.split(":")[0]) for pair in configured.split("=", 2)[2].split(",")] == list(row.latency_quantiles)
    assert row.can_answer(0.99) and not row.can_answer(0.95)
    assert row.latency_quantiles == tuple(q for q, _ in TRITON_SUMMARY_QUANTILES)


def test_torchserve_has_no_latency_histogram_so_only_a_mean():
    row = table.RUNTIME_METRICS["torchserve"]
    assert row.latency_quantile is None and not row.can_answer(0.99)
    assert "ts_inference_latency_microseconds" in row.latency_mean


def churn_predictor_exposition() -> str:
    """What images/churn-predictor/app.py serves on /metrics after one prediction."""
    path = ROOT / "images" / "churn-predictor" / "app.py"
    module_spec = importlib.util.spec_from_file_location("churn_app", path)
    app = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(app)
    exported = app.Metrics()
    exported.observe("/predict", 200, 0.004)
    return exported.render()


def test_custom_defaults_are_the_series_the_churn_predictor_actually_serves():
    lines = [line for line in churn_predictor_exposition().splitlines() if line and not line.startswith("#")]
    served = {line.split("{")[0].split(" ")[0] for line in lines}
    default_row = table.custom_metrics()
    assert default_row.exposes <= served, default_row.exposes - served
    assert f'{table.CUSTOM_STATUS_LABEL}="200"' in churn_predictor_exposition()


def test_a_custom_server_gets_queries_on_the_names_it_declares():
    row = table.custom_metrics(
        requests_total="app_calls_total",
        status_label="status",
        error_status="5..|429",
        request_labels={"route": 'say "hi"'},
        latency_histogram="app_call_seconds",
        in_flight=None,
    )
    requests = table.fill(row.requests, **PLACEHOLDERS)
    errors = table.fill(row.errors, **PLACEHOLDERS)
    assert metric_names(requests) == {"app_calls_total"} and 'route="say \\"hi\\""' in requests
    assert 'status=~"5..|429"' in errors
    # no in-flight gauge: Little's law on the histogram's sum
    assert metric_names(table.fill(row.in_flight, **PLACEHOLDERS)) == {"app_call_seconds_sum"}
    assert row.exposes == {
        "app_calls_total",
        "app_call_seconds_bucket",
        "app_call_seconds_sum",
        "app_call_seconds_count",
    }
