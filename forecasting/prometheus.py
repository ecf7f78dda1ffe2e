"""Reading request history from Prometheus: the HTTP API's ``/api/v1/query_range`` (requests, with retries).

The query per model is the request rate of the metric table (``ModelSignals.requests``), the expression the
dashboards and the autoscaler use, with a one-hour window at a one-hour step: each point is that hour's mean rate.
Counter resets are handled by ``rate()`` itself and counted with ``resets()`` for the report. Long ranges are fetched in chunks under Prometheus' 11,000-points
limit per series.
"""

from __future__ import annotations

import math

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .errors import ForecastError
from .history import HOUR, RawSeries

#: Prometheus refuses query_range answers of more than 11,000 points per series.
MAX_POINTS = 11_000
CHUNK_HOURS = 24 * 7 * 8


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 15.0, retries: int = 3):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            backoff_factor=0.5,
            status_forcelist=(429, 502, 503, 504),
            allowed_methods=frozenset({"GET", "POST"}),
            raise_on_status=False,
        )
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))

    def close(self) -> None:
        self.session.close()

    def _get(self, path: str, params: dict[str, str]) -> dict:
        endpoint = f"{self.url}{path}"
        try:
            response = self.session.post(endpoint, data=params, timeout=self.timeout)
        except requests.exceptions.ConnectionError as exc:
            raise ForecastError(f"cannot reach Prometheus at {self.url}: {_reason(exc)}") from None
        except requests.exceptions.Timeout:
            raise ForecastError(f"Prometheus at {self.url} did not answer within {self.timeout:g}s") from None
        except requests.exceptions.RequestException as exc:
            raise ForecastError(f"Prometheus at {self.url}: {_reason(exc)}") from None
        try:
            body = response.json()
        except ValueError:
            raise ForecastError(
                f"Prometheus at {self.url} answered HTTP {response.status_code} with something that is not the "
                f"Prometheus API (is the URL right?): {response.text[:120]!r}"
            ) from None
        if response.status_code != 200 or body.get("status") != "success":
            raise ForecastError(
                f"Prometheus at {self.url} refused the query (HTTP {response.status_code}, "
                f"{body.get('errorType', 'error')}): {body.get('error', '')}"
            )
        return body

    def query_range(self, query: str, start: int, end: int, step: int = HOUR) -> list[dict]:
        """Every series of the answer, chunked by time; ``values`` merged across chunks."""
        merged: dict[tuple, dict] = {}
        chunk = min(CHUNK_HOURS * HOUR, (MAX_POINTS - 1) * step)
        t = start
        while t <= end:
            stop = min(end, t + chunk)
            body = self._get(
                "/api/v1/query_range", {"query": query, "start": str(t), "end": str(stop), "step": f"{step}s"}
            )
            for item in body["data"]["result"]:
                key = tuple(sorted(item["metric"].items()))
                merged.setdefault(key, {"metric": item["metric"], "values": []})["values"] += item["values"]
            t = stop + step
        return list(merged.values())

    def query(self, query: str, at: int) -> float | None:
        """An instant query's single value (None when the answer is empty)."""
        body = self._get("/api/v1/query", {"query": query, "time": str(at)})
        result = body["data"]["result"]
        if body["data"].get("resultType") != "vector" or not result:
            return None
        value = float(result[0]["value"][1])
        return value if math.isfinite(value) else None

    def request_history(self, model: str, query: str, start: int, end: int) -> list[RawSeries]:
        """Hourly rates of ``query`` (its range window one hour): the point at T is the hour before T."""
        result = self.query_range(query, start, end)
        return [
            RawSeries(model, "rate", [p for p in points if math.isfinite(p[1])], f"Prometheus {self.url}")
            for points in ([(float(ts) - HOUR, float(v)) for ts, v in item["values"]] for item in result)
        ]


def resets_query(requests_query: str, hours: int) -> str:
    """The request-rate query with ``rate(...[1h])`` turned into ``resets(...[<hours>h])``: the counter resets
    (server restarts) over the whole history, which ``rate()`` compensated."""
    return requests_query.replace("rate(", "resets(").replace("[1h]", f"[{hours}h]")


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host"):
        if marker in text:
            return marker.lower()
    return text.splitlines()[0][:160]
