"""`mlserve forecast --prometheus` against a real Prometheus (Debian's package) on loopback.

The TSDB is backfilled with ``promtool tsdb create-blocks-from openmetrics`` from four weeks of synthetic hourly
traffic, under the counter names and labels the metric table's queries read. Without prometheus/promtool these tests
skip locally; under CI=true (.ci/run installs the package) they fail instead.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from components.monitoring import signals_for
from forecasting import local_prometheus
from forecasting.history import HOUR, WEEK_HOURS, clean
from forecasting.prometheus import PrometheusClient
from forecasting.synthetic import synthetic_rates
from mlserve.__main__ import main
from mlserve.render import validate
from tests.helpers import ROOT

HOURS = 4 * WEEK_HOURS
RESET_AT = 400


def _require_prometheus() -> None:
    try:
        local_prometheus.binaries()
    except local_prometheus.PrometheusMissingError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc}; CI must install it (.ci/run does)")
        pytest.skip(f"{exc}; .ci/run installs it")


@pytest.fixture(scope="module")
def prometheus():
    _require_prometheus()
    env = validate(ROOT, "dev")
    end_hour = int(time.time()) // HOUR
    series = {}
    backfills = []
    for model, level in (("review-sentiment", 60.0), ("resnet50", 25.0)):  # object-detector gets no data
        series[model] = synthetic_rates(end_hour - HOURS, HOURS, level=level, seed=11)
        query = signals_for(model, env.models[model], env.settings.environment.namespace).requests(window="1h")
        backfills.append(local_prometheus.Backfill(query, series[model], reset_at_hour=RESET_AT))
    server = local_prometheus.start(backfills)
    yield server, series, env
    server.stop()
    assert server.process.returncode is not None and not server.directory.exists()


def test_request_history_read_with_the_metric_tables_query_is_the_synthetic_series(prometheus):
    server, series, env = prometheus
    model = "review-sentiment"
    query = signals_for(model, env.models[model], "ml-dev").requests(window="1h")
    assert query == 'sum(rate(ts_inference_requests_total{namespace="ml-dev",ml_model="review-sentiment"}[1h]))'
    truth = series[model]
    client = PrometheusClient(server.url)
    raw = client.request_history(model, query, int(truth.hours[0]) * HOUR + HOUR, int(truth.hours[-1] + 1) * HOUR)
    history = clean(model, "test", raw)
    assert (history.hours == truth.hours).all()
    # rate() over each hour gives that hour's mean rate, through the counter reset in hour RESET_AT too
    assert history.values == pytest.approx(truth.rates, rel=1e-6)


def test_forecast_prints_recommendations_and_draws_the_plots(prometheus, tmp_path, capsys):
    server, series, _ = prometheus
    out = tmp_path / "forecast"
    code = main(
        [
            "forecast",
            "--stack",
            "dev",
            "--prometheus",
            server.url,
            "--out",
            str(out),
            "--folds",
            "2",
            "--replica-rps",
            "resnet50=5",
        ]
    )
    text = capsys.readouterr().out
    assert code == 1  # object-detector has no data: reported, the others still forecast
    assert (
        "object-detector: no forecast: Prometheus returned no data for sum(rate(nv_inference_request_success{" in text
    )
    for model in ("review-sentiment", "resnet50"):
        assert f"  {model}: " in text
        png = out / f"{model}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 30_000
    assert "40 req/s per replica (catalog scaling target" in text
    assert text.count("note: 1 counter reset (restarts) in the history, handled by rate()") == 2
    assert "5 req/s per replica (given with --replica-rps)" in text
    assert text.count("replicas: minReplicas") == 2
    assert "churn-predictor: no forecast" in text
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "![review-sentiment](review-sentiment.png)" in summary and "| resnet50 |" in summary
    assert '<img src="resnet50.png"' in (out / "summary.html").read_text(encoding="utf-8")
    # the recommendation follows the traffic: p99 demand near the synthetic peak (60 x 1.5 x growth)
    peak = float(np.quantile(series["review-sentiment"].rates[-WEEK_HOURS:], 0.99))
    line = next(line for line in text.splitlines() if "p99 demand" in line and "40 req/s" in line)
    demand = float(line.split("p99 demand ")[1].split(" ")[0])
    assert 0.85 * peak <= demand <= 1.25 * peak


def test_unreachable_prometheus_is_a_clear_error(tmp_path, capsys):
    closed = f"http://127.0.0.1:{local_prometheus._free_port()}"
    code = main(["forecast", "--stack", "dev", "--prometheus", closed, "--out", str(tmp_path), "--timeout", "2"])
    captured = capsys.readouterr()
    assert code == 3
    assert f"mlserve forecast: cannot reach Prometheus at {closed}: connection refused" in captured.err
    assert "Traceback" not in captured.err


def test_something_that_is_not_prometheus_is_a_clear_error(prometheus, tmp_path, capsys):
    server, _, _ = prometheus
    code = main(["forecast", "--stack", "dev", "--prometheus", server.url + "/nonexistent", "--out", str(tmp_path)])
    assert code == 3
    assert "is not the Prometheus API (is the URL right?)" in capsys.readouterr().err
