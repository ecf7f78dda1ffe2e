"""The GPU node pools of a stack per accelerator and capacity type, sized from where each model may run.

``components.capacity_placement`` says which capacity types each model's replicas use; this groups the demand per
pool so that each Karpenter NodePool's limit and instance types hold what can land on it:

- the on-demand pool ``<namespace>-<accelerator>`` holds every replica that may run on on-demand: on-demand models,
  spot-fallback models whole (the floor, and the spot replicas when spot is short) and spot-preferred models whole;
- the spot pool ``<namespace>-<accelerator>-spot`` holds spot models whole, the replicas of spot-fallback models
  above their floor, and spot-preferred models whole.

The same ``AcceleratorPlan`` arithmetic (components/gpu_capacity.py) sizes each pool. Pure, no Pulumi.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings
from platform_data.accelerators import ACCELERATORS

from . import capacity_placement as cp
from .gpu_capacity import AcceleratorPlan, ModelDemand, canary_demand, model_demand, placement_for

SPOT_POOL_SUFFIX = "-spot"


@dataclass(frozen=True)
class PoolPlan:
    """One NodePool: its accelerator, capacity type, Karpenter weight (None: unweighted) and sizing plan."""

    accelerator: str
    capacity_type: str
    weight: int | None
    plan: AcceleratorPlan


def _demand_on(capacity_type: str, model: str, spec: ModelSpec, where: str) -> ModelDemand | None:
    if capacity_type not in cp.ALLOWED[where]:
        return None
    demand = model_demand(model, spec)
    if capacity_type == cp.SPOT and where == cp.SPOT_FALLBACK:
        # Only the replicas above the on-demand floor ever run on spot.
        return dataclasses.replace(demand, min_replicas=0, max_replicas=cp.spot_replicas(spec))
    return demand


def pool_plans(
    settings: StackSettings, models: dict[str, ModelSpec], planned_gpus: Mapping[str, int] | None = None
) -> dict[str, tuple[PoolPlan, ...]]:
    """Per accelerator the stack's enabled GPU models use (sorted), its pools: on-demand first, then spot. Only for
    provider karpenter (empty otherwise). ``planned_gpus`` (``gpuNodePool.limits: plan``): the planner's GPUs for the
    whole fleet at max replicas, which become the on-demand pool's limit (what on-demand must hold when spot is
    short); the spot pool keeps the catalog arithmetic of the replicas that may run on spot."""
    pools = settings.gpu_node_pool
    if pools.provider != "karpenter":
        return {}
    by_accelerator: dict[str, dict[str, list[ModelDemand]]] = {}
    for model in sorted(models):
        spec = models[model]
        where = cp.placement(spec, settings)
        if not spec.enabled or where is None:
            continue
        assert spec.resources.gpu is not None
        per_type = by_accelerator.setdefault(spec.resources.gpu.accelerator, {cp.ON_DEMAND: [], cp.SPOT: []})
        for capacity_type in (cp.ON_DEMAND, cp.SPOT):
            demand = _demand_on(capacity_type, model, spec, where)
            if demand is not None and demand.max_replicas > 0:
                per_type[capacity_type].append(demand)
        if spec.rollout.canary is not None:
            # The canary runs where the stable pods may, except a spot-fallback model's: on on-demand, like its floor.
            for capacity_type in cp.ALLOWED[cp.ON_DEMAND if where == cp.SPOT_FALLBACK else where]:
                per_type[capacity_type].append(canary_demand(model, spec))
    result: dict[str, tuple[PoolPlan, ...]] = {}
    for name in sorted(by_accelerator):
        accelerator = ACCELERATORS[name]
        sharing = pools.sharing.get(name)
        slices = sharing.time_slicing_replicas if sharing is not None else 1
        per_type = by_accelerator[name]
        weighted = bool(per_type[cp.SPOT]) and bool(per_type[cp.ON_DEMAND])
        plans = []
        for capacity_type in (cp.ON_DEMAND, cp.SPOT):
            demands = tuple(per_type[capacity_type])
            if not demands:
                continue
            placements = {m.model: placement_for(accelerator, m.shape, slices) for m in demands}
            planned = planned_gpus[name] if planned_gpus is not None and capacity_type == cp.ON_DEMAND else None
            weight = None
            if weighted:
                weight = cp.SPOT_POOL_WEIGHT if capacity_type == cp.SPOT else cp.ON_DEMAND_POOL_WEIGHT
            plans.append(
                PoolPlan(
                    name,
                    capacity_type,
                    weight,
                    AcceleratorPlan(accelerator, demands, slices, pools.headroom_percent, placements, planned),
                )
            )
        result[name] = tuple(plans)
    return result


def pool_suffix(capacity_type: str) -> str:
    return SPOT_POOL_SUFFIX if capacity_type == cp.SPOT else ""
