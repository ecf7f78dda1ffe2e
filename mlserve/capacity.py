"""The capacity report: per accelerator, the GPUs a stack's catalog needs, its node pool's limit and what it costs.

Reads the same plan the node pools are built from (components/gpu_capacity.py), so the report and the rendered
NodePools cannot disagree. No Pulumi runtime: settings and catalog only.
"""

from __future__ import annotations

import textwrap
from typing import Any

from components import capacity_placement as cp
from components.capacity_pools import pool_plans, pool_suffix
from components.gpu_capacity import AcceleratorPlan, nodes_for, placement_for, plan_capacity, replica_shape
from components.gpu_node_pool import pool_name
from model_catalog.environment import Environment
from platform_data.accelerators import ACCELERATORS
from platform_data.prices import (
    PRICE_CAPACITY_TYPE,
    PRICE_DATE,
    PRICE_REGION,
    PRICE_SOURCE,
    SPOT_DATE,
    SPOT_SOURCE,
    hourly_usd,
)
from stacks.program import planned_limits


def text_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns aligned for a terminal: the first left-aligned, the rest right-aligned (the plan's report uses it too)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _usd(value: float) -> str:
    return f"{value:,.2f}"


def _per_replica(plan: AcceleratorPlan, units: int) -> str:
    if plan.slices_per_gpu > 1:
        return f"{units} slice{'s' if units != 1 else ''} of a GPU shared {plan.slices_per_gpu} ways"
    return f"{units} GPU{'s' if units != 1 else ''}"


def capacity_report(env: Environment) -> list[str]:
    settings = env.settings
    pools = settings.gpu_node_pool
    stack = env.stack
    plans = plan_capacity(settings, env.models, planned_limits(env))
    if not plans:
        reason = "gpuNodePool.provider is 'none'" if pools.provider == "none" else "no enabled model asks for a GPU"
        return [f"GPU capacity, stack '{stack}': no GPUs needed ({reason}); no node pools, no device plugin."]
    karpenter = pools.provider == "karpenter"
    capacity = {"spot": "spot, falling back to on-demand", "on-demand": "on-demand"}[pools.capacity_type]
    title = (
        f"GPU capacity, stack '{stack}' (Karpenter, {capacity}, headroom {pools.headroom_percent}%)"
        if karpenter
        else f"GPU capacity, stack '{stack}' (existing GPU nodes)"
    )
    header = ["accelerator", "GPUs min", "GPUs max", "pool limit", "nodes min", "nodes max", "$/hour min", "$/hour max"]
    rows: list[list[str]] = []
    for name, plan in plans.items():
        row = [name, str(plan.gpus_at("min")), str(plan.gpus_at("max"))]
        if karpenter:
            limit = str(plan.gpu_limit) + (
                f" slices ({plan.physical_gpu_limit} GPUs)" if plan.slices_per_gpu > 1 else ""
            )
            row += [limit, str(plan.nodes_at("min")), str(plan.nodes_at("max"))]
            row += [_usd(plan.hourly_usd_at("min")), _usd(plan.hourly_usd_at("max"))]
        else:
            row += ["-"] * 5
        rows.append(row)
    if karpenter and len(plans) > 1:
        total = ["total"]
        total += [str(sum(p.gpus_at(w) for p in plans.values())) for w in ("min", "max")]
        total += [str(sum(p.physical_gpu_limit for p in plans.values()))]
        total += [str(sum(p.nodes_at(w) for p in plans.values())) for w in ("min", "max")]
        total += [_usd(sum(p.hourly_usd_at(w) for p in plans.values())) for w in ("min", "max")]
        rows.append(total)
    lines = [title, "", *text_table(header, rows), ""]
    for name, plan in plans.items():
        if karpenter:
            types = ", ".join(t.name for t in plan.instance_types)
            lines.append(f"{name}: NodePool {pool_name(settings, name)}, instance types {types}")
        else:
            labels = ", ".join(f"{k}={v}" for k, v in sorted(settings.node_labels(name).items()))
            lines.append(f"{name}: existing nodes labelled {labels}")
        width = max(len(m.model) for m in plan.models)
        for m in plan.models:
            replicas = (
                f"{m.min_replicas}-{m.max_replicas} replicas"
                if m.min_replicas != m.max_replicas
                else f"{m.max_replicas} replica{'s' if m.max_replicas != 1 else ''}"
            )
            detail = f"  {m.model.ljust(width)}  {_per_replica(plan, m.shape.gpu_units)} per replica, {replicas}"
            if m.group_size > 1:
                groups = f"{m.min_replicas // m.group_size}-{m.max_replicas // m.group_size}"
                detail = (
                    f"  {m.model.ljust(width)}  {m.group_size} pods x {_per_replica(plan, m.shape.gpu_units)} per "
                    f"replica (a LeaderWorkerSet group), {groups} replicas = {m.min_replicas}-{m.max_replicas} pods"
                )
            if karpenter:
                placement = plan.placements[m.model]
                detail += (
                    f", on {placement.instance.name} ({placement.replicas_per_node} per node, "
                    f"${_usd(placement.hourly_usd)}/hour)"
                )
            lines.append(detail)
    notes: list[str] = []
    notes.append(
        "GPUs: physical GPUs the replicas ask for at min and max replicas"
        + (" (time-sliced GPUs packed full)." if any(p.slices_per_gpu > 1 for p in plans.values()) else ".")
    )
    if karpenter:
        limit_note = (
            "Pool limit (gpuNodePool.limits: plan): the GPUs of the capacity planner's cheapest nodes for every model "
            "at max replicas plus one rollout surge (mlserve plan; docs/capacity-planning.md)."
            if pools.limits == "plan"
            else f"Pool limit: the larger of GPUs at max replicas plus {pools.headroom_percent}% headroom, and the GPUs "
            "of the whole instances that hold every model at max replicas plus one rollout surge (Karpenter never "
            "launches an instance that would cross the limit)."
        )
        notes += [
            limit_note,
            "Nodes and cost: each model's first minReplicas replicas on nodes of their own (hostname anti-affinity), "
            "further replicas packed into free room first, each node the cheapest allowed instance type that fits a "
            f"replica; {PRICE_CAPACITY_TYPE} list prices in {PRICE_REGION} of {PRICE_DATE} ({PRICE_SOURCE}). Other "
            "regions differ"
            + (
                "; spot capacity usually costs less, so this is an upper bound."
                if pools.capacity_type == "spot"
                else "."
            ),
        ]
    else:
        notes.append(
            "Existing nodes: the cluster's own GPU node groups; this stack sets no pool limit and prices no nodes "
            "(their cost is the node groups' owners')."
        )
    lines.append("")
    for note in notes:
        lines += textwrap.wrap(note, width=116, subsequent_indent="  ")
    if karpenter and any(
        len(p) > 1 or p[0].capacity_type == cp.SPOT
        for p in pool_plans(settings, env.models, planned_limits(env)).values()
    ):
        lines += ["", *spot_section(env)]
    return lines


def expected_cost(env: Environment, which: str) -> dict[str, float]:
    """USD per hour at ``min`` or ``max`` replicas, by capacity type, while spot is available: on-demand models and
    spot-fallback floors at on-demand list prices, the rest at the spot estimate (platform_data/prices.py). Each
    model placed as in the main table (its first replicas one per node, the rest packed)."""
    settings = env.settings
    cost = {cp.ON_DEMAND: 0.0, cp.SPOT: 0.0}
    for model in sorted(env.models):
        spec = env.models[model]
        where = cp.placement(spec, settings)
        if not spec.enabled or where is None:
            continue
        assert spec.resources.gpu is not None
        accelerator = ACCELERATORS[spec.resources.gpu.accelerator]
        sharing = settings.gpu_node_pool.sharing.get(accelerator.name)
        shape = replica_shape(spec)
        placed = placement_for(accelerator, shape, sharing.time_slicing_replicas if sharing else 1)
        low, high = spec.scaling.min_replicas, spec.scaling.max_replicas
        replicas = low if which == "min" else high
        if where == cp.ON_DEMAND:
            split = {cp.ON_DEMAND: (replicas, low)}
        elif where == cp.SPOT_FALLBACK:
            split = {cp.ON_DEMAND: (low, low), cp.SPOT: (replicas - low, 0)}
        else:
            split = {cp.SPOT: (replicas, low)}
        for capacity_type, (count, spread) in split.items():
            nodes = nodes_for(count, spread, placed.replicas_per_node)
            cost[capacity_type] += nodes * hourly_usd(placed.instance.name, capacity_type)
    return cost


def spot_section(env: Environment) -> list[str]:
    """The stack's pools per capacity type (limits, Karpenter weights) and both prices: spot available, spot short."""
    settings = env.settings
    header = ["node pool", "capacity", "weight", "limit", "models"]
    rows = []
    for accelerator, pools in pool_plans(settings, env.models, planned_limits(env)).items():
        for pool in pools:
            name = pool_name(settings, accelerator) + pool_suffix(pool.capacity_type)
            models = ", ".join(
                f"{m.model} {m.min_replicas}-{m.max_replicas}" if m.min_replicas != m.max_replicas else m.model
                for m in pool.plan.models
            )
            weight = "-" if pool.weight is None else str(pool.weight)
            rows.append([name, pool.capacity_type, weight, str(pool.plan.gpu_limit), models])
    lines = ["Node pools per capacity type (the spot pool is tried first; on-demand takes over when spot is short):"]
    lines += ["", *text_table(header, rows), ""]
    floors = [
        f"{m} keeps {spec.scaling.min_replicas} on on-demand, up to {cp.spot_replicas(spec)} more on spot"
        for m, spec in sorted(env.models.items())
        if spec.enabled and cp.has_floor(spec, settings)
    ]
    if floors:
        lines += textwrap.wrap("On-demand floors: " + "; ".join(floors) + ".", width=116, subsequent_indent="  ")
    price_rows = []
    for which in ("min", "max"):
        cost = expected_cost(env, which)
        short = sum(p.hourly_usd_at(which) for p in plan_capacity(settings, env.models).values())
        price_rows.append(
            [
                f"at {which} replicas",
                _usd(cost[cp.ON_DEMAND]),
                _usd(cost[cp.SPOT]),
                _usd(cost[cp.ON_DEMAND] + cost[cp.SPOT]),
                _usd(short),
            ]
        )
    header = ["$/hour", "on-demand", "spot", "spot available", "spot short"]
    lines += ["", *text_table(header, price_rows), ""]
    note = (
        "Spot available: on-demand models and on-demand floors at on-demand list prices, every other replica on "
        f"spot at the estimated spot price ({SPOT_SOURCE}, {SPOT_DATE}: on-demand price x (1 - average saving)). "
        "Spot short: every replica on on-demand (the main table's figures), what the on-demand pools are sized for."
    )
    lines += textwrap.wrap(note, width=116, subsequent_indent="  ")
    return lines


def capacity_data(env: Environment) -> dict[str, Any]:
    """The report's numbers for ``mlserve capacity --json`` (schema/cli/capacity.schema.json); prices in USD/hour.
    Node counts, limits and prices are null where the stack uses existing GPU nodes (nothing to size or price)."""
    settings = env.settings
    pools = settings.gpu_node_pool
    karpenter = pools.provider == "karpenter"
    plans = plan_capacity(settings, env.models, planned_limits(env))
    accelerators = []
    for name, plan in plans.items():
        models = []
        for m in plan.models:
            placement = plan.placements.get(m.model) if karpenter else None
            models.append(
                {
                    "model": m.model,
                    "gpuUnitsPerReplica": m.shape.gpu_units,
                    "minReplicas": m.min_replicas,
                    "maxReplicas": m.max_replicas,
                    "instanceType": placement.instance.name if placement else None,
                    "replicasPerNode": placement.replicas_per_node if placement else None,
                    "nodeHourlyUsd": round(placement.hourly_usd, 4) if placement else None,
                }
            )
        accelerators.append(
            {
                "accelerator": name,
                "slicesPerGpu": plan.slices_per_gpu,
                "gpus": {"min": plan.gpus_at("min"), "max": plan.gpus_at("max")},
                "poolLimit": plan.gpu_limit if karpenter else None,
                "poolLimitGpus": plan.physical_gpu_limit if karpenter else None,
                "nodePool": pool_name(settings, name) if karpenter else None,
                "instanceTypes": [t.name for t in plan.instance_types] if karpenter else [],
                "nodes": {"min": plan.nodes_at("min"), "max": plan.nodes_at("max")} if karpenter else None,
                "hourlyUsd": (
                    {"min": round(plan.hourly_usd_at("min"), 4), "max": round(plan.hourly_usd_at("max"), 4)}
                    if karpenter
                    else None
                ),
                "models": models,
            }
        )
    pool_rows = []
    for accelerator, by_type in pool_plans(settings, env.models, planned_limits(env)).items():
        for pool in by_type:
            pool_rows.append(
                {
                    "nodePool": pool_name(settings, accelerator) + pool_suffix(pool.capacity_type),
                    "accelerator": accelerator,
                    "capacityType": pool.capacity_type,
                    "weight": pool.weight,
                    "limit": pool.plan.gpu_limit,
                    "models": [m.model for m in pool.plan.models],
                }
            )
    spot_prices = None
    if karpenter:
        spot_prices = {}
        for which in ("min", "max"):
            cost = expected_cost(env, which)
            spot_prices[which] = {
                "onDemand": round(cost[cp.ON_DEMAND], 4),
                "spot": round(cost[cp.SPOT], 4),
                "spotShort": round(sum(p.hourly_usd_at(which) for p in plans.values()), 4),
            }
    return {
        "pools": pool_rows,
        "hourlyUsdByCapacity": spot_prices,
        "provider": pools.provider,
        "capacityType": pools.capacity_type if karpenter else None,
        "headroomPercent": pools.headroom_percent if karpenter else None,
        "prices": {"region": PRICE_REGION, "date": str(PRICE_DATE), "capacityType": PRICE_CAPACITY_TYPE}
        if karpenter
        else None,
        "accelerators": accelerators,
    }
