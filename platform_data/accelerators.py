"""Accelerator table: one row per GPU model the catalog may ask for.

Both sides of GPU scheduling read this table: the workloads take their node selector and toleration from it,
and the GPU node pools take the labels and taints they put on their nodes from it. A new GPU is a new row.
"""

from __future__ import annotations

from dataclasses import dataclass

from model_catalog.quantities import byte_count, cpu_millicores

#: Extended resource name the NVIDIA device plugin advertises; pods ask for GPUs in ``limits`` under this name.
GPU_RESOURCE = "nvidia.com/gpu"

#: Taint every GPU node carries so that only pods that asked for GPUs land there.
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_EFFECT = "NoSchedule"

#: Label the platform's GPU node pools put on their nodes; workloads select on it (one label, one table).
ACCELERATOR_LABEL = "ml-serving.dev/accelerator"

#: What the DaemonSets of a GPU node ask for (VPC CNI, kube-proxy, EBS CSI, pod identity, the NVIDIA device plugin,
#: node and GPU exporters, a log shipper: together about 0.4 CPU and 0.4Gi). Reserved with a margin, so a model whose
#: requests fit an instance's allocatable minus this reserve is never left pending by a DaemonSet.
DAEMONSET_RESERVE_CPU = "1"
DAEMONSET_RESERVE_MEMORY = "1Gi"


@dataclass(frozen=True)
class InstanceType:
    """One cloud instance size that carries this accelerator."""

    name: str
    gpus: int
    vcpu: int
    memory_gib: int
    allocatable_cpu: str
    """CPU left for pods after kubelet and system reservations, as Karpenter computes it for AL2023 (its
    instance-types reference, "Resources" table)."""
    allocatable_memory: str
    """Memory left for pods after kubelet, system and VM overhead, as Karpenter computes it for AL2023."""
    max_pods: int
    """Pods the node admits (Karpenter's ``pods`` resource: the VPC CNI's ENI limit, 110 cap off); DaemonSet pods
    count against it."""

    @property
    def pod_cpu_millicores(self) -> int:
        """CPU a model's pods can have on this instance: allocatable minus the DaemonSet reserve."""
        return cpu_millicores(self.allocatable_cpu) - cpu_millicores(DAEMONSET_RESERVE_CPU)

    @property
    def pod_memory_bytes(self) -> int:
        """Memory a model's pods can have on this instance: allocatable minus the DaemonSet reserve."""
        return byte_count(self.allocatable_memory) - byte_count(DAEMONSET_RESERVE_MEMORY)

    def replicas_that_fit(self, cpu: int, memory: int, gpus: int, slices_per_gpu: int = 1) -> int:
        """How many pods asking for ``cpu`` millicores, ``memory`` bytes and ``gpus`` GPU units fit on one node
        (a GPU unit is a whole GPU, or one slice of a shared GPU)."""
        by_gpu = (self.gpus * slices_per_gpu) // gpus if gpus else 0
        return min(by_gpu, self.pod_cpu_millicores // max(cpu, 1), self.pod_memory_bytes // max(memory, 1))


@dataclass(frozen=True)
class Accelerator:
    """What the platform knows about one GPU model."""

    name: str
    """Catalog key, e.g. ``nvidia-l4``."""
    gpu_memory_gib: int
    """Memory of one GPU."""
    karpenter_gpu_name: str
    """Value of Karpenter's well-known ``karpenter.k8s.aws/instance-gpu-name`` label for this GPU."""
    karpenter_gpu_memory_mib: int
    """Value of ``karpenter.k8s.aws/instance-gpu-memory`` (MiB per GPU, as EC2 reports it); tells GPUs that share
    a name apart (a100 40 GB and 80 GB)."""
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


# Instance data: AWS EC2 accelerated-computing instance pages (g4dn, g5, g6, p4d/p4de, p5). GPU names, GPU memory
# (MiB), GPU counts, allocatable cpu/memory and pods: Karpenter's generated instance-types reference
# (aws/karpenter-provider-aws website/content/en/docs/reference/instance-types.md, commit 0c5e7d81, AL2023, no
# blockDeviceMappings). Only the sizes a serving node pool would reasonably use are listed; the largest size of each
# family bounds GPUs per pod. p5.4xlarge (one H100) is left out: Karpenter reports it with instance-gpu-count 0 and
# no nvidia.com/gpu, so it could never satisfy a GPU pod.
ACCELERATORS: dict[str, Accelerator] = {
    row.name: row
    for row in (
        Accelerator(
            name="nvidia-t4",
            gpu_memory_gib=16,
            karpenter_gpu_name="t4",
            karpenter_gpu_memory_mib=16384,
            instance_types=(
                InstanceType("g4dn.xlarge", 1, 4, 16, "3920m", "14481Mi", 29),
                InstanceType("g4dn.2xlarge", 1, 8, 32, "7910m", "29636Mi", 29),
                InstanceType("g4dn.4xlarge", 1, 16, 64, "15890m", "59946Mi", 29),
                InstanceType("g4dn.12xlarge", 4, 48, 192, "47810m", "178933Mi", 234),
            ),
        ),
        Accelerator(
            name="nvidia-l4",
            gpu_memory_gib=24,
            karpenter_gpu_name="l4",
            karpenter_gpu_memory_mib=22888,
            instance_types=(
                InstanceType("g6.xlarge", 1, 4, 16, "3920m", "14162Mi", 58),
                InstanceType("g6.2xlarge", 1, 8, 32, "7910m", "29317Mi", 58),
                InstanceType("g6.4xlarge", 1, 16, 64, "15890m", "57691Mi", 234),
                InstanceType("g6.12xlarge", 4, 48, 192, "47810m", "178933Mi", 234),
                InstanceType("g6.48xlarge", 8, 192, 768, "191450m", "718987Mi", 737),
            ),
        ),
        Accelerator(
            name="nvidia-a10g",
            gpu_memory_gib=24,
            karpenter_gpu_name="a10g",
            karpenter_gpu_memory_mib=22888,
            instance_types=(
                InstanceType("g5.xlarge", 1, 4, 16, "3920m", "14162Mi", 58),
                InstanceType("g5.2xlarge", 1, 8, 32, "7910m", "29317Mi", 58),
                InstanceType("g5.4xlarge", 1, 16, 64, "15890m", "57691Mi", 234),
                InstanceType("g5.12xlarge", 4, 48, 192, "47810m", "173400Mi", 737),
                InstanceType("g5.48xlarge", 8, 192, 768, "191450m", "723299Mi", 345),
            ),
        ),
        Accelerator(
            name="nvidia-a100",
            gpu_memory_gib=40,
            karpenter_gpu_name="a100",
            karpenter_gpu_memory_mib=40960,
            instance_types=(InstanceType("p4d.24xlarge", 8, 96, 1152, "95690m", "1082712Mi", 737),),
        ),
        Accelerator(
            name="nvidia-a100-80gb",
            gpu_memory_gib=80,
            karpenter_gpu_name="a100",
            karpenter_gpu_memory_mib=81920,
            instance_types=(InstanceType("p4de.24xlarge", 8, 96, 1152, "95690m", "1082712Mi", 737),),
        ),
        Accelerator(
            name="nvidia-h100",
            gpu_memory_gib=80,
            karpenter_gpu_name="h100",
            karpenter_gpu_memory_mib=81920,
            instance_types=(InstanceType("p5.48xlarge", 8, 192, 2048, "191450m", "1938410Mi", 100),),
        ),
    )
}

ACCELERATOR_NAMES: tuple[str, ...] = tuple(sorted(ACCELERATORS))
