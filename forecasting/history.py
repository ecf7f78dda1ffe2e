"""Request history of one model on an hourly grid: read from a `query_range` JSON export or a CSV, cleaned.

Two kinds of input series:

- a **rate** (requests per second), what ``sum(rate(...[1h]))`` returns: points falling in one hour are averaged;
- a **counter** (cumulative requests, e.g. a bare ``*_total`` series): turned into a rate per interval between
  samples, counted in the hour of its midpoint; a drop is a counter reset (the server restarted and counts from
  zero again), so the increase is the new value; an interval longer than an hour is a gap.

On the hourly grid, missing hours are filled and reported: gaps of up to ``SHORT_GAP_HOURS`` by linear
interpolation, longer ones from the same hour one week (else one day) earlier, the seasonality the models assume.
More than ``MAX_MISSING_SHARE`` missing is refused. Several series of one model (per pod, per handler) are summed.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from .errors import ForecastInputError

HOUR = 3600
DAY_HOURS = 24
WEEK_HOURS = 168
SHORT_GAP_HOURS = 3
MAX_MISSING_SHARE = 0.25
#: CSV columns: a timestamp, optionally the model, and exactly one value column saying what the value is.
CSV_TIMESTAMP = "timestamp"
CSV_MODEL = "model"
CSV_RATE = "requests_per_second"
CSV_COUNTER = "requests_total"
#: A `query_range` export's label naming the model (the platform's PodMonitor label, platform_data/metrics.py).
MODEL_LABELS = ("ml_model", "model")


@dataclass(frozen=True)
class History:
    """Requests per second, one value per hour, no gaps left (``notes`` says what was filled)."""

    model: str
    source: str
    hours: np.ndarray
    """Absolute hour index of each value: Unix time // 3600 (UTC)."""
    values: np.ndarray
    notes: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.values)

    @property
    def start(self) -> int:
        return int(self.hours[0]) * HOUR

    @property
    def end(self) -> int:
        """Unix time just after the last hour."""
        return (int(self.hours[-1]) + 1) * HOUR


@dataclass
class RawSeries:
    """Points of one input series before cleaning."""

    model: str
    kind: str  # "rate" or "counter"
    points: list[tuple[float, float]]
    where: str


