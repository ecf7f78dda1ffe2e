"""The accelerator and price tables: one row per GPU, complete, and consistent with what Karpenter reports."""

import pytest

from model_catalog.quantities import byte_count, cpu_millicores
from platform_data.accelerators import ACCELERATORS
from platform_data.cpu_instances import CPU_INSTANCE_TYPES
from platform_data.prices import ON_DEMAND_USD_PER_HOUR, SPOT_ADVISOR, hourly_usd

INSTANCE_TYPES = [(a.name, t) for a in ACCELERATORS.values() for t in a.instance_types] + [
    ("cpu", t) for t in CPU_INSTANCE_TYPES
]


@pytest.mark.parametrize(("accelerator", "instance"), INSTANCE_TYPES, ids=lambda v: getattr(v, "name", v))
def test_every_instance_type_has_a_price(accelerator, instance):
    assert ON_DEMAND_USD_PER_HOUR[instance.name] > 0


def test_the_price_table_lists_no_instance_type_the_accelerators_do_not_use():
    assert set(ON_DEMAND_USD_PER_HOUR) == {t.name for _, t in INSTANCE_TYPES}
    assert set(SPOT_ADVISOR) == set(ON_DEMAND_USD_PER_HOUR)


@pytest.mark.parametrize(("accelerator", "instance"), INSTANCE_TYPES, ids=lambda v: getattr(v, "name", v))
def test_spot_costs_less_than_on_demand(accelerator, instance):
    assert 0 < hourly_usd(instance.name, "spot") < hourly_usd(instance.name, "on-demand")
    assert instance.max_pods >= 29


def test_cpu_instance_types_carry_no_gpus_and_are_listed_smallest_first_per_family():
    assert all(t.gpus == 0 for t in CPU_INSTANCE_TYPES)
    families: dict[str, list[int]] = {}
    for t in CPU_INSTANCE_TYPES:
        families.setdefault(t.name.split(".")[0], []).append(t.vcpu)
    assert all(v == sorted(v) for v in families.values())


@pytest.mark.parametrize(("accelerator", "instance"), INSTANCE_TYPES, ids=lambda v: getattr(v, "name", v))
def test_pods_get_less_than_the_instance_has_and_more_than_nothing(accelerator, instance):
    assert 0 < instance.pod_cpu_millicores < cpu_millicores(instance.allocatable_cpu) <= instance.vcpu * 1000
    assert 0 < instance.pod_memory_bytes < byte_count(instance.allocatable_memory) < instance.memory_gib * 2**30


def test_instance_types_are_listed_smallest_first():
    for accelerator in ACCELERATORS.values():
        gpus = [(t.gpus, t.vcpu) for t in accelerator.instance_types]
        assert gpus == sorted(gpus), accelerator.name


def test_gpus_that_share_a_karpenter_name_differ_in_gpu_memory():
    """a100 (40 GB) and a100-80gb are both 'a100' to Karpenter; the NodePool tells them apart by memory."""
    by_identity = {(a.karpenter_gpu_name, a.karpenter_gpu_memory_mib) for a in ACCELERATORS.values()}
    assert len(by_identity) == len(ACCELERATORS)
    assert ACCELERATORS["nvidia-a100"].karpenter_gpu_name == ACCELERATORS["nvidia-a100-80gb"].karpenter_gpu_name


def test_replicas_that_fit_counts_gpus_cpu_and_memory():
    l4 = {t.name: t for t in ACCELERATORS["nvidia-l4"].instance_types}
    four_cpu_16gi = (4000, 16 * 2**30)
    assert l4["g6.xlarge"].replicas_that_fit(*four_cpu_16gi, gpus=1) == 0  # 3920m allocatable, minus DaemonSets
    assert l4["g6.2xlarge"].replicas_that_fit(*four_cpu_16gi, gpus=1) == 1
    assert l4["g6.12xlarge"].replicas_that_fit(*four_cpu_16gi, gpus=1) == 4  # GPUs bound it
    assert l4["g6.12xlarge"].replicas_that_fit(*four_cpu_16gi, gpus=1, slices_per_gpu=4) == 10  # memory bounds it
    assert l4["g6.48xlarge"].replicas_that_fit(*four_cpu_16gi, gpus=16) == 0
