"""GPU capacity arithmetic: numbers for small catalogs, computed by hand in the comments."""

import pytest

from components.gpu_capacity import ROLLOUT_SURGE, nodes_for, plan_capacity
from tests.helpers import settings, spec

KARPENTER = {"provider": "karpenter", "nodeRole": "role", "headroomPercent": 25}


def gpu_model(accelerator="nvidia-l4", count=1, tp=1, cpu="4", memory="16Gi", min_r=2, max_r=6, disk="2Gi", **extra):
    gpu = {"accelerator": accelerator, "count": count, "tensorParallelism": tp}
    return spec(
        runtime="triton",
        resources={"cpu": cpu, "memory": memory, "ephemeralStorage": disk, "gpu": gpu},
        scaling={"minReplicas": min_r, "maxReplicas": max_r, "metric": "cpu"},
        **extra,
    )


def plans(models, **pools):
    return plan_capacity(settings(gpuNodePool={**KARPENTER, **pools}), models)


def test_there_is_a_plan_per_accelerator_in_use_and_none_for_others():
    models = {
        "detector": gpu_model(),
        "llm": gpu_model("nvidia-h100", count=1, tp=2, cpu="16", memory="200Gi"),
        "off": gpu_model("nvidia-t4").model_copy(update={"enabled": False}),
        "cpu-only": spec(),
    }
    assert sorted(plans(models)) == ["nvidia-h100", "nvidia-l4"]
    assert [m.model for m in plans(models)["nvidia-l4"].models] == ["detector"]


def test_nodes_spread_the_minimum_then_pack_the_rest():
    assert nodes_for(0, 0, 4) == 0
    assert nodes_for(1, 0, 4) == 1  # scale from zero: one node
    assert nodes_for(2, 2, 4) == 2  # min replicas on separate nodes
    assert nodes_for(5, 2, 4) == 2  # 3 more fit the 6 free slots
    assert nodes_for(11, 2, 4) == 3  # 11 - 8 = 3 overflow -> 1 more node
    assert nodes_for(7, 2, 1) == 7


def test_a_one_gpu_model_on_l4_by_hand():
    # 4 CPU / 16Gi + 1 L4: g6.xlarge leaves 2920m CPU, too little; the cheapest that fits is g6.2xlarge ($0.9776/h),
    # one replica per node. min 2 -> 2 nodes, max 6 -> 6 nodes. Limit: max(ceil(6 x 1.25) = 8, 7 nodes for a
    # rollout at max (6 + 1 surge) x 1 GPU) = 8.
    plan = plans({"detector": gpu_model()})["nvidia-l4"]
    placement = plan.placements["detector"]
    assert (placement.instance.name, placement.replicas_per_node) == ("g6.2xlarge", 1)
    assert (plan.units_at("min"), plan.units_at("max")) == (2, 6)
    assert (plan.gpus_at("min"), plan.gpus_at("max")) == (2, 6)
    assert (plan.nodes_at("min"), plan.nodes_at("max")) == (2, 6)
    assert (plan.catalog_gpu_limit, plan.node_gpu_floor, plan.gpu_limit) == (8, 7, 8)
    assert plan.hourly_usd_at("min") == pytest.approx(2 * 0.9776)
    assert plan.hourly_usd_at("max") == pytest.approx(6 * 0.9776)
    assert [t.name for t in plan.instance_types] == ["g6.2xlarge", "g6.4xlarge", "g6.12xlarge", "g6.48xlarge"]


def test_two_models_share_a_pool_and_add_up():
    # detector as above; a 4-GPU model (16 CPU / 64Gi) needs g6.12xlarge ($4.6016/h), min = max = 1.
    # units: min 2 + 4 = 6, max 6 + 4 = 10; limit max(ceil(10 x 1.25) = 13, 7 x 1 + 2 nodes x 4 GPUs = 15) = 15.
    models = {"detector": gpu_model(), "big": gpu_model(count=4, cpu="16", memory="64Gi", min_r=1, max_r=1)}
    plan = plans(models)["nvidia-l4"]
    assert plan.placements["big"].instance.name == "g6.12xlarge"
    assert (plan.units_at("min"), plan.units_at("max")) == (6, 10)
    assert (plan.catalog_gpu_limit, plan.node_gpu_floor, plan.gpu_limit) == (13, 15, 15)
    assert plan.hourly_usd_at("min") == pytest.approx(2 * 0.9776 + 4.6016)
    assert plan.hourly_usd_at("max") == pytest.approx(6 * 0.9776 + 4.6016)


