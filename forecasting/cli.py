"""``mlserve forecast``: its options (registered by mlserve/commands/forecast.py) and the run.

Exit status (docs/cli.md): 0 every selected model forecast; 1 some model could not be (no data, history too
short), the others still reported; 2 invalid input (options, a malformed export, the catalog), nothing written;
3 Prometheus unreachable, not Prometheus, or refusing the query.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from pathlib import Path

from .errors import ForecastError, ForecastInputError

_DURATION = re.compile(r"^([1-9][0-9]*)([hdw])$")
_UNIT_HOURS = {"h": 1, "d": 24, "w": 168}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The forecast's own options (``--stack``, ``--catalog`` and ``--project-dir`` are the CLI's common ones)."""
    parser.add_argument("--model", help="forecast only this model (default: every enabled model of the stack)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--prometheus",
        metavar="URL",
        help="Prometheus base URL to read request rates from (no default: this or --history)",
    )
    source.add_argument(
        "--history",
        metavar="FILE",
        type=Path,
        help="a query_range JSON export or a CSV: timestamp, [model,] requests_per_second or requests_total "
        "(no default: this or --prometheus)",
    )
    parser.add_argument("--horizon", default="7d", help="how far ahead to forecast: <n>h, <n>d or <n>w")
    parser.add_argument("--lookback", default="28d", help="history read from Prometheus: <n>h, <n>d or <n>w")
    parser.add_argument(
        "--headroom", type=float, default=20.0, help="percent added to the p50 trough and the p99 demand"
    )
    parser.add_argument(
        "--replica-rps",
        action="append",
        metavar="MODEL=RPS",
        help="measured requests/s one replica serves; repeatable; a bare number applies to --model (default: the "
        "catalog's target for models scaling on requests-per-second, none for others)",
    )
    parser.add_argument("--folds", type=int, default=3, help="rolling-origin backtest folds, 2 to 10")
    parser.add_argument(
        "--out",
        type=Path,
        help="directory for the plots and summary (default: build/forecast in the project directory)",
    )
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per Prometheus request")
    parser.add_argument(
        "--write", action="store_true", help="apply the bounds as overrides.<stack>.scaling in the catalog"
    )


def parse_hours(option: str, value: str) -> int:
    match = _DURATION.match(value.strip())
    if not match:
        raise ForecastInputError(
            [f"{option}: got {value!r}; expected a whole number of hours, days or weeks (36h, 7d, 2w)"]
        )
    return int(match.group(1)) * _UNIT_HOURS[match.group(2)]


def parse_replica_rps(values: list[str] | None, model: str | None, known: set[str]) -> dict[str, float]:
    measured: dict[str, float] = {}
    problems = []
    for value in values or []:
        name, _, number = value.rpartition("=")
        if not name:
            if model is None:
                problems.append(f"--replica-rps: got {value!r}; without --model write MODEL=RPS")
                continue
            name = model
        try:
            rps = float(number)
        except ValueError:
            rps = -1.0
        if not rps > 0 or rps == float("inf"):
            problems.append(f"--replica-rps: got {value!r}; the requests/s one replica serves, a number > 0")
        elif name not in known:
            problems.append(
                f"--replica-rps: {name!r} is not an enabled model of the stack; enabled: {', '.join(sorted(known))}"
            )
        else:
            measured[name] = rps
    if problems:
        raise ForecastInputError(problems)
    return measured


def run(args: argparse.Namespace) -> int:
    from mlserve import cli

    try:
        return _run(args, cli.project_dir(args))
    except ForecastInputError as exc:
        print(exc.render(), file=sys.stderr)
        return cli.EXIT_INVALID
    except ForecastError as exc:
        print(f"mlserve forecast: {exc}", file=sys.stderr)
        return cli.EXIT_ENVIRONMENT


