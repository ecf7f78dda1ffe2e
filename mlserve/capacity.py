"""The capacity report: per accelerator, the GPUs a stack's catalog needs, its node pool's limit and what it costs.

Reads the same plan the node pools are built from (components/gpu_capacity.py), so the report and the rendered
NodePools cannot disagree. No Pulumi runtime: settings and catalog only.
"""

from __future__ import annotations

import textwrap
from typing import Any

from components.gpu_capacity import AcceleratorPlan, plan_capacity
from components.gpu_node_pool import pool_name
from model_catalog.environment import Environment
from platform_data.prices import PRICE_CAPACITY_TYPE, PRICE_DATE, PRICE_REGION, PRICE_SOURCE
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
    return {
        "provider": pools.provider,
        "capacityType": pools.capacity_type if karpenter else None,
        "headroomPercent": pools.headroom_percent if karpenter else None,
        "prices": {"region": PRICE_REGION, "date": str(PRICE_DATE), "capacityType": PRICE_CAPACITY_TYPE}
        if karpenter
        else None,
        "accelerators": accelerators,
    }
