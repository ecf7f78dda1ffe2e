"""From a stack's effective catalog to the packing problem of each node pool (planning/solver.py states it).

Pools: one per accelerator the stack's enabled models use (its instance types only), and one for the CPU models
(platform_data/cpu_instances.py). Per replica: cpu, memory (the larger of server and weight-fetching init
container, as the scheduler sums them: components/gpu_capacity.replica_shape), GPU units (a GPU, or one slice of a
time-sliced GPU, as the stack's ``gpuNodePool.sharing`` allows) and one pod slot. Per node: what Karpenter reports
allocatable (kube-reserved, system-reserved and the eviction threshold already taken off), minus the DaemonSet
reserve of the platform (platform_data/accelerators.py: the cluster's and the stack's DaemonSets, with a margin), in
cpu and memory, and minus one pod slot per DaemonSet that runs on the node.

Spreading: a model with a PodDisruptionBudget (``minReplicas >= 2``, components/workload.py) also spreads its pods
over nodes (hostname anti-affinity, topology spread); Karpenter honours that preference when it launches nodes for
pending pods, so the plan keeps every replica of such a model on a node of its own. Replicas of one model with the
same requests are interchangeable, and so are replicas of different models with the same requests, capacity and
(for spread models) replica count: one item class each (planning/solver.py proves why that loses nothing).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from components.canary import canary_name, canary_spec
from components.gpu_capacity import replica_shape
from components.multinode.lws import group_size
from model_catalog.environment import Environment
from model_catalog.schema import ModelSpec
from platform_data.accelerators import ACCELERATORS, DAEMONSET_RESERVE_CPU, DAEMONSET_RESERVE_MEMORY, InstanceType
from platform_data.cpu_instances import CPU_INSTANCE_TYPES
from platform_data.prices import hourly_usd

from .solver import ItemClass, NodeKind

CPU_POOL = "cpu"
MIB = 2**20
#: Resources in the order of every size and capacity vector.
RESOURCES = ("cpu_millicores", "memory_mib", "gpu_units", "pods")
#: DaemonSets of the cluster itself on every node (EKS add-ons): VPC CNI, kube-proxy, EBS CSI node, pod identity.
CLUSTER_DAEMONSETS = ("aws-node", "kube-proxy", "ebs-csi-node", "eks-pod-identity-agent")
POINTS = ("min", "max", "p95")
#: Capacity types a model's ``capacity`` allows its replicas on.
ALLOWED_CAPACITY = {"on-demand": ("on-demand",), "spot": ("spot",), "spot-fallback": ("on-demand", "spot")}


class PlanInputError(ValueError):
    """Bad planner input that the catalog checks cannot see (a replica larger than every node, an unknown model in
    a replica file): the CLI reports it located, with exit status 2."""

    def __init__(self, model: str | None, path: tuple[str, ...], message: str):
        super().__init__(message)
        self.model = model
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Demand:
    """One model's replicas at the planned point."""

    model: str
    pool: str
    replicas: int
    size: tuple[int, ...]
    capacity: str
    spread: bool
    source: str = ""
    """The catalog model these replicas come from (itself, its canary, its rollout surge), for error messages."""
    field: tuple[str, ...] = ("resources",)
    """Where in that model a replica's size is set."""


@dataclass(frozen=True)
class Pool:
    """One pool's problem: its node kinds, item classes, and which models each class holds."""

    name: str
    instance_types: tuple[InstanceType, ...]
    kinds: tuple[NodeKind, ...]
    classes: tuple[ItemClass, ...]
    members: tuple[tuple[str, ...], ...]
    """Per class, its models by name."""
    demands: dict[str, Demand]
    slices_per_gpu: int
    daemonsets: tuple[str, ...]


def model_capacity(spec: ModelSpec, env: Environment, override: str | None = None) -> str:
    if override is not None:
        return override
    if spec.capacity is not None:
        return spec.capacity
    return "spot-fallback" if env.settings.gpu_node_pool.capacity_type == "spot" else "on-demand"


