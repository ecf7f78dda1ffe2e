"""GPU capacity of a stack, derived from its catalog: what each accelerator's node pool must hold and what it costs.

Pure arithmetic, no Pulumi: the GPU node pools (limits, instance types, volume, grace period), the capacity report
(``mlserve capacity``) and the tests read the same numbers from here.

The placement model, stated once (docs/gpu-node-pools.md explains it at length):

- A replica asks for ``count x tensorParallelism`` GPU units (a unit is a GPU, or one slice of a time-sliced GPU),
  and for cpu and memory: the larger of its server container and its weight-fetching init container.
- Each model's replicas prefer distinct nodes (hostname anti-affinity). Karpenter honours that preference when it
  launches nodes for pending pods, so the first ``minReplicas`` replicas each get a node of their own. Replicas the
  autoscaler adds later are placed by the scheduler on free room of those nodes first; only the overflow needs new
  nodes. Each node is the cheapest allowed instance type that fits one replica (Karpenter launches the cheapest
  instance that fits what is pending).
- A rollout surges one extra replica (``maxSurge: 1``, ``maxUnavailable: 0`` in components/workload.py), so at
  ``maxReplicas`` a rollout needs room for one more.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from model_catalog.quantities import byte_count, cpu_millicores
from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings
from platform_data.accelerators import ACCELERATORS, Accelerator, InstanceType
from platform_data.prices import ON_DEMAND_USD_PER_HOUR

from .lora import adapters_volume_bytes
from .multinode.lws import group_size
from .workload import FETCH_RESOURCES, deployment_timeout_seconds, drain_seconds, gpus_per_pod, weights_volume_bytes

#: Extra replicas a rollout runs at once (the Deployment strategy's maxSurge in components/workload.py).
ROLLOUT_SURGE = 1
#: Root volume room for the OS and container images: AL2023 itself, plus a couple of multi-GB CUDA serving images
#: (vLLM, Triton: 8-15 GB compressed each), which containerd keeps both compressed and unpacked, plus the kubelet's
#: image garbage collection headroom (it starts at 85% disk use).
IMAGE_ALLOWANCE_GIB = 100
#: The kubelet evicts pods when less than 10% of the node filesystem is free (nodefs.available default).
NODEFS_EVICTION_FRACTION = 0.10


@dataclass(frozen=True)
class ReplicaShape:
    """What one replica of a model asks a node for."""

    cpu_millicores: int
    memory_bytes: int
    ephemeral_bytes: int
    gpu_units: int


@dataclass(frozen=True)
class ModelDemand:
    """One GPU model of the stack: its replica shape and bounds."""

    model: str
    shape: ReplicaShape
    min_replicas: int
    max_replicas: int
    worst_start_seconds: int
    """Node, image pull, weight download and load budget, plus the drain: how long a replacement replica may take
    before the one it replaces is killed."""
    group_size: int = 1
    """Pods per catalog replica (a multi-node LeaderWorkerSet group); min/max_replicas above count pods."""


@dataclass(frozen=True)
class Placement:
    """Where one model's replicas go: one instance type, so many replicas per node."""

    instance: InstanceType
    replicas_per_node: int

    @property
    def hourly_usd(self) -> float:
        return ON_DEMAND_USD_PER_HOUR[self.instance.name]


def nodes_for(replicas: int, min_replicas: int, per_node: int) -> int:
    """Nodes holding ``replicas`` replicas of one model: the first ``min_replicas`` (at least one) spread one per
    node, the rest packed into their free room, overflow on new nodes."""
    if replicas <= 0:
        return 0
    spread = min(replicas, max(min_replicas, 1))
    overflow = replicas - spread * per_node
    return spread + max(0, math.ceil(overflow / per_node))


def replica_shape(spec: ModelSpec) -> ReplicaShape:
    """Requests of one replica, as the scheduler sums them: per resource, the larger of the server container and
    the init container (which runs before it), plus the download volume in ephemeral storage."""
    res = spec.resources
    cpu = cpu_millicores(res.cpu)
    memory = byte_count(res.memory)
    ephemeral = byte_count(res.ephemeral_storage) + weights_volume_bytes(spec) + adapters_volume_bytes(spec)
    if weights_volume_bytes(spec) or spec.adapters:
        cpu = max(cpu, cpu_millicores(FETCH_RESOURCES["cpu"]))
        memory = max(memory, byte_count(FETCH_RESOURCES["memory"]))
        ephemeral = max(ephemeral, byte_count(FETCH_RESOURCES["ephemeral-storage"]))
    return ReplicaShape(cpu, memory, ephemeral, gpus_per_pod(spec))


