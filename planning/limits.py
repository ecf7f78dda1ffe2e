"""``gpuNodePool.limits: plan``: each Karpenter NodePool's GPU limit from the capacity planner instead of the
catalog's arithmetic (docs/capacity-planning.md).

The program (stacks/program.py) calls this for a stack that opts in and hands the numbers to the GPU node pools
(components/gpu_capacity.plan_capacity); components never import the planner. The plan places every enabled GPU
model at ``maxReplicas`` (and its canary's replicas, planning/problem.py) plus a rollout's surge (components/gpu_capacity.ROLLOUT_SURGE; the surge pod goes to any
node with room, as the scheduler places it), as the catalog limit does, so a rollout at full scale still finds room. Only the accelerator pools are solved (the CPU pool has no NodePool here),
under work limits rather than a time limit: the same catalog renders the same limits on any machine.
"""

from __future__ import annotations

import dataclasses

from components.gpu_capacity import ROLLOUT_SURGE
from model_catalog.environment import Environment
from model_catalog.errors import ConfigurationError

from .problem import CPU_POOL, PlanInputError, build_pools
from .solver import solve


def planned_gpus(env: Environment) -> dict[str, int] | None:
    """Per accelerator the stack's GPU models use, the physical GPUs of the planner's nodes; None unless the stack
    sets ``gpuNodePool.limits: plan`` with provider karpenter."""
    pools_settings = env.settings.gpu_node_pool
    if pools_settings.limits != "plan" or pools_settings.provider != "karpenter":
        return None
    try:
        pools = build_pools(dataclasses.replace(env, models=env.gpu_models), "max", surge=ROLLOUT_SURGE)
    except PlanInputError as exc:  # a replica no instance type of its pool holds, once the DaemonSets are reserved
        raise ConfigurationError([env.catalog.problem(exc.model, env.stack, exc.path, exc.message)]) from None
    result = {}
    for pool in pools:
        if pool.name == CPU_POOL:
            continue
        gpus = {t.name: t.gpus for t in pool.instance_types}
        solution = solve(pool.classes, pool.kinds, time_limit=None)
        result[pool.name] = sum(gpus[p.kind.rsplit("/", 1)[0]] * count for p, count in solution.nodes)
    return result