def _rate_buckets(points: Sequence[tuple[float, float]]) -> dict[int, float]:
    sums: dict[int, list[float]] = {}
    for ts, value in points:
        sums.setdefault(int(ts // HOUR), []).append(value)
    return {hour: sum(v) / len(v) for hour, v in sums.items()}


def _counter_buckets(points: Sequence[tuple[float, float]]) -> tuple[dict[int, float], int]:
    """Hourly rates from a counter's samples, and the number of resets seen."""
    increase: dict[int, float] = {}
    seconds: dict[int, float] = {}
    resets = 0
    ordered = sorted(points)
    for (t0, v0), (t1, v1) in zip(ordered, ordered[1:], strict=False):
        if t1 <= t0:
            continue
        delta = v1 - v0
        if delta < 0:
            resets += 1
            delta = v1
        if t1 - t0 > HOUR:
            continue  # no samples for over an hour: a gap, filled and reported like any other
        hour = int((t0 + t1) / 2 // HOUR)
        increase[hour] = increase.get(hour, 0.0) + delta
        seconds[hour] = seconds.get(hour, 0.0) + (t1 - t0)
    return {h: increase[h] / seconds[h] for h in increase}, resets


def _fill_gaps(values: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Fill NaN runs in place of a copy; returns the filled array and the (start, length) of each gap."""
    out = values.copy()
    gaps: list[tuple[int, int]] = []
    i = 0
    n = len(out)
    while i < n:
        if not math.isnan(out[i]):
            i += 1
            continue
        j = i
        while j < n and math.isnan(out[j]):
            j += 1
        gaps.append((i, j - i))
        i = j
    for start, length in gaps:
        before, after = out[start - 1], out[start + length]  # gaps never touch the ends (the grid spans the data)
        for k in range(start, start + length):
            if length > SHORT_GAP_HOURS:
                for lag in (WEEK_HOURS, DAY_HOURS):
                    if k - lag >= 0 and not math.isnan(out[k - lag]):
                        out[k] = out[k - lag]
                        break
            if math.isnan(out[k]):
                share = (k - start + 1) / (length + 1)
                out[k] = before + (after - before) * share
    return out, gaps


def clean(model: str, source: str, series: Sequence[RawSeries]) -> History:
    """Sum the model's series onto one hourly grid, fill and report gaps; ForecastInputError if unusable."""
    notes: list[str] = []
    per_series: list[dict[int, float]] = []
    for raw in series:
        if raw.kind == "counter":
            buckets, resets = _counter_buckets(raw.points)
            if resets:
                notes.append(f"{raw.where}: {resets} counter reset{'s' if resets != 1 else ''} (restarts) handled")
        else:
            buckets = _rate_buckets(raw.points)
        if buckets:
            per_series.append(buckets)
    if not per_series:
        raise ForecastInputError([f"{source}: model '{model}': no usable points (a counter needs at least two)"])
    if len(per_series) > 1:
        notes.append(f"{len(per_series)} series summed")
    first = min(min(b) for b in per_series)
    last = max(max(b) for b in per_series)
    hours = np.arange(first, last + 1, dtype=np.int64)
    grid = np.full(len(hours), np.nan)
    for buckets in per_series:
        for hour, rate in buckets.items():
            i = hour - first
            grid[i] = rate if math.isnan(grid[i]) else grid[i] + rate
    missing = int(np.isnan(grid).sum())
    if missing > MAX_MISSING_SHARE * len(grid):
        raise ForecastInputError(
            [
                f"{source}: model '{model}': {missing} of {len(grid)} hours have no data "
                f"(more than {MAX_MISSING_SHARE:.0%}); too little to forecast from"
            ]
        )
    filled, gaps = _fill_gaps(grid)
    if gaps:
        longest = max(length for _, length in gaps)
        notes.append(
            f"{missing} missing hour{'s' if missing != 1 else ''} in {len(gaps)} gap{'s' if len(gaps) != 1 else ''} "
            f"(longest {longest} h): gaps up to {SHORT_GAP_HOURS} h interpolated, longer ones filled from the same "
            "hour a week (else a day) earlier"
        )
    if (filled < 0).any():
        raise ForecastInputError([f"{source}: model '{model}': negative request rates; a rate is >= 0"])
    return History(model, source, hours, filled, tuple(notes))


# --- readers --------------------------------------------------------------------------------------------------------


def _number(text: object) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _timestamp(text: str) -> float | None:
    value = _number(text)
    if value is not None:
        return value
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


def read_prometheus_json(path: Path, shown: str, data: object, default_model: str | None) -> list[RawSeries]:
    """A `query_range` answer (``{"status": "success", "data": {"resultType": "matrix", "result": [...]}}``)."""
    problems: list[str] = []

    def bad(where: str, message: str) -> None:
        problems.append(f"{shown}: {where}: {message}")

    if not isinstance(data, dict):
        raise ForecastInputError(
            [f"{shown}: top level: expected a query_range answer (a JSON object), got {type(data).__name__}"]
        )
    if data.get("status") != "success":
        bad("status", f"got {data.get('status')!r}; the export must be a successful query_range answer ('success')")
    body = data.get("data")
    if not isinstance(body, dict) or body.get("resultType") != "matrix" or not isinstance(body.get("result"), list):
        got = body.get("resultType") if isinstance(body, dict) else type(body).__name__
        bad("data.resultType", f"got {got!r}; expected 'matrix' with a 'result' list (the answer of query_range)")
        raise ForecastInputError(problems)
    series: list[RawSeries] = []
    results = body["result"]
    for i, item in enumerate(results):
        where = f"data.result[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("values"), list):
            bad(where, "expected an object with 'metric' and 'values'")
            continue
        labels = item.get("metric") or {}
        model = next((labels[k] for k in MODEL_LABELS if isinstance(labels, dict) and k in labels), None)
        if model is None:
            if default_model is None or len(results) > 1:
                bad(
                    f"{where}.metric",
                    f"no {' or '.join(MODEL_LABELS)} label; pass --model when the export holds one series",
                )
                continue
            model = default_model
        # A bare series (it still has its __name__) is the counter itself; an expression's result is a rate.
        kind = "counter" if isinstance(labels, dict) and "__name__" in labels else "rate"
        points: list[tuple[float, float]] = []
        for j, pair in enumerate(item["values"]):
            ok = isinstance(pair, list) and len(pair) == 2
            ts = _number(pair[0]) if ok else None
            value = _number(pair[1]) if ok else None
            if ts is None or value is None:
                bad(f"{where}.values[{j}]", f'got {json.dumps(pair)[:60]}; expected [unix_seconds, "number"]')
                if len(problems) >= 10:
                    raise ForecastInputError(problems)
                continue
            points.append((ts, value))
        series.append(RawSeries(str(model), kind, points, f"{shown} {where}"))
    if problems:
        raise ForecastInputError(problems)
    return series


def read_csv(path: Path, shown: str, text: str, default_model: str | None) -> list[RawSeries]:
    """CSV with a header: ``timestamp`` (Unix seconds or ISO 8601 with a zone), optional ``model``, and one of
    ``requests_per_second`` (a rate) or ``requests_total`` (a counter)."""
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header is None:
        raise ForecastInputError([f"{shown}:1:1: empty file; expected a header line"])
    columns = [h.strip() for h in header]
    value_columns = [c for c in columns if c in (CSV_RATE, CSV_COUNTER)]
    problems: list[str] = []
    if CSV_TIMESTAMP not in columns:
        problems.append(f"{shown}:1:1: header: no '{CSV_TIMESTAMP}' column; got {', '.join(columns) or 'nothing'}")
    if len(value_columns) != 1:
        problems.append(
            f"{shown}:1:1: header: needs exactly one of '{CSV_RATE}' (a rate) or '{CSV_COUNTER}' (a counter); "
            f"got {', '.join(columns) or 'nothing'}"
        )
    if CSV_MODEL not in columns and default_model is None:
        problems.append(f"{shown}:1:1: header: no '{CSV_MODEL}' column; add one or pass --model")
    if problems:
        raise ForecastInputError(problems)
    t_col, v_col = columns.index(CSV_TIMESTAMP), columns.index(value_columns[0])
    m_col = columns.index(CSV_MODEL) if CSV_MODEL in columns else None
    kind = "rate" if value_columns[0] == CSV_RATE else "counter"
    by_model: dict[str, list[tuple[float, float]]] = {}
    for line_no, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(columns):
            problems.append(
                f"{shown}:{line_no}:1: expected {len(columns)} fields ({', '.join(columns)}), got {len(row)}"
            )
        else:
            ts = _timestamp(row[t_col])
            value = _number(row[v_col])
            column = 1 + sum(len(c) + 1 for c in row[: t_col if ts is None else v_col])
            if ts is None:
                problems.append(
                    f"{shown}:{line_no}:{column}: {CSV_TIMESTAMP}: got {row[t_col]!r}; expected Unix seconds or "
                    "ISO 8601 with a time zone (2026-11-02T14:00:00Z)"
                )
            elif value is None or value < 0:
                problems.append(
                    f"{shown}:{line_no}:{column}: {value_columns[0]}: got {row[v_col]!r}; expected a number >= 0"
                )
            else:
                model = row[m_col].strip() if m_col is not None else default_model
                by_model.setdefault(str(model), []).append((ts, value))
        if len(problems) >= 10:
            break
    if problems:
        raise ForecastInputError(problems)
    return [RawSeries(model, kind, points, shown) for model, points in sorted(by_model.items())]


def load_history_file(path: Path, models: Iterable[str], default_model: str | None = None) -> dict[str, History]:
    """Histories of ``models`` found in the file (a model without data is absent from the result)."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ForecastInputError([f"--history: {shown}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ForecastInputError([f"--history: {shown}: cannot read: {exc}"]) from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ForecastInputError([f"{shown}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}"]) from None
        raw = read_prometheus_json(path, shown, data, default_model)
    elif path.suffix.lower() == ".csv":
        raw = read_csv(path, shown, text, default_model)
    else:
        raise ForecastInputError(
            [
                f"--history: {shown}: unknown format {path.suffix or '(no suffix)'!r}; expected .json (a query_range answer) or .csv"
            ]
        )
    wanted = set(models)
    grouped: dict[str, list[RawSeries]] = {}
    for series in raw:
        grouped.setdefault(series.model, []).append(series)
    return {model: clean(model, shown, grouped[model]) for model in sorted(grouped) if model in wanted}
