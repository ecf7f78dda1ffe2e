"""GpuNodePool: the stack's GPU capacity, derived from its catalog, as Kubernetes objects.

Per stack setting ``gpuNodePool.provider``:

- ``karpenter``: per accelerator the enabled models use (and none other), a Karpenter ``NodePool`` and its
  ``EC2NodeClass``; plus the NVIDIA device plugin on exactly those nodes.
- ``existing``: the cluster's own GPU nodes (declared labels and taints); only the device plugin, unless it is
  turned off.
- ``none``: nothing; the catalog checks already rejected GPU models (the program never creates this component).

The builders are pure functions returning manifest dicts (tested on plain data); the class registers them. Every
number comes from ``components.gpu_capacity``, every GPU fact from ``platform_data.accelerators``: the labels a pool
puts on its nodes are the very labels ``components.workload.gpu_placement`` makes pods select.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings
from platform_data import pins
from platform_data.accelerators import GPU_RESOURCE, GPU_TAINT_EFFECT, GPU_TAINT_KEY

from .capacity_pools import PoolPlan, pool_plans, pool_suffix
from .device_plugin import CONFIG_LABEL, RELEASE_SUFFIX, DevicePlugin, DevicePluginArgs
from .gpu_capacity import AcceleratorPlan, plan_capacity
from .kube import await_ready, register
from .labels import platform_labels
from .protection import is_prod

TYPE = "ml-serving:gpu:GpuNodePool"
#: Value of the GPU taint on pool nodes (pods tolerate the key with operator Exists, so any value works).
GPU_TAINT_VALUE = "true"
#: Karpenter sets this label on every node it launches to the name of its NodePool.
NODEPOOL_LABEL = "karpenter.sh/nodepool"
DISCOVERY_TAG = "karpenter.sh/discovery"
#: gp3 root volume performance: at the 125 MiB/s baseline, unpacking a 15 GB image and writing 70+ GB of weights
#: take longer than the model load itself; 1000 MiB/s and 16000 IOPS cost well under an hour of GPU time a month.
ROOT_VOLUME_IOPS = 16000
ROOT_VOLUME_THROUGHPUT_MIBPS = 1000
#: Prod: no drift replacement (AMI bump, node class change) while people use the models; each one reloads every
#: model on the node. Karpenter schedules are UTC cron; 06:00-18:00 UTC covers European and US-East mornings.
DRIFT_FREEZE_SCHEDULE = "0 6 * * 1-5"
DRIFT_FREEZE_DURATION = "12h"

Manifest = dict[str, Any]


#: How long `pulumi up` waits for Karpenter to report an EC2NodeClass Ready (AMI alias, subnets, security groups
#: and instance profile resolved: seconds when they exist) and a NodePool Ready (its node class Ready). A wrong
#: role, tag or AMI fails here in minutes instead of as a GPU Deployment's 90-minute timeout.
NODE_CLASS_READY_SECONDS = 300
NODE_POOL_READY_SECONDS = 300


def pool_name(settings: StackSettings, accelerator: str) -> str:
    """NodePool and EC2NodeClass name: cluster-scoped, so prefixed by the stack's namespace (unique per cluster:
    staging shares its cluster)."""
    return f"{settings.environment.namespace}-{accelerator}"


def node_labels(settings: StackSettings, plan: AcceleratorPlan) -> dict[str, str]:
    """Labels the pool puts on its nodes: the accelerator's (what GPU pods select on), and for a time-sliced
    accelerator the device-plugin configuration to use."""
    labels = settings.node_labels(plan.accelerator.name)
    if plan.slices_per_gpu > 1:
        labels[CONFIG_LABEL] = plan.accelerator.name
    return labels


def node_pool_manifest(
    settings: StackSettings, plan: AcceleratorPlan, capacity_type: str = "on-demand", weight: int | None = None
) -> Manifest:
    """One accelerator's pool of one capacity type (components/capacity_pools.py): on-demand ``<ns>-<accelerator>``,
    spot ``<ns>-<accelerator>-spot``; ``weight``: Karpenter's preference between the two (spot higher)."""
    accelerator = plan.accelerator
    node_class = pool_name(settings, accelerator.name)
    name = node_class + pool_suffix(capacity_type)
    pools = settings.gpu_node_pool
    requirements = [
        # Exactly the instance types that hold a replica within the limit; also tells a100 from a100-80gb.
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [t.name for t in plan.instance_types]},
        {"key": "karpenter.k8s.aws/instance-gpu-name", "operator": "In", "values": [accelerator.karpenter_gpu_name]},
        {
            "key": "karpenter.k8s.aws/instance-gpu-memory",
            "operator": "In",
            "values": [str(accelerator.karpenter_gpu_memory_mib)],
        },
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [capacity_type]},
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
        {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
    ]
    budgets: list[Manifest] = [{"nodes": "1"}]
    if settings.environment.tier == "prod":
        budgets.append(
            {
                "nodes": "0",
                "reasons": ["Drifted"],
                "schedule": DRIFT_FREEZE_SCHEDULE,
                "duration": DRIFT_FREEZE_DURATION,
            }
        )
    pool: Manifest = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": await_ready(
            {"name": name, "labels": platform_labels("gpu-node-pool", settings.environment.labels)},
            NODE_POOL_READY_SECONDS,
        ),
        "spec": {
            "template": {
                "metadata": {"labels": node_labels(settings, plan)},
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": node_class},
                    "requirements": requirements,
                    "taints": [{"key": GPU_TAINT_KEY, "value": GPU_TAINT_VALUE, "effect": GPU_TAINT_EFFECT}],
                    "expireAfter": pools.expire_after,
                    "terminationGracePeriod": f"{plan.termination_grace_minutes}m",
                },
            },
            "limits": {GPU_RESOURCE: plan.gpu_limit},
            "disruption": {
                # A node serving a model is never repacked onto a cheaper one: every move is a full model reload.
                "consolidationPolicy": "WhenEmpty",
                "consolidateAfter": pools.consolidate_after,
                # One GPU node at a time, whatever the reason: replacements come up before the next node drains.
                "budgets": budgets,
            },
        },
    }
    if weight is not None:
        pool["spec"]["weight"] = weight
    return pool


