"""What a person looks at: per model a PNG (history, backtest, forecast band, replica bounds) and a one-page summary.

matplotlib with the Agg backend (no display). Output under ``build/forecast/`` (or ``--out``): ``<model>.png``,
``summary.md`` and ``summary.html`` linking them. PNGs carry no software or date metadata, so reruns on the same
input give the same files.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .history import HOUR, History
from .models import DESCRIPTIONS, Forecast
from .recommend import Recommendation

#: History shown before the forecast: the last three weeks (the backtest folds lie in it).
SHOWN_HISTORY_HOURS = 21 * 24


@dataclass(frozen=True)
class ModelReport:
    model: str
    history: History | None
    forecast: Forecast | None
    recommendation: Recommendation | None
    problem: str | None
    """Why there is no forecast (too short, no data), else None."""
    capacity_note: str | None = None


def _times(hours: np.ndarray) -> np.ndarray:
    return np.array([datetime.fromtimestamp(int(h) * HOUR, UTC).replace(tzinfo=None) for h in hours])


BOUNDS = "#7570b3"
CURRENT = "#e7298a"


def _level(axis, times: np.ndarray, value: float, label: str | None, **style) -> None:
    """A constant bound over the forecast, drawn as a step line."""
    axis.step(times, np.full(len(times), value), where="post", label=label, **style)


def plot(report: ModelReport, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    history, result, rec = report.history, report.forecast, report.recommendation
    assert history is not None and result is not None
    with_replicas = rec is not None
    fig, axes = plt.subplots(
        2 if with_replicas else 1,
        1,
        figsize=(12, 7.5 if with_replicas else 4.8),
        sharex=True,
        gridspec_kw={"height_ratios": [3, 1.6]} if with_replicas else None,
        squeeze=False,
    )
    ax = axes[0][0]
    shown = slice(max(0, len(history) - SHOWN_HISTORY_HOURS), len(history))
    ax.plot(_times(history.hours[shown]), history.values[shown], color="#444444", lw=0.9, label="history")
    score = result.scores.get(result.chosen)
    if score is not None:
        for i, fold in enumerate(score.folds):
            hours = history.hours[fold.origin : fold.origin + len(fold.forecast)]
            ax.plot(
                _times(hours),
                fold.forecast,
                color="#d95f02",
                lw=0.9,
                ls="--",
                alpha=0.8,
                label=f"backtest ({result.chosen}, {len(score.folds)} folds)" if i == 0 else None,
            )
    future = _times(result.hours)
    q = result.quantiles
    ax.fill_between(future, q[0.5], q[0.99], color="#1b9e77", alpha=0.25, lw=0, label="forecast p50-p99")
    ax.plot(future, q[0.95], color="#1b9e77", lw=0.8, ls=":", label="forecast p95")
    ax.plot(future, q[0.5], color="#1b9e77", lw=1.4, label="forecast p50")
    if rec is not None:
        c = rec.capacity.rps_per_replica
        _level(ax, future, rec.max_replicas * c, f"capacity at maxReplicas {rec.max_replicas}", color=BOUNDS, lw=1.3)
        _level(
            ax,
            future,
            rec.min_replicas * c,
            f"capacity at minReplicas {rec.min_replicas}",
            color=BOUNDS,
            lw=1.3,
            ls="--",
        )
    ax.axvline(future[0], color="#999999", lw=0.8)
    ax.set_ylabel("requests per second")
    ax.set_ylim(bottom=0)
    title = f"{report.model}: request rate, forecast by {DESCRIPTIONS.get(result.chosen, result.chosen)}"
    ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    if rec is not None:
        rx = axes[1][0]
        c = rec.capacity.rps_per_replica
        needed_p50 = np.ceil(q[0.5] * (1 + rec.headroom) / c)
        needed_p99 = np.ceil(q[0.99] * (1 + rec.headroom) / c)
        rx.fill_between(
            future,
            needed_p50,
            needed_p99,
            step="post",
            color="#1b9e77",
            alpha=0.25,
            lw=0,
            label="replicas needed, p50-p99 (with headroom)",
        )
        rx.step(future, needed_p50, where="post", color="#1b9e77", lw=1.0, label="replicas needed at p50")
        _level(rx, future, rec.max_replicas, f"recommended maxReplicas {rec.max_replicas}", color=BOUNDS, lw=1.6)
        _level(
            rx, future, rec.min_replicas, f"recommended minReplicas {rec.min_replicas}", color=BOUNDS, lw=1.6, ls="--"
        )
        now = f"catalog now {rec.current_min}-{rec.current_max}"
        _level(rx, future, rec.current_max, now, color=CURRENT, lw=1.0, ls=":")
        _level(rx, future, rec.current_min, None, color=CURRENT, lw=1.0, ls=":")
        rx.set_ylabel("replicas")
        rx.set_ylim(0, max(rec.max_replicas, rec.current_max, float(needed_p99.max())) * 1.15 + 1)
        rx.yaxis.get_major_locator().set_params(integer=True)
        rx.grid(alpha=0.3)
        rx.legend(loc="upper left", fontsize=8, ncol=3)
    bottom = axes[-1][0]
    bottom.set_xlabel("time (UTC)")
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:,.0f}"


def summary_rows(reports: list[ModelReport]) -> list[list[str]]:
    rows = []
    for r in reports:
        if r.forecast is None:
            rows.append([r.model, "-", "-", "-", "-", "-", "-", r.problem or ""])
            continue
        f = r.forecast
        chosen = f.scores.get(f.chosen)
        naive = f.scores.get("seasonal-naive")
        accuracy = f"{chosen.smape:.1f}% / {chosen.mase:.2f} (naive {naive.smape:.1f}%)" if chosen and naive else "-"
        rec = r.recommendation
        bounds = f"{rec.current_min}-{rec.current_max} -> **{rec.min_replicas}-{rec.max_replicas}**" if rec else "-"
        demand = (
            f"{float(f.quantiles[0.5].min()):.1f} / {rec.demand_p99:.1f}"
            if rec
            else f"{float(f.quantiles[0.5].min()):.1f} / -"
        )
        cost = "-"
        if rec and rec.cost_recommended:
            now, new = rec.cost_now, rec.cost_recommended
            cost = f"{new.accelerator}: {new.gpus_min}-{new.gpus_max} GPUs, {_usd(new.monthly_usd_min)}-{_usd(new.monthly_usd_max)}/month"
            if now:
                cost += f" (now {now.gpus_min}-{now.gpus_max}, {_usd(now.monthly_usd_min)}-{_usd(now.monthly_usd_max)})"
        note = r.capacity_note or ""
        rows.append([r.model, f.chosen, accuracy, demand, bounds, cost, f"{len(r.history or [])} h", note])
    return rows


HEADER = [
    "model",
    "chosen",
    "sMAPE / MASE",
    "p50 trough / p99 demand (req/s)",
    "replicas now -> recommended",
    "GPUs and cost",
    "history",
    "notes",
]


def write_summary(out: Path, stack: str, horizon_hours: int, headroom: float, reports: list[ModelReport]) -> None:
    rows = summary_rows(reports)
    md = [
        f"# Demand forecast, stack `{stack}`",
        "",
        f"Horizon {horizon_hours} h ({horizon_hours / 24:g} days), headroom {headroom:.0%}. Models per series by "
        "rolling-origin backtest (sMAPE, MASE); quantiles from the chosen model's backtest errors. minReplicas "
        "covers the p50 trough, maxReplicas the p99 of hourly demand, both with headroom.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
        *("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows),
        "",
    ]
    for r in reports:
        if r.forecast is not None:
            md.append(f"## {r.model}\n")
            md += [f"- {note}" for note in (*(r.history.notes if r.history else ()), *r.forecast.notes)]
            if r.recommendation:
                md += [f"- {note}" for note in r.recommendation.notes]
            md.append(f"\n![{r.model}]({r.model}.png)\n")
    (out / "summary.md").write_text("\n".join(md), encoding="utf-8")
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c).replace('**', '')}</td>" for c in row) + "</tr>" for row in rows
    )
    images = "".join(
        f'<h2>{html.escape(r.model)}</h2><img src="{html.escape(r.model)}.png" alt="{html.escape(r.model)}" width="960">'
        for r in reports
        if r.forecast is not None
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Demand forecast, stack {html.escape(stack)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}</style></head><body>"
        f"<h1>Demand forecast, stack {html.escape(stack)}</h1><p>{html.escape(md[2])}</p>"
        f"<table><tr>{cells}</tr>{body}</table>{images}</body></html>\n"
    )
    (out / "summary.html").write_text(page, encoding="utf-8")


def console_lines(stack: str, reports: list[ModelReport]) -> list[str]:
    lines = [f"Demand forecast, stack '{stack}':"]
    for r in reports:
        if r.forecast is None:
            lines.append(f"  {r.model}: no forecast: {r.problem}")
            continue
        f = r.forecast
        scores = ", ".join(
            f"{name} {s.smape:.1f}%" if s.error is None else f"{name} failed" for name, s in f.scores.items()
        )
        lines.append(f"  {r.model}: {f.chosen}" + (f" (backtest sMAPE: {scores})" if scores else ""))
        for note in (*(r.history.notes if r.history else ()), *f.notes):
            lines.append(f"    note: {note}")
        rec = r.recommendation
        if rec is None:
            lines.append(f"    no replica bounds: {r.capacity_note}")
            continue
        lines.append(
            f"    p50 trough {rec.trough_p50:.1f} req/s, p99 demand {rec.demand_p99:.1f} req/s; "
            f"{rec.capacity.rps_per_replica:g} req/s per replica ({rec.capacity.source}), headroom {rec.headroom:.0%}"
        )
        lines.append(
            f"    replicas: minReplicas {rec.current_min} -> {rec.min_replicas}, maxReplicas {rec.current_max} -> "
            f"{rec.max_replicas}"
        )
        cost = rec.cost_recommended
        if cost is not None:
            now = rec.cost_now
            priced = (
                f", {_usd(cost.monthly_usd_min)}-{_usd(cost.monthly_usd_max)}/month on-demand"
                if cost.monthly_usd_min is not None
                else " (existing nodes: not priced)"
            )
            was = (
                f" (now {now.gpus_min}-{now.gpus_max}{', ' + _usd(now.monthly_usd_min) + '-' + _usd(now.monthly_usd_max) if now and now.monthly_usd_min is not None else ''})"
                if now
                else ""
            )
            lines.append(f"    GPUs ({cost.accelerator}): {cost.gpus_min}-{cost.gpus_max}{priced}{was}")
        for note in rec.notes:
            lines.append(f"    note: {note}")
    return lines