def test_limits_follow_the_catalog():
    few = plans({"detector": gpu_model(max_r=6)})["nvidia-l4"].gpu_limit
    many = plans({"detector": gpu_model(max_r=20)})["nvidia-l4"].gpu_limit
    assert (few, many) == (8, 25)  # ceil(20 x 1.25)
    assert plans({"detector": gpu_model(max_r=20)}, headroomPercent=0)["nvidia-l4"].gpu_limit == 21  # 20 + surge


def test_the_limit_never_falls_below_a_whole_instance():
    # One 2-GPU replica on H100: the only instance is p5.48xlarge with 8 GPUs. The catalog formula says
    # ceil(2 x 1.25) = 3, and Karpenter never launches an instance that would cross the limit: the pod would pend.
    plan = plans({"llm": gpu_model("nvidia-h100", tp=2, cpu="16", memory="200Gi", min_r=1, max_r=1)})["nvidia-h100"]
    assert plan.catalog_gpu_limit == 3
    assert plan.gpu_limit == 8


def test_instance_types_above_the_limit_are_left_out():
    # min = max = 1 on L4: limit max(ceil(1 x 1.25) = 2, 2 nodes x 1 GPU) = 2, so 4- and 8-GPU sizes can never launch.
    plan = plans({"detector": gpu_model(min_r=1, max_r=1)})["nvidia-l4"]
    assert plan.gpu_limit == 2
    assert [t.name for t in plan.instance_types] == ["g6.2xlarge", "g6.4xlarge"]


def test_time_sliced_gpus_count_slices_in_the_limit_and_gpus_in_the_cost():
    # 500m / 2Gi, weights on a PVC (no fetch container), 4 slices per L4: g6.xlarge ($0.8048) holds 4 replicas.
    # units min 2, max 8 -> GPUs ceil(2/4) = 1, ceil(8/4) = 2. Nodes: min 2 spread, max 8 packs into them.
    # Limit in physical GPUs: max(ceil(2 x 1.25) = 3, nodes for 9 replicas = 2 + 1 = 3) = 3 -> 12 slices.
    small = gpu_model(cpu="500m", memory="2Gi", min_r=2, max_r=8, weights={"uri": "pvc://models/small"})
    plan = plans({"small": small}, sharing={"nvidia-l4": {"timeSlicingReplicas": 4}})["nvidia-l4"]
    assert plan.slices_per_gpu == 4
    assert (plan.placements["small"].instance.name, plan.placements["small"].replicas_per_node) == ("g6.xlarge", 4)
    assert (plan.units_at("max"), plan.gpus_at("min"), plan.gpus_at("max")) == (8, 1, 2)
    assert (plan.nodes_at("min"), plan.nodes_at("max")) == (2, 2)
    assert (plan.physical_gpu_limit, plan.gpu_limit) == (3, 12)
    assert plan.hourly_usd_at("max") == pytest.approx(2 * 0.8048)


def test_replica_requests_include_the_weight_fetcher():
    # 500m CPU server, but the s3 fetch init container asks 1 CPU / 1Gi: the pod needs the larger of the two.
    plan = plans({"tiny": gpu_model(cpu="500m", memory="512Mi")})["nvidia-l4"]
    shape = plan.models[0].shape
    assert (shape.cpu_millicores, shape.memory_bytes) == (1000, 2**30)
    assert shape.ephemeral_bytes == 2 * 2**30 + 1280 * 2**20  # 2Gi default + 1GiB weights x 1.25


def test_the_root_volume_holds_images_and_a_full_node_of_weights():
    # llama-like: 20Gi + 72GiB x 1.25 weights = 110Gi per 2-GPU replica = 55Gi per GPU; p5 holds 8 GPUs -> 440Gi.
    # (100Gi images + 440Gi) / 0.9 = 600Gi.
    weights = {"uri": "s3://bucket/llm/", "sizeGiB": 72}
    llm = gpu_model("nvidia-h100", tp=2, cpu="16", memory="200Gi", min_r=1, max_r=1, disk="20Gi", weights=weights)
    assert plans({"llm": llm})["nvidia-h100"].root_volume_gib == 600


def test_termination_grace_covers_the_slowest_models_worst_start():
    plan = plans({"detector": gpu_model()})["nvidia-l4"]
    assert plan.termination_grace_minutes * 60 >= plan.models[0].worst_start_seconds
    assert ROLLOUT_SURGE == 1


def test_existing_nodes_get_demand_but_no_placements():
    pools = {"provider": "existing", "existing": {"nvidia-l4": {"labels": {"gpu": "l4"}}}}
    plan = plan_capacity(settings(gpuNodePool=pools), {"detector": gpu_model()})["nvidia-l4"]
    assert plan.placements == {} and (plan.units_at("min"), plan.units_at("max")) == (2, 6)