def node_class_manifest(settings: StackSettings, plan: AcceleratorPlan) -> Manifest:
    pools = settings.gpu_node_pool
    name = pool_name(settings, plan.accelerator.name)
    discovery = {DISCOVERY_TAG: pools.discovery_tag or settings.cluster.name}
    assert pools.node_role is not None, "settings checks require nodeRole for provider karpenter"
    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": await_ready(
            {"name": name, "labels": platform_labels("gpu-node-class", settings.environment.labels)},
            NODE_CLASS_READY_SECONDS,
        ),
        "spec": {
            # AL2023 alias: Karpenter resolves the EKS-optimized NVIDIA variant (driver and container toolkit
            # installed) for GPU instance types. Bottlerocket would bring its own device plugin and a two-volume
            # layout; one family keeps the device plugin and the volume below right.
            "amiSelectorTerms": [{"alias": pools.ami_alias or pins.EKS_AL2023_AMI_ALIAS}],
            "role": pools.node_role,
            "subnetSelectorTerms": [{"tags": dict(discovery)}],
            "securityGroupSelectorTerms": [{"tags": dict(discovery)}],
            # AL2023 keeps images and ephemeral storage (emptyDirs, downloaded weights) on the root volume.
            "blockDeviceMappings": [
                {
                    "deviceName": "/dev/xvda",
                    "rootVolume": True,
                    "ebs": {
                        "volumeSize": f"{plan.root_volume_gib}Gi",
                        "volumeType": "gp3",
                        "iops": ROOT_VOLUME_IOPS,
                        "throughput": ROOT_VOLUME_THROUGHPUT_MIBPS,
                        "encrypted": True,
                        "deleteOnTermination": True,
                    },
                }
            ],
            # IMDSv2 only, one hop: pods (one hop further, in their network namespace) cannot reach the node
            # role's credentials; they use their own workload identity.
            "metadataOptions": {
                "httpEndpoint": "enabled",
                "httpProtocolIPv6": "disabled",
                "httpPutResponseHopLimit": 1,
                "httpTokens": "required",
            },
            "tags": {
                **settings.environment.labels,
                "ml-serving.dev/namespace": settings.environment.namespace,
                "ml-serving.dev/accelerator": plan.accelerator.name,
            },
        },
    }


