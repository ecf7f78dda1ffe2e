"""``mlserve forecast``: each model's request rate forecast, and minReplicas/maxReplicas from it (forecasting/)."""

from __future__ import annotations

from .. import cli

ORDER = 45


def register(subparsers) -> None:
    from forecasting.cli import add_arguments, run

    parser = cli.add_parser(
        subparsers,
        "forecast",
        "forecast each model's request rate and recommend minReplicas/maxReplicas, GPUs and cost",
        "Reads the request rate of the metric table's query from Prometheus (or a query_range JSON or CSV export),\n"
        "picks seasonal naive, ARIMA, ETS or SVR per model by rolling-origin backtest, and writes plots and a\n"
        "summary under build/forecast/. --write puts the bounds into the catalog as per-stack overrides.\n"
        "Details: docs/forecasting.md.",
    )
    cli.add_stack_options(parser)
    add_arguments(parser)
    parser.set_defaults(func=run)