def model_demand(model: str, spec: ModelSpec) -> ModelDemand:
    # A multi-node replica is a group of pods, one per node (components/multinode/lws.py): capacity, pool limits and
    # cost count every pod of every group, so a group is never half-provisioned.
    pods = group_size(spec)
    return ModelDemand(
        model=model,
        shape=replica_shape(spec),
        min_replicas=spec.scaling.min_replicas * pods,
        max_replicas=spec.scaling.max_replicas * pods,
        worst_start_seconds=deployment_timeout_seconds(spec) + drain_seconds(spec),
        group_size=pods,
    )


def canary_demand(model: str, spec: ModelSpec) -> ModelDemand:
    """A model's canary (components/canary.py): its own fixed replicas, as its own row of the plan."""
    from .canary import canary_name, canary_spec  # canary builds on the workload, as this module does

    canary = spec.rollout.canary
    assert canary is not None
    tried = canary_spec(spec)
    return ModelDemand(
        model=canary_name(model),
        shape=replica_shape(tried),
        min_replicas=canary.replicas,
        max_replicas=canary.replicas,
        worst_start_seconds=deployment_timeout_seconds(tried) + drain_seconds(tried),
    )


def fitting_instances(accelerator: Accelerator, shape: ReplicaShape, slices: int = 1) -> list[InstanceType]:
    """Instance types of the accelerator that hold at least one such replica (GPUs, cpu and memory)."""
    return [
        t
        for t in accelerator.instance_types
        if t.replicas_that_fit(shape.cpu_millicores, shape.memory_bytes, shape.gpu_units, slices) >= 1
    ]


def placement_for(accelerator: Accelerator, shape: ReplicaShape, slices: int = 1) -> Placement:
    """The cheapest instance type that fits one replica (fewer GPUs on a tie), and how many replicas it holds."""
    candidates = fitting_instances(accelerator, shape, slices)
    if not candidates:
        raise ValueError(f"no {accelerator.name} instance type fits {shape}; the catalog checks reject this")
    best = min(candidates, key=lambda t: (ON_DEMAND_USD_PER_HOUR[t.name], t.gpus))
    per_node = best.replicas_that_fit(shape.cpu_millicores, shape.memory_bytes, shape.gpu_units, slices)
    return Placement(best, per_node)