def device_plugin_args(
    settings: StackSettings, slices: dict[str, int], pools_by_type: dict[str, tuple[PoolPlan, ...]]
) -> DevicePluginArgs:
    """Where the device plugin runs: the stack's Karpenter pools by name, or the declared existing GPU nodes.
    ``slices``: per accelerator served, its GPU units per physical GPU (time slicing when above 1)."""
    pools = settings.gpu_node_pool
    tolerations: list[Manifest] = []
    if pools.provider == "karpenter":
        names = [
            pool_name(settings, accelerator) + pool_suffix(p.capacity_type)
            for accelerator in sorted(pools_by_type)
            for p in pools_by_type[accelerator]
        ]
        terms = [{"matchExpressions": [{"key": NODEPOOL_LABEL, "operator": "In", "values": names}]}]
    else:
        terms = []
        for accelerator in sorted(slices):
            nodes = pools.existing[accelerator]
            expressions = [{"key": k, "operator": "In", "values": [v]} for k, v in sorted(nodes.labels.items())]
            terms.append({"matchExpressions": expressions})
            for taint in nodes.taints:
                key_value, _, effect = taint.partition(":")
                toleration = {"key": key_value.split("=", 1)[0], "operator": "Exists", "effect": effect}
                if toleration not in tolerations:
                    tolerations.append(toleration)
    return DevicePluginArgs(
        namespace=f"{settings.environment.namespace}-nvidia-device-plugin",
        release=f"{settings.environment.namespace}-{RELEASE_SUFFIX}",
        node_selector_terms=terms,
        tolerated_taints=tolerations,
        time_slicing={name: units for name, units in slices.items() if units > 1},
        labels=dict(settings.environment.labels),
        kubernetes_version=settings.cluster.kubernetes_version,
        api_server_cidrs=list(settings.network.api_server_cidrs),
        protect=is_prod(settings),
    )


@dataclass
class GpuNodePoolArgs:
    settings: StackSettings
    """The stack's settings (provider, capacity type, headroom, node role, sharing, disruption)."""
    models: dict[str, ModelSpec]
    """The stack's models as effective in this stack; the enabled GPU models size the pools."""
    planned_gpus: dict[str, int] | None = None
    """Per accelerator, the GPUs of the capacity planner's nodes (``gpuNodePool.limits: plan``); None: the catalog
    limits."""


class GpuNodePool(pulumi.ComponentResource):
    """GPU node pools (one per used accelerator) and the device plugin, for one stack."""

    def __init__(self, name: str, args: GpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        settings = args.settings
        self.plans = plan_capacity(settings, args.models, args.planned_gpus)
        self.pool_plans = pool_plans(settings, args.models, args.planned_gpus)
        self.node_classes: dict[str, pulumi.CustomResource] = {}
        self.node_pools: dict[str, pulumi.CustomResource] = {}
        if settings.gpu_node_pool.provider == "karpenter":
            for accelerator, plan in self.plans.items():
                # One node class per accelerator, sized for every model on it; its pools share it.
                node_class = register(
                    f"{name}-{accelerator}-node-class",
                    node_class_manifest(settings, plan),
                    pulumi.ResourceOptions(parent=self),
                )
                self.node_classes[accelerator] = node_class
                for pool in self.pool_plans[accelerator]:
                    key = accelerator + pool_suffix(pool.capacity_type)
                    self.node_pools[key] = register(
                        f"{name}-{key}-node-pool",
                        node_pool_manifest(settings, pool.plan, pool.capacity_type, pool.weight),
                        pulumi.ResourceOptions(parent=self, depends_on=[node_class]),
                    )
        self.device_plugin = None
        if settings.gpu_node_pool.install_device_plugin and self.plans:
            self.device_plugin = DevicePlugin(
                f"{name}-device-plugin",
                device_plugin_args(
                    settings, {name: plan.slices_per_gpu for name, plan in self.plans.items()}, self.pool_plans
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs(
            {
                "accelerators": sorted(self.plans),
                "gpuLimits": {
                    a + pool_suffix(p.capacity_type): p.plan.gpu_limit
                    for a, pools in self.pool_plans.items()
                    for p in pools
                },
            }
        )
