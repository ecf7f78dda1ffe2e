"""Fake nodes for the local e2e control plane (kwok runs them: no kubelet, no containers).

The GPU nodes are the ones the stack's node pools would launch, from the same data the render uses: per accelerator
the stack's models use, ``components.gpu_capacity`` picks each model's instance type and how many nodes hold its
replicas at ``maxReplicas`` during a rollout; ``components.gpu_node_pool`` gives the labels and the taint a pool puts
on its nodes (or the declared labels and taints of ``existing`` nodes); the instance type gives allocatable CPU,
memory and ``nvidia.com/gpu`` (one per slice of a time-sliced GPU). CPU nodes hold the CPU models at ``maxReplicas``
during a rollout. So the real kube-scheduler places every model exactly where the catalog says it must go.
"""

from __future__ import annotations

import math
from typing import Any

from components.capacity_placement import CAPACITY_TYPE_LABEL
from components.capacity_pools import pool_plans, pool_suffix
from components.gpu_capacity import (
    ROLLOUT_SURGE,
    AcceleratorPlan,
    nodes_for,
    placement_for,
    plan_capacity,
    replica_shape,
)
from components.gpu_node_pool import GPU_TAINT_VALUE, NODEPOOL_LABEL, node_labels, pool_name
from model_catalog.environment import Environment
from model_catalog.quantities import byte_count, cpu_millicores
from platform_data.accelerators import GPU_RESOURCE, GPU_TAINT_EFFECT, GPU_TAINT_KEY, InstanceType

#: kwok manages the nodes carrying this annotation (tools/e2e/cluster.sh starts it with this selector).
KWOK_ANNOTATION = {"kwok.x-k8s.io/node": "fake"}
#: A general-purpose node for CPU models (m6i.4xlarge, AL2023 allocatable as Karpenter computes it).
CPU_INSTANCE = InstanceType("m6i.4xlarge", 0, 16, 64, "15890m", "57691Mi", 234)
MAX_PODS = 110
EPHEMERAL_STORAGE = "200Gi"

Manifest = dict[str, Any]


def node(name: str, instance: InstanceType, labels: dict[str, str], taints: list[Manifest], gpus: int) -> Manifest:
    capacity = {
        "cpu": instance.allocatable_cpu,
        "memory": instance.allocatable_memory,
        "pods": str(MAX_PODS),
        "ephemeral-storage": EPHEMERAL_STORAGE,
    }
    if gpus:
        capacity[GPU_RESOURCE] = str(gpus)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": dict(KWOK_ANNOTATION),
            "labels": {
                **labels,
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": instance.name,
                "type": "kwok",
            },
        },
        "spec": {"taints": taints} if taints else {},
        # Nodes may be created with their status; kwok keeps it and reports them Ready.
        "status": {"capacity": capacity, "allocatable": dict(capacity)},
    }


def gpu_nodes(env: Environment) -> list[Manifest]:
    settings = env.settings
    pools = settings.gpu_node_pool
    nodes: list[Manifest] = []
    by_pool = pool_plans(settings, env.models)
    for accelerator, whole in plan_capacity(settings, env.models).items():
        labels = node_labels(settings, whole)
        # Karpenter: one group of nodes per pool (on-demand, spot), each labelled with its pool and capacity type.
        groups: list[tuple[str, dict[str, str], AcceleratorPlan]] = [("", labels, whole)]
        if pools.provider == "existing":
            declared = pools.existing[accelerator]
            taints = []
            for taint in declared.taints:
                key_value, _, effect = taint.partition(":")
                key, _, value = key_value.partition("=")
                taints.append({"key": key, "effect": effect, **({"value": value} if value else {})})
        else:
            taints = [{"key": GPU_TAINT_KEY, "value": GPU_TAINT_VALUE, "effect": GPU_TAINT_EFFECT}]
            groups = [
                (
                    pool_suffix(p.capacity_type),
                    {
                        **labels,
                        NODEPOOL_LABEL: pool_name(settings, accelerator) + pool_suffix(p.capacity_type),
                        CAPACITY_TYPE_LABEL: p.capacity_type,
                    },
                    p.plan,
                )
                for p in by_pool[accelerator]
            ]
        for suffix, group_labels, plan in groups:
            nodes += _group_nodes(f"gpu-{accelerator}{suffix}", plan, group_labels, taints)
    return nodes


def _group_nodes(prefix: str, plan: AcceleratorPlan, labels: dict[str, str], taints: list[Manifest]) -> list[Manifest]:
    nodes: list[Manifest] = []
    for demand in plan.models:
        placement = plan.placements.get(demand.model) or placement_for(
            plan.accelerator, demand.shape, plan.slices_per_gpu
        )
        count = nodes_for(demand.max_replicas + ROLLOUT_SURGE, demand.min_replicas, placement.replicas_per_node)
        gpus = placement.instance.gpus * plan.slices_per_gpu
        nodes += [node(f"{prefix}-{demand.model}-{i}", placement.instance, labels, taints, gpus) for i in range(count)]
    return nodes


def cpu_nodes(env: Environment, minimum: int = 2) -> list[Manifest]:
    """Enough general-purpose nodes for every CPU model at maxReplicas plus a rollout's surge, by CPU and memory."""
    cpu = memory = 0
    for spec in env.models.values():
        if spec.resources.gpu is None:
            shape = replica_shape(spec)
            replicas = spec.scaling.max_replicas + ROLLOUT_SURGE
            cpu += shape.cpu_millicores * replicas
            memory += shape.memory_bytes * replicas
    count = max(
        minimum,
        math.ceil(cpu / cpu_millicores(CPU_INSTANCE.allocatable_cpu)),
        math.ceil(memory / byte_count(CPU_INSTANCE.allocatable_memory)),
    )
    return [node(f"cpu-{i}", CPU_INSTANCE, {}, [], 0) for i in range(count)]


def fake_nodes(env: Environment) -> list[Manifest]:
    return cpu_nodes(env) + gpu_nodes(env)
