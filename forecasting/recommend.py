"""Replica bounds from a forecast: minReplicas for the p50 trough, maxReplicas for the p99 of demand, with headroom.

- Per-replica capacity (requests/s one replica serves at its target): a figure measured and given on the command
  line, else the catalog's scaling target when the model scales on `requests-per-second` (that target *is*
  requests/s per replica). Other scaling metrics say nothing about requests/s, so without a figure there are no
  bounds (the forecast is still shown).
- ``minReplicas = ceil(min over the horizon of p50 x (1 + headroom) / capacity)``, at least the stack's floor (2 in
  prod, where the catalog rules demand it; 0 only for a model the catalog already lets scale to zero; else 1).
- ``maxReplicas = ceil(p99 of demand over the horizon x (1 + headroom) / capacity)``. "p99 of demand" is the 99th
  percentile of the hourly request rate over the whole horizon (p50 path with the backtest's error distribution),
  the figure a person reads off last week's traffic: the busiest ~1% of hours may exceed it, headroom covers them.
- GPUs and monthly cost: the capacity planner (components/gpu_capacity.py, the `make capacity` numbers) run on the
  model with its recommended bounds, on-demand list prices x 730 hours a month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from components.gpu_capacity import plan_capacity
from model_catalog.checks import scaling_target
from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings

from .models import Forecast

HOURS_PER_MONTH = 730
MAX_REPLICAS_ALLOWED = 500  # the catalog schema's bound on maxReplicas


@dataclass(frozen=True)
class Capacity:
    rps_per_replica: float
    source: str


@dataclass(frozen=True)
class Cost:
    accelerator: str
    gpus_per_replica: float
    gpus_min: int
    gpus_max: int
    monthly_usd_min: float | None
    monthly_usd_max: float | None
    """None on existing nodes (provider `existing`): their cost is the node groups' owners'."""


@dataclass(frozen=True)
class Recommendation:
    model: str
    capacity: Capacity
    headroom: float
    trough_p50: float
    demand_p99: float
    peak_p99_hourly: float
    min_replicas: int
    max_replicas: int
    current_min: int
    current_max: int
    floor: int
    cost_now: Cost | None
    cost_recommended: Cost | None
    notes: tuple[str, ...]


def per_replica_capacity(model: str, spec: ModelSpec, measured: dict[str, float]) -> Capacity | None:
    if model in measured:
        return Capacity(measured[model], "given with --replica-rps")
    if spec.scaling.metric == "requests-per-second":
        return Capacity(scaling_target(spec), "catalog scaling target (requests-per-second per replica)")
    return None


def replica_floor(spec: ModelSpec, settings: StackSettings) -> int:
    if settings.environment.tier == "prod":
        return 2
    return 0 if spec.scaling.min_replicas == 0 else 1


def demand_quantile(result: Forecast, q: float) -> float:
    """The ``q`` quantile of the hourly request rate over the horizon: every hour's p50 times every backtest error."""
    p50 = result.quantiles[0.5]
    score = result.scores.get(result.chosen)
    if score is None or len(score.log_errors) == 0:
        return float(np.quantile(p50, q))
    errors = score.log_errors - np.median(score.log_errors)
    pooled = (np.log1p(p50)[:, None] + errors[None, :]).ravel()
    return float(max(np.expm1(np.quantile(pooled, q)), 0.0))


def _cost(model: str, spec: ModelSpec, settings: StackSettings, low: int, high: int) -> Cost | None:
    if spec.resources.gpu is None:
        return None
    scaling = spec.scaling.model_copy(update={"min_replicas": low, "max_replicas": high})
    plans = plan_capacity(settings, {model: spec.model_copy(update={"scaling": scaling})})
    if not plans:
        return None
    ((name, plan),) = plans.items()
    priced = settings.gpu_node_pool.provider == "karpenter"
    return Cost(
        accelerator=name,
        gpus_per_replica=plan.models[0].shape.gpu_units / plan.slices_per_gpu,
        gpus_min=plan.gpus_at("min"),
        gpus_max=plan.gpus_at("max"),
        monthly_usd_min=plan.hourly_usd_at("min") * HOURS_PER_MONTH if priced else None,
        monthly_usd_max=plan.hourly_usd_at("max") * HOURS_PER_MONTH if priced else None,
    )


def recommend(
    model: str,
    spec: ModelSpec,
    settings: StackSettings,
    result: Forecast,
    capacity: Capacity,
    headroom: float,
) -> Recommendation:
    notes: list[str] = []
    trough = float(result.quantiles[0.5].min())
    demand = demand_quantile(result, 0.99)
    floor = replica_floor(spec, settings)
    low = max(floor, math.ceil(trough * (1 + headroom) / capacity.rps_per_replica - 1e-9))
    high = max(low, 1, math.ceil(demand * (1 + headroom) / capacity.rps_per_replica - 1e-9))
    if high > MAX_REPLICAS_ALLOWED:
        notes.append(f"needs {high} replicas at the p99; the catalog allows at most {MAX_REPLICAS_ALLOWED}")
        high = MAX_REPLICAS_ALLOWED
        low = min(low, high)
    if low == floor and floor > 0 and trough * (1 + headroom) < floor * capacity.rps_per_replica * 0.5:
        notes.append(f"minReplicas held at the stack's floor ({floor}), above what the trough needs")
    current = spec.scaling
    return Recommendation(
        model=model,
        capacity=capacity,
        headroom=headroom,
        trough_p50=trough,
        demand_p99=demand,
        peak_p99_hourly=float(result.quantiles[0.99].max()),
        min_replicas=low,
        max_replicas=high,
        current_min=current.min_replicas,
        current_max=current.max_replicas,
        floor=floor,
        cost_now=_cost(model, spec, settings, current.min_replicas, current.max_replicas),
        cost_recommended=_cost(model, spec, settings, low, high),
        notes=tuple(notes),
    )
