"""Demand forecasting: request history per model (Prometheus or an export) -> forecast -> replica bounds.

``python -m mlserve forecast`` (forecasting/cli.py) reads each model's request rate with the PromQL of the metric
table (components.monitoring.signals_for, the expressions the dashboards and autoscalers use), cleans it
(history.py), picks a model per series by rolling-origin backtest (models.py), turns the forecast's quantiles into
minReplicas/maxReplicas with GPUs and cost (recommend.py), draws it (report.py) and, with ``--write``, proposes the
bounds as per-stack overrides in models.yaml (catalog_write.py). A top-level package beside the CLI: it reads the
catalog and the components' tables, never the other way round.
"""
