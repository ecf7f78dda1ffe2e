"""The custom model's HTTP service (images/churn-predictor/app.py), run on loopback."""

from __future__ import annotations

import importlib.util
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

IMAGE = Path(__file__).resolve().parents[2] / "images" / "churn-predictor"


@pytest.fixture(scope="module")
def service():
    spec = importlib.util.spec_from_file_location("churn_app", IMAGE / "app.py")
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    server = app.serve(0, IMAGE)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def call(url: str, body: dict | bytes | None = None) -> tuple[int, str]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_predictions_are_probabilities_that_move_with_the_features(service):
    status, body = call(
        f"{service}/predict",
        {"instances": [{"support_tickets_90d": 8, "has_contract": 0}, {"tenure_months": 60, "has_contract": 1}]},
    )
    assert status == 200
    risky, loyal = json.loads(body)["predictions"]
    assert 0 < loyal < risky < 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"instances": [{"unknown_feature": 1}]}, 400),
        ({"instances": []}, 400),
        ({"rows": []}, 400),
        (b"not json", 400),
    ],
)
def test_bad_requests_get_a_400_with_a_reason(service, body, status):
    code, text = call(f"{service}/predict", body)
    assert code == status and "error" in json.loads(text)


def test_health_readiness_and_metrics_endpoints(service):
    assert call(f"{service}/healthz")[0] == 200
    assert json.loads(call(f"{service}/readyz")[1]) == {"ready": True}
    call(f"{service}/predict", {"instances": [{"tenure_months": 1}]})
    status, metrics = call(f"{service}/metrics")
    assert status == 200
    assert 'http_requests_total{path="/predict",code="200"}' in metrics
    assert 'http_request_duration_seconds_bucket{le="+Inf"}' in metrics
    assert "# TYPE http_requests_in_flight gauge" in metrics