@dataclass(frozen=True)
class AcceleratorPlan:
    """Everything the stack needs of one accelerator."""

    accelerator: Accelerator
    models: tuple[ModelDemand, ...]
    """The stack's enabled models on this accelerator, by name."""
    slices_per_gpu: int
    """GPU units per physical GPU: 1, or the time-slicing replicas of a shared accelerator."""
    headroom_percent: int
    placements: dict[str, Placement]
    """Per model, where its replicas go (provider karpenter only; empty for existing nodes)."""
    planned_gpus: int | None = None
    """Physical GPUs of the capacity planner's nodes (``gpuNodePool.limits: plan``): the pool's limit instead of the
    catalog's arithmetic below. None: the catalog limit."""

    # --- what the catalog asks for ---------------------------------------------------------------------------------
    def units_at(self, which: str) -> int:
        """GPU units requested by all replicas at ``min`` or ``max`` replicas."""
        return sum(_replicas(m, which) * m.shape.gpu_units for m in self.models)

    def gpus_at(self, which: str) -> int:
        """Physical GPUs the requested units need at best (slices of one GPU packed together)."""
        return math.ceil(self.units_at(which) / self.slices_per_gpu)

    # --- what the node pool provides (provider karpenter) ----------------------------------------------------------
    def nodes_at(self, which: str) -> int:
        return sum(self._nodes(m, _replicas(m, which)) for m in self.models)

    def hourly_usd_at(self, which: str) -> float:
        """On-demand list price of the nodes at ``min`` or ``max`` replicas (placement model above)."""
        return sum(self._nodes(m, _replicas(m, which)) * self.placements[m.model].hourly_usd for m in self.models)

    @property
    def catalog_gpu_limit(self) -> int:
        """GPUs at max replicas plus the stack's headroom (physical GPUs)."""
        return math.ceil(self.gpus_at("max") * (100 + self.headroom_percent) / 100)

    @property
    def node_gpu_floor(self) -> int:
        """GPUs of the nodes that hold every model at max replicas during a rollout (physical GPUs). A limit below
        this leaves pods pending: Karpenter launches whole instances and never one that would cross the limit."""
        return sum(
            self._nodes(m, m.max_replicas + ROLLOUT_SURGE) * self.placements[m.model].instance.gpus for m in self.models
        )

    @property
    def physical_gpu_limit(self) -> int:
        if self.planned_gpus is not None:
            return self.planned_gpus
        return max(self.catalog_gpu_limit, self.node_gpu_floor)

    @property
    def gpu_limit(self) -> int:
        """The NodePool's ``limits["nvidia.com/gpu"]``. Karpenter counts a registered node's advertised
        ``nvidia.com/gpu`` (time-sliced GPUs advertise one per slice), so the limit is in units."""
        return self.physical_gpu_limit * self.slices_per_gpu

    @property
    def instance_types(self) -> tuple[InstanceType, ...]:
        """Instance types the pool may launch: those that fit a replica of one of its models and whose GPUs fit
        within the limit (Karpenter would never launch the others)."""
        return tuple(
            t
            for t in self.accelerator.instance_types
            if t.gpus <= self.physical_gpu_limit
            and any(t in fitting_instances(self.accelerator, m.shape, self.slices_per_gpu) for m in self.models)
        )

    @property
    def root_volume_gib(self) -> int:
        """Root volume for images plus the ephemeral storage of a node full of replicas, above the kubelet's
        eviction threshold, rounded up to 10 GiB."""
        per_unit = max(m.shape.ephemeral_bytes / m.shape.gpu_units for m in self.models)
        pods = max(t.gpus * self.slices_per_gpu for t in self.instance_types) * per_unit / 2**30
        needed = (IMAGE_ALLOWANCE_GIB + pods) / (1 - NODEFS_EVICTION_FRACTION)
        return math.ceil(needed / 10) * 10

    @property
    def termination_grace_minutes(self) -> int:
        """How long a draining node waits for its pods (PDBs respected meanwhile): the slowest model's worst-case
        start, so a replacement replica can become ready before the old one is force-killed."""
        return math.ceil(max(m.worst_start_seconds for m in self.models) / 60)

    def _nodes(self, m: ModelDemand, replicas: int) -> int:
        return nodes_for(replicas, m.min_replicas, self.placements[m.model].replicas_per_node)


def _replicas(m: ModelDemand, which: str) -> int:
    return {"min": m.min_replicas, "max": m.max_replicas}[which]


def plan_capacity(
    settings: StackSettings, models: dict[str, ModelSpec], planned_gpus: Mapping[str, int] | None = None
) -> dict[str, AcceleratorPlan]:
    """Per accelerator the stack's enabled models use (and only those), sorted by name, its plan. ``planned_gpus``:
    per accelerator, the GPUs of the capacity planner's nodes, which replace the catalog limit (computed above the
    components, by planning/limits.py, for ``gpuNodePool.limits: plan``)."""
    pools = settings.gpu_node_pool
    by_accelerator: dict[str, list[ModelDemand]] = {}
    for model in sorted(models):
        spec = models[model]
        if spec.enabled and spec.resources.gpu is not None:
            by_accelerator.setdefault(spec.resources.gpu.accelerator, []).append(model_demand(model, spec))
            if spec.rollout.canary is not None:
                by_accelerator[spec.resources.gpu.accelerator].append(canary_demand(model, spec))
    plans: dict[str, AcceleratorPlan] = {}
    for name in sorted(by_accelerator):
        accelerator = ACCELERATORS[name]
        sharing = pools.sharing.get(name)
        slices = sharing.time_slicing_replicas if sharing is not None else 1
        demands = tuple(by_accelerator[name])
        placements = (
            {m.model: placement_for(accelerator, m.shape, slices) for m in demands}
            if pools.provider == "karpenter"
            else {}
        )
        planned = None if planned_gpus is None else planned_gpus[name]
        plans[name] = AcceleratorPlan(accelerator, demands, slices, pools.headroom_percent, placements, planned)
    return plans
