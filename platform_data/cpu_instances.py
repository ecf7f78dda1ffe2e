"""CPU node types: where the stack's CPU models run, for the capacity planner.

The stack does not create CPU node pools (its CPU models run on the cluster's general nodes); the planner still
answers which general-purpose nodes would hold them cheapest. Three current x86 families cover the usual shapes:
c7i (2 GiB per vCPU), m7i (4 GiB per vCPU) and r7i (8 GiB per vCPU), sizes large to 16xlarge.

Allocatable cpu, memory and pods: Karpenter's generated instance-types reference, the same file and commit as the
accelerator table (aws/karpenter-provider-aws website/content/en/docs/reference/instance-types.md, commit 0c5e7d81,
AL2023, no blockDeviceMappings). Prices: platform_data/prices.py.
"""

from __future__ import annotations

from .accelerators import InstanceType

#: Smallest first within a family; families by name.
CPU_INSTANCE_TYPES: tuple[InstanceType, ...] = (
    InstanceType("c7i.large", 0, 2, 4, "1930m", "3114Mi", 29),
    InstanceType("c7i.xlarge", 0, 4, 8, "3920m", "6584Mi", 58),
    InstanceType("c7i.2xlarge", 0, 8, 16, "7910m", "14162Mi", 58),
    InstanceType("c7i.4xlarge", 0, 16, 32, "15890m", "27381Mi", 234),
    InstanceType("c7i.8xlarge", 0, 32, 64, "31850m", "57691Mi", 234),
    InstanceType("c7i.16xlarge", 0, 64, 128, "63770m", "112779Mi", 737),
    InstanceType("m7i.large", 0, 2, 8, "1930m", "6903Mi", 29),
    InstanceType("m7i.xlarge", 0, 4, 16, "3920m", "14162Mi", 58),
    InstanceType("m7i.2xlarge", 0, 8, 32, "7910m", "29317Mi", 58),
    InstanceType("m7i.4xlarge", 0, 16, 64, "15890m", "57691Mi", 234),
    InstanceType("m7i.8xlarge", 0, 32, 128, "31850m", "118312Mi", 234),
    InstanceType("m7i.12xlarge", 0, 48, 192, "47810m", "178933Mi", 234),
    InstanceType("m7i.16xlarge", 0, 64, 256, "63770m", "234021Mi", 737),
    InstanceType("r7i.large", 0, 2, 16, "1930m", "14481Mi", 29),
    InstanceType("r7i.xlarge", 0, 4, 32, "3920m", "29317Mi", 58),
    InstanceType("r7i.2xlarge", 0, 8, 64, "7910m", "59627Mi", 58),
    InstanceType("r7i.4xlarge", 0, 16, 128, "15890m", "118312Mi", 234),
    InstanceType("r7i.8xlarge", 0, 32, 256, "31850m", "239554Mi", 234),
    InstanceType("r7i.16xlarge", 0, 64, 512, "63770m", "476504Mi", 737),
)
