"""A synthetic request history: hourly traffic with a daily and a weekly season, a trend and noise.

Used by the tests and by ``make forecast-demo`` (as a Prometheus TSDB backfilled from OpenMetrics). Deterministic
for a seed. The shape: a daily curve peaking mid-afternoon UTC with a quiet night, weekends at 60% of weekdays,
1% growth a day, multiplicative log-normal noise per hour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .history import DAY_HOURS, HOUR

#: Counter samples per hour in the OpenMetrics export (a 5-minute scrape interval).
SAMPLES_PER_HOUR = 12


@dataclass(frozen=True)
class Synthetic:
    hours: np.ndarray
    """Absolute hour index (Unix time // 3600)."""
    rates: np.ndarray
    """Requests per second, the mean of each hour."""


def synthetic_rates(
    start_hour: int, hours: int, level: float = 200.0, noise: float = 0.06, growth_per_day: float = 0.01, seed: int = 0
) -> Synthetic:
    rng = np.random.default_rng(seed)
    index = np.arange(start_hour, start_hour + hours, dtype=np.int64)
    hour_of_day = index % DAY_HOURS
    weekday = (index // DAY_HOURS + 3) % 7
    daily = 1 + 0.5 * np.sin(2 * np.pi * (hour_of_day - 8) / DAY_HOURS)
    weekly = np.where(weekday >= 5, 0.6, 1.0)
    trend = 1 + growth_per_day * (index - start_hour) / DAY_HOURS
    rates = level * daily * weekly * trend * np.exp(rng.normal(0.0, noise, hours))
    return Synthetic(index, rates)


def counter_samples(series: Synthetic, reset_at_hour: int | None = None) -> list[tuple[int, float]]:
    """A request counter scraped every 5 minutes whose hourly increase is ``rates * 3600``; optionally the server
    restarts (the counter starts again from 0) at the start of hour ``reset_at_hour`` (an index into the series)."""
    samples: list[tuple[int, float]] = []
    total = 0.0
    step = HOUR // SAMPLES_PER_HOUR
    for i, (hour, rate) in enumerate(zip(series.hours, series.rates, strict=True)):
        if reset_at_hour is not None and i == reset_at_hour:
            total = 0.0
        for k in range(SAMPLES_PER_HOUR):
            if i == 0 and k == 0:
                samples.append((int(hour) * HOUR, total))
            total += rate * step
            samples.append((int(hour) * HOUR + (k + 1) * step, total))
    return samples


def openmetrics(metric: str, series_by_labels: dict[str, list[tuple[int, float]]]) -> str:
    """OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics``: one family, one series per label set
    (already rendered as ``name="value",...``), timestamps in seconds. Typed ``unknown``: OpenMetrics wants a
    counter's samples named ``*_total``, and some runtimes' counters are not (TF Serving's ``request_count``);
    ``rate()`` does not care about the type."""
    lines = [f"# TYPE {metric} unknown"]
    for labels in sorted(series_by_labels):
        lines += [f"{metric}{{{labels}}} {value:.3f} {ts}" for ts, value in series_by_labels[labels]]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
