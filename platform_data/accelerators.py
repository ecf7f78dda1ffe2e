"""Accelerator table: one row per GPU model the catalog may ask for.

Both sides of GPU scheduling read this table: the workloads take their node selector and toleration from it,
and the GPU node pools take the labels and taints they put on their nodes from it. A new GPU is a new row.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Extended resource name the NVIDIA device plugin advertises; pods ask for GPUs in ``limits`` under this name.
GPU_RESOURCE = "nvidia.com/gpu"

#: Taint every GPU node carries so that only pods that asked for GPUs land there.
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_EFFECT = "NoSchedule"

#: Label the platform's GPU node pools put on their nodes; workloads select on it (one label, one table).
ACCELERATOR_LABEL = "ml-serving.dev/accelerator"


@dataclass(frozen=True)
class InstanceType:
    """One cloud instance size that carries this accelerator."""

    name: str
    gpus: int
    vcpu: int
    memory_gib: int


@dataclass(frozen=True)
class Accelerator:
    """What the platform knows about one GPU model."""

    name: str
    """Catalog key, e.g. ``nvidia-l4``."""
    gpu_memory_gib: int
    """Memory of one GPU."""
    karpenter_gpu_name: str
    """Value of Karpenter's well-known ``karpenter.k8s.aws/instance-gpu-name`` label for this GPU."""
    instance_types: tuple[InstanceType, ...]
    """AWS instance sizes that carry it, smallest first."""

    @property
    def max_gpus_per_node(self) -> int:
        return max(t.gpus for t in self.instance_types)

    @property
    def instance_families(self) -> tuple[str, ...]:
        return tuple(sorted({t.name.split(".")[0] for t in self.instance_types}))

    @property
    def node_labels(self) -> dict[str, str]:
        """Labels a node pool for this accelerator puts on its nodes, and workloads select on."""
        return {ACCELERATOR_LABEL: self.name}


# Instance data: AWS EC2 accelerated-computing instance pages (g4dn, g5, g6, p4d/p4de, p5). Only the sizes a
# serving node pool would reasonably use are listed; the largest size of each family bounds GPUs per pod.
ACCELERATORS: dict[str, Accelerator] = {
    row.name: row
    for row in (
        Accelerator(
            name="nvidia-t4",
            gpu_memory_gib=16,
            karpenter_gpu_name="t4",
            instance_types=(
                InstanceType("g4dn.xlarge", 1, 4, 16),
                InstanceType("g4dn.2xlarge", 1, 8, 32),
                InstanceType("g4dn.4xlarge", 1, 16, 64),
                InstanceType("g4dn.12xlarge", 4, 48, 192),
            ),
        ),
        Accelerator(
            name="nvidia-l4",
            gpu_memory_gib=24,
            karpenter_gpu_name="l4",
            instance_types=(
                InstanceType("g6.xlarge", 1, 4, 16),
                InstanceType("g6.2xlarge", 1, 8, 32),
                InstanceType("g6.4xlarge", 1, 16, 64),
                InstanceType("g6.12xlarge", 4, 48, 192),
                InstanceType("g6.48xlarge", 8, 192, 768),
            ),
        ),
        Accelerator(
            name="nvidia-a10g",
            gpu_memory_gib=24,
            karpenter_gpu_name="a10g",
            instance_types=(
                InstanceType("g5.xlarge", 1, 4, 16),
                InstanceType("g5.2xlarge", 1, 8, 32),
                InstanceType("g5.4xlarge", 1, 16, 64),
                InstanceType("g5.12xlarge", 4, 48, 192),
                InstanceType("g5.48xlarge", 8, 192, 768),
            ),
        ),
        Accelerator(
            name="nvidia-a100",
            gpu_memory_gib=40,
            karpenter_gpu_name="a100",
            instance_types=(InstanceType("p4d.24xlarge", 8, 96, 1152),),
        ),
        Accelerator(
            name="nvidia-a100-80gb",
            gpu_memory_gib=80,
            karpenter_gpu_name="a100",
            instance_types=(InstanceType("p4de.24xlarge", 8, 96, 1152),),
        ),
        Accelerator(
            name="nvidia-h100",
            gpu_memory_gib=80,
            karpenter_gpu_name="h100",
            instance_types=(InstanceType("p5.48xlarge", 8, 192, 2048),),
        ),
    )
}

ACCELERATOR_NAMES: tuple[str, ...] = tuple(sorted(ACCELERATORS))
