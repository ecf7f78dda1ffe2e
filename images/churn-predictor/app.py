"""Churn predictor: a logistic-regression model behind a small HTTP API (standard library only).

Endpoints: POST /predict {"instances": [{feature: value, ...}, ...]} -> {"predictions": [p, ...]},
GET /healthz (process alive), GET /readyz (model loaded), GET /metrics (Prometheus text format).
The model file is baked into the image at $MODEL_DIR/model.json.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
MAX_BODY_BYTES = 1 << 20
MAX_INSTANCES = 1000


class Model:
    def __init__(self, spec: dict):
        self.name = spec["name"]
        self.intercept = float(spec["intercept"])
        self.weights = {str(k): float(v) for k, v in spec["features"].items()}

    def predict(self, instance: dict) -> float:
        unknown = set(instance) - set(self.weights)
        if unknown:
            raise ValueError(f"unknown features: {', '.join(sorted(unknown))}")
        z = self.intercept + sum(w * float(instance.get(name, 0.0)) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-z))


class Metrics:
    """Counters and a latency histogram in the Prometheus text exposition format."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[tuple[str, str], int] = {}
        self.buckets = [0] * len(LATENCY_BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.in_flight = 0

    def observe(self, path: str, status: int, seconds: float) -> None:
        with self.lock:
            key = (path, str(status))
            self.requests[key] = self.requests.get(key, 0) + 1
            if path == "/predict":
                self.latency_sum += seconds
                self.latency_count += 1
                for i, bound in enumerate(LATENCY_BUCKETS):
                    if seconds <= bound:
                        self.buckets[i] += 1

    def render(self) -> str:
        with self.lock:
            lines = [
                "# HELP http_requests_total Requests served, by path and status code.",
                "# TYPE http_requests_total counter",
            ]
            for (path, status), count in sorted(self.requests.items()):
                lines.append(f'http_requests_total{{path="{path}",code="{status}"}} {count}')
            lines += [
                "# HELP http_request_duration_seconds Latency of /predict requests.",
                "# TYPE http_request_duration_seconds histogram",
            ]
            for bound, count in zip(LATENCY_BUCKETS, self.buckets, strict=True):
                lines.append(f'http_request_duration_seconds_bucket{{le="{bound}"}} {count}')
            lines.append(f'http_request_duration_seconds_bucket{{le="+Inf"}} {self.latency_count}')
            lines.append(f"http_request_duration_seconds_sum {self.latency_sum}")
            lines.append(f"http_request_duration_seconds_count {self.latency_count}")
            lines += [
                "# HELP http_requests_in_flight Requests being served now.",
                "# TYPE http_requests_in_flight gauge",
                f"http_requests_in_flight {self.in_flight}",
            ]
            return "\n".join(lines) + "\n"


def make_handler(model: Model | None, metrics: Metrics):
    class Handler(BaseHTTPRequestHandler):
        server_version = "churn-predictor/1"

        def log_message(self, fmt: str, *args) -> None:  # one JSON line per request on stdout
            print(json.dumps({"path": self.path, "msg": fmt % args}), flush=True)

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload: dict) -> None:
            self._send(status, json.dumps(payload).encode())

        def do_GET(self) -> None:
            started = time.monotonic()
            if self.path == "/healthz":
                self._json(200, {"status": "ok"})
            elif self.path == "/readyz":
                self._json(200 if model else 503, {"ready": model is not None})
            elif self.path == "/metrics":
                self._send(200, metrics.render().encode(), "text/plain; version=0.0.4")
            else:
                self._json(404, {"error": "not found"})
            metrics.observe(self.path, 200, time.monotonic() - started)

        def do_POST(self) -> None:
            started = time.monotonic()
            status = 200
            with metrics.lock:
                metrics.in_flight += 1
            try:
                if self.path != "/predict":
                    status = 404
                    self._json(status, {"error": "not found"})
                    return
                if model is None:
                    status = 503
                    self._json(status, {"error": "model not loaded"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length <= 0 or length > MAX_BODY_BYTES:
                    status = 413 if length > MAX_BODY_BYTES else 400
                    self._json(status, {"error": f"body must be 1 to {MAX_BODY_BYTES} bytes of JSON"})
                    return
                try:
                    body = json.loads(self.rfile.read(length))
                    instances = body["instances"]
                    if not isinstance(instances, list) or not 0 < len(instances) <= MAX_INSTANCES:
                        raise ValueError(f"'instances' must be a list of 1 to {MAX_INSTANCES} objects")
                    predictions = [model.predict(instance) for instance in instances]
                except (ValueError, KeyError, TypeError) as exc:
                    status = 400
                    self._json(status, {"error": str(exc)})
                    return
                self._json(200, {"model": model.name, "predictions": predictions})
            finally:
                with metrics.lock:
                    metrics.in_flight -= 1
                metrics.observe(self.path, status, time.monotonic() - started)

    return Handler


def load_model(model_dir: Path) -> Model:
    return Model(json.loads((model_dir / "model.json").read_text(encoding="utf-8")))


def serve(port: int, model_dir: Path) -> ThreadingHTTPServer:
    metrics = Metrics()
    server = ThreadingHTTPServer(("0.0.0.0", port), make_handler(load_model(model_dir), metrics))
    server.daemon_threads = True
    return server


def main() -> int:
    port = int(os.environ.get("PORT", "8080"))
    model_dir = Path(os.environ.get("MODEL_DIR", "/models/churn-predictor"))
    server = serve(port, model_dir)
    # SIGTERM: stop accepting, finish in-flight requests (Kubernetes sends it after the preStop sleep).
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(json.dumps({"msg": "serving", "port": port, "model_dir": str(model_dir)}), flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