def daemonsets_on(env: Environment, gpu: bool) -> tuple[str, ...]:
    """DaemonSets with a pod on every node of a pool: the cluster's, and those this stack installs."""
    settings = env.settings
    names = list(CLUSTER_DAEMONSETS)
    if settings.monitoring.enabled:
        names.append("node-exporter")
    if gpu and settings.gpu_node_pool.provider == "karpenter" and settings.gpu_node_pool.install_device_plugin:
        names.append("nvidia-device-plugin")
    if gpu and settings.monitoring.enabled:
        names.append("dcgm-exporter")
    return tuple(names)


def node_capacity(t: InstanceType, slices: int, daemonset_pods: int) -> tuple[int, ...]:
    return (t.pod_cpu_millicores, t.pod_memory_bytes // MIB, t.gpus * slices, t.max_pods - daemonset_pods)


def replicas_at(spec: ModelSpec, at: str, model: str, replicas: dict[str, int] | None) -> int:
    if replicas is not None and model in replicas:
        return replicas[model]
    if at == "p95":
        raise PlanInputError(
            model,
            ("scaling",),
            "--at p95 needs each model's p95 replica count from a forecast (--replicas FILE, a JSON object of model "
            "name to replicas); this model has none",
        )
    return spec.scaling.min_replicas if at == "min" else spec.scaling.max_replicas


def demands_of(
    env: Environment, at: str, capacity: str | None = None, replicas: dict[str, int] | None = None, surge: int = 0
) -> list[Demand]:
    """Per model its replicas at the point; with ``surge``, that many more per model, not spread: a rollout's extra
    pod, which the scheduler puts on any node with room (the anti-affinity is a preference; only Karpenter, launching
    nodes for pending pods, treats it as required)."""
    result = []
    for model in sorted(env.models):
        spec = env.models[model]
        gpu = spec.resources.gpu
        pods = group_size(spec)  # a multi-node replica is a group of pods, one per node (components/multinode/)
        demand = Demand(
            model=model,
            pool=gpu.accelerator if gpu is not None else CPU_POOL,
            replicas=replicas_at(spec, at, model, replicas) * pods,
            size=_size(spec),
            capacity=model_capacity(spec, env, capacity),
            spread=spec.scaling.min_replicas >= 2,
            source=model,
        )
        demands = [(demand, pods)]
        if spec.rollout.canary is not None:
            # The canary Deployment (components/canary.py) runs its fixed replicas whenever the catalog has one, at
            # every point: what is tried, sized as tried; a spot-fallback model's canary on on-demand, like its
            # floor (components/capacity_pools.py counts it the same way).
            own = demand.capacity if demand.capacity != "spot-fallback" else "on-demand"
            canary = dataclasses.replace(
                demand,
                model=canary_name(model),
                replicas=spec.rollout.canary.replicas,
                size=_size(canary_spec(spec)),
                capacity=own,
                field=("rollout", "canary"),
            )
            demands.append((canary, 1))
        for d, group in demands:
            result.append(d)
            if surge:
                result.append(
                    dataclasses.replace(d, model=f"{d.model} (rollout surge)", replicas=surge * group, spread=False)
                )
    return result


def _size(spec: ModelSpec) -> tuple[int, ...]:
    shape = replica_shape(spec)
    return (shape.cpu_millicores, -(-shape.memory_bytes // MIB), shape.gpu_units, 1)


def build_pools(
    env: Environment,
    at: str,
    capacity: str | None = None,
    replicas: dict[str, int] | None = None,
    surge: int = 0,
) -> list[Pool]:
    """Every pool of the stack at the chosen point, by name (accelerators, then ``cpu``)."""
    demands = demands_of(env, at, capacity, replicas, surge)
    by_pool: dict[str, list[Demand]] = {}
    for d in demands:
        by_pool.setdefault(d.pool, []).append(d)
    names = sorted(p for p in by_pool if p != CPU_POOL) + ([CPU_POOL] if CPU_POOL in by_pool else [])
    pools = []
    for name in names:
        gpu = name != CPU_POOL
        types = ACCELERATORS[name].instance_types if gpu else CPU_INSTANCE_TYPES
        sharing = env.settings.gpu_node_pool.sharing.get(name) if gpu else None
        slices = sharing.time_slicing_replicas if sharing is not None else 1
        pools.append(make_pool(name, types, by_pool[name], slices, daemonsets_on(env, gpu)))
    return pools


def make_pool(
    name: str,
    types: tuple[InstanceType, ...],
    demands: list[Demand],
    slices: int = 1,
    daemonsets: tuple[str, ...] = (),
    limits: dict[str, int] | None = None,
) -> Pool:
    """The problem of one pool; raises PlanInputError naming the first model no instance type holds."""
    wanted = {c for d in demands if d.replicas > 0 for c in ALLOWED_CAPACITY[d.capacity]}
    kinds = tuple(
        NodeKind(
            name=f"{t.name}/{cap}",
            capacity=node_capacity(t, slices, len(daemonsets)),
            hourly_usd=hourly_usd(t.name, cap),
            limit=(limits or {}).get(t.name),
        )
        for cap in ("on-demand", "spot")
        if cap in wanted
        for t in types
    )
    for d in demands:
        if d.replicas > 0 and not any(_holds(k.capacity, d.size) for k in kinds):
            raise PlanInputError(d.source or d.model, d.field, _too_big(d, name, types, slices, len(daemonsets)))
    groups: dict[tuple, list[Demand]] = {}
    for d in demands:
        if d.replicas <= 0:
            continue
        key = (d.size, d.capacity, d.spread, d.replicas if d.spread else 0)
        groups.setdefault(key, []).append(d)
    classes, members = [], []
    for key in sorted(groups):
        size, cap, spread, _ = key
        group = sorted(groups[key], key=lambda d: d.model)
        allowed = tuple(k.name for k in kinds if k.name.rsplit("/", 1)[1] in ALLOWED_CAPACITY[cap])
        classes.append(
            ItemClass(
                name=group[0].model if len(group) == 1 else f"{group[0].model} (+{len(group) - 1} alike)",
                demand=sum(d.replicas for d in group),
                size=size,
                kinds=allowed,
                per_node=len(group) if spread else None,
            )
        )
        members.append(tuple(d.model for d in group))
    return Pool(
        name=name,
        instance_types=types,
        kinds=kinds,
        classes=tuple(classes),
        members=tuple(members),
        demands={d.model: d for d in demands},
        slices_per_gpu=slices,
        daemonsets=daemonsets,
    )


def _holds(capacity: tuple[int, ...], size: tuple[int, ...]) -> bool:
    return all(s <= c for s, c in zip(size, capacity, strict=True))


def _too_big(d: Demand, pool: str, types: tuple[InstanceType, ...], slices: int, daemonset_pods: int) -> str:
    largest = max(types, key=lambda t: (t.gpus, t.vcpu, t.memory_gib))
    cap = node_capacity(largest, slices, daemonset_pods)
    cpu, mem, units, _ = d.size
    what = f"{cpu}m CPU, {mem}Mi memory" + (f", {units} GPU unit(s)" if units else "")
    where = f"the {pool} pool" if pool != "cpu" else "the CPU pool"
    return (
        f"a replica of '{d.model}' asks for {what}, more than any instance type of {where} offers: the largest, "
        f"{largest.name}, leaves pods {cap[0]}m CPU and {cap[1]}Mi memory"
        + (f" and {cap[2]} GPU unit(s)" if pool != "cpu" else "")
        + " after system and DaemonSet reservations"
    )


def reserve_note() -> str:
    return f"{DAEMONSET_RESERVE_CPU} CPU and {DAEMONSET_RESERVE_MEMORY} per node for DaemonSets"