def _run(args: argparse.Namespace, project_dir: Path) -> int:
    from components.monitoring import signals_for
    from mlserve import cli
    from mlserve.render import validate
    from model_catalog.errors import ConfigurationError

    from . import history as hist
    from .models import HistoryTooShortError, forecast
    from .recommend import per_replica_capacity, recommend
    from .report import ModelReport, console_lines, plot, write_summary

    horizon = parse_hours("--horizon", args.horizon)
    lookback = parse_hours("--lookback", args.lookback)
    problems = []
    if not 0 <= args.headroom <= 500:
        problems.append(f"--headroom: got {args.headroom:g}; a percentage from 0 to 500")
    if not 2 <= args.folds <= 10:
        problems.append(f"--folds: got {args.folds}; 2 to 10")
    if not 0 < args.timeout <= 600:
        problems.append(f"--timeout: got {args.timeout:g}; seconds, more than 0 and at most 600")
    if args.prometheus is not None and not re.match(r"^https?://[^/\s]+", args.prometheus):
        problems.append(f"--prometheus: got {args.prometheus!r}; expected a URL such as http://localhost:9090")
    if problems:
        raise ForecastInputError(problems)
    env = validate(project_dir, args.stack, args.catalog)
    if args.model is not None and args.model not in env.models:
        raise ForecastInputError(
            [
                f"--model: {args.model!r} is not an enabled model of stack '{args.stack}'; enabled: {', '.join(env.models)}"
            ]
        )
    selected = [args.model] if args.model else list(env.models)
    measured = parse_replica_rps(args.replica_rps, args.model, set(env.models))
    namespace = env.settings.environment.namespace

    histories: dict[str, hist.History] = {}
    missing: dict[str, str] = {}
    if args.history is not None:
        histories = hist.load_history_file(args.history, selected, default_model=args.model)
        for model in selected:
            if model not in histories:
                missing[model] = f"no series for it in {args.history}"
    else:
        from .prometheus import PrometheusClient, resets_query

        client = PrometheusClient(args.prometheus, timeout=args.timeout)
        end = int(time.time()) // hist.HOUR * hist.HOUR
        start = end - lookback * hist.HOUR
        try:
            for model in selected:
                query = signals_for(model, env.models[model], namespace).requests(window="1h")
                raw = client.request_history(model, query, start + hist.HOUR, end)
                if not any(r.points for r in raw):
                    missing[model] = f"Prometheus returned no data for {query}"
                    continue
                try:
                    history = hist.clean(model, f"Prometheus {args.prometheus}", raw)
                except ForecastInputError as exc:
                    missing[model] = "; ".join(exc.messages)
                    continue
                resets = client.query(resets_query(query, lookback), end)
                if resets:
                    note = f"{resets:g} counter reset{'s' if resets != 1 else ''} (restarts) in the history, handled by rate()"
                    history = dataclasses.replace(history, notes=(note, *history.notes))
                histories[model] = history
        finally:
            client.close()

    reports: list[ModelReport] = []
    for model in selected:
        spec = env.models[model]
        if model in missing:
            reports.append(ModelReport(model, None, None, None, missing[model]))
            continue
        h = histories[model]
        try:
            result = forecast(h.values, h.hours, horizon, folds=args.folds)
        except HistoryTooShortError as exc:
            reports.append(ModelReport(model, h, None, None, str(exc)))
            continue
        capacity = per_replica_capacity(model, spec, measured)
        if capacity is None:
            note = (
                f"scaling metric '{spec.scaling.metric}' says nothing about requests/s per replica; pass "
                f"--replica-rps {model}=RPS (a measured figure)"
            )
            reports.append(ModelReport(model, h, result, None, None, note))
            continue
        rec = recommend(model, spec, env.settings, result, capacity, args.headroom / 100)
        reports.append(ModelReport(model, h, result, rec, None))

    out: Path = args.out or project_dir / "build" / "forecast"
    out.mkdir(parents=True, exist_ok=True)
    for r in reports:
        if r.forecast is not None:
            plot(r, out / f"{r.model}.png")
    write_summary(out, args.stack, horizon, args.headroom / 100, reports)
    print("\n".join(console_lines(args.stack, reports)))
    print(f"plots and summary: {out / 'summary.md'}, {out / 'summary.html'}")

    if args.write:
        from .catalog_write import write_catalog

        recs = [r.recommendation for r in reports if r.recommendation is not None]
        catalog = Path(args.catalog) if args.catalog else project_dir / env.settings.catalog

        def check(path: Path) -> None:
            try:
                validate(project_dir, args.stack, str(path))
            except ConfigurationError as exc:
                raise ForecastInputError(
                    [f"--write: the recommended bounds would make {catalog} invalid; nothing written:", exc.render()]
                ) from None

        before = catalog.read_text(encoding="utf-8")
        after = write_catalog(catalog, args.stack, recs, check)
        changed = sum(1 for a, b in zip(before.splitlines(), after.splitlines(), strict=False) if a != b)
        changed += abs(len(after.splitlines()) - len(before.splitlines()))
        print(
            f"wrote overrides.{args.stack}.scaling for {len(recs)} model{'s' if len(recs) != 1 else ''} into {catalog} "
            f"({changed} line{'s' if changed != 1 else ''} changed); review with `git diff` and `mlserve diff`"
            if after != before
            else f"{catalog}: already has these bounds; nothing written"
        )
    return cli.EXIT_FINDINGS if any(r.forecast is None for r in reports) else cli.EXIT_OK
