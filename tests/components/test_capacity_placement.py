"""Spot with on-demand fallback: per-model placement, the on-demand floor, weighted pools per capacity type."""

import pytest

from components.capacity_placement import CAPACITY_TYPE_LABEL, TRACK_LABEL, placement
from components.capacity_pools import pool_plans
from components.gpu_node_pool import node_pool_manifest
from components.monitoring import scaled_object
from components.workload import build_model_objects
from mlserve.manifest_checks import validate_custom_resource
from tests.helpers import settings, spec

KARPENTER = {"provider": "karpenter", "nodeRole": "role", "headroomPercent": 25}
MONITORING = {"enabled": True}


def llm(capacity=None, min_r=2, max_r=6, metric="concurrency", accelerator="nvidia-l4"):
    fields = {
        "runtime": "vllm",
        "weights": {"uri": "s3://bucket/llm/", "sizeGiB": 16},
        "resources": {"cpu": "4", "memory": "24Gi", "gpu": {"accelerator": accelerator}},
        "scaling": {"minReplicas": min_r, "maxReplicas": max_r, "metric": metric, "target": 8},
    }
    if capacity is not None:
        fields["capacity"] = capacity
    return spec(**fields)


def stack(capacity_type="on-demand", tier="prod"):
    return settings(
        environment={"tier": tier, "namespace": "ml-prod"},
        gpuNodePool={**KARPENTER, "capacityType": capacity_type},
        monitoring=MONITORING,
    )


def objects(model_spec, s):
    return build_model_objects("chat", model_spec, "repo/img@sha256:" + "a" * 64, s)


def node_affinity(template):
    return template["spec"].get("affinity", {}).get("nodeAffinity")


def test_placement_follows_the_model_then_the_stack_and_only_for_karpenter_gpu_models():
    assert placement(llm(), stack()) == "on-demand"
    assert placement(llm(), stack("spot", tier="staging")) == "spot-preferred"
    assert placement(llm("spot-fallback"), stack()) == "spot-fallback"
    assert placement(spec(capacity="spot"), stack()) is None  # a CPU model
    existing = settings(gpuNodePool={"provider": "existing", "existing": {"nvidia-l4": {"labels": {"gpu": "l4"}}}})
    assert placement(llm("spot"), existing) is None


def test_an_on_demand_model_requires_on_demand_nodes_and_a_spot_model_spot_nodes():
    on_demand = objects(llm(), stack()).deployment["spec"]["template"]["spec"]
    spot = objects(llm("spot"), stack(tier="staging")).deployment["spec"]["template"]["spec"]
    assert on_demand["nodeSelector"][CAPACITY_TYPE_LABEL] == "on-demand"
    assert spot["nodeSelector"][CAPACITY_TYPE_LABEL] == "spot"


def test_a_spot_stack_default_prefers_spot_without_requiring_it():
    objs = objects(llm(), stack("spot", tier="staging"))
    template = objs.deployment["spec"]["template"]
    assert CAPACITY_TYPE_LABEL not in template["spec"]["nodeSelector"]
    (term,) = node_affinity(template)["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["preference"]["matchExpressions"] == [
        {"key": CAPACITY_TYPE_LABEL, "operator": "In", "values": ["spot"]}
    ]
    assert objs.spot is None


def test_spot_fallback_keeps_min_replicas_on_on_demand_and_the_rest_in_a_spot_deployment():
    objs = objects(llm("spot-fallback", min_r=2, max_r=6), stack())
    floor = objs.deployment
    assert floor["metadata"]["name"] == "chat"
    assert floor["spec"]["replicas"] == 2
    floor_template = floor["spec"]["template"]
    # The floor is required on on-demand (a node selector is a hard requirement), never on spot.
    assert floor_template["spec"]["nodeSelector"][CAPACITY_TYPE_LABEL] == "on-demand"
    assert floor_template["metadata"]["labels"][TRACK_LABEL] == "on-demand-floor"
    spot = objs.spot.spot_deployment
    assert spot["metadata"]["name"] == "chat-spot"
    assert spot["spec"]["replicas"] == 0
    spot_template = spot["spec"]["template"]
    assert CAPACITY_TYPE_LABEL not in spot_template["spec"]["nodeSelector"]  # may fall back to on-demand
    assert node_affinity(spot_template)["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"] == 100
    # Each Deployment selects only its own pods; the model's Service selects both.
    assert spot["spec"]["selector"]["matchLabels"] == {"ml-serving.dev/model": "chat", TRACK_LABEL: "spot"}
    assert spot_template["metadata"]["labels"][TRACK_LABEL] == "spot"
    assert objs.service["spec"]["selector"] == {"ml-serving.dev/model": "chat"}
    # The GPU placement (accelerator, toleration) is the same for both.
    assert spot_template["spec"]["tolerations"] == floor_template["spec"]["tolerations"]


def test_the_floor_pdb_covers_the_floor_pods_only_and_every_pod_has_exactly_one_budget():
    objs = objects(llm("spot-fallback", min_r=3, max_r=6), stack())
    floor_pdb, spot_pdb = objs.pdb, objs.spot.spot_pdb
    floor_labels = objs.deployment["spec"]["template"]["metadata"]["labels"]
    spot_labels = objs.spot.spot_deployment["spec"]["template"]["metadata"]["labels"]

    def covers(pdb, labels):
        return all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items())

    assert covers(floor_pdb, floor_labels) and not covers(floor_pdb, spot_labels)
    assert covers(spot_pdb, spot_labels) and not covers(spot_pdb, floor_labels)
    # Voluntary disruptions (drains, consolidation) take one floor pod at a time: 2 of 3 stay on on-demand.
    assert floor_pdb["spec"]["maxUnavailable"] == 1
    assert spot_pdb["metadata"]["name"] == "chat-spot"


def test_keda_scales_the_spot_deployment_on_the_load_above_the_floor():
    model = llm("spot-fallback", min_r=2, max_r=6)
    obj = scaled_object("chat", model, stack(), {})
    assert obj["spec"]["scaleTargetRef"]["name"] == "chat-spot"
    assert (obj["spec"]["minReplicaCount"], obj["spec"]["maxReplicaCount"]) == (0, 4)
    query = obj["spec"]["triggers"][0]["metadata"]["query"]
    # The floor carries minReplicas x target (2 x 8 in-flight requests) before any spot replica is needed.
    assert query.startswith("clamp_min((") and query.endswith(") - 16, 0)")
    plain = scaled_object("chat", llm(), stack(), {})
    assert (
        plain["spec"]["scaleTargetRef"]["name"] == "chat"
        and "clamp_min" not in plain["spec"]["triggers"][0]["metadata"]["query"]
    )


def test_scaled_objects_still_validate(crds):
    obj = scaled_object("chat", llm("spot-fallback"), stack(), {})
    assert validate_custom_resource(obj, crds) == []


def test_pools_per_capacity_type_carry_weights_and_size_the_spot_pool_for_replicas_above_the_floor(crds):
    s = stack()
    models = {"chat": llm("spot-fallback", min_r=2, max_r=6), "other": llm(accelerator="nvidia-l4", min_r=2, max_r=2)}
    (on_demand, spot) = pool_plans(s, models)["nvidia-l4"]
    assert (on_demand.capacity_type, on_demand.weight) == ("on-demand", 10)
    assert (spot.capacity_type, spot.weight) == ("spot", 100)
    # on-demand holds everything that may land there: both models whole (the floor and the spot fallback).
    assert [(m.model, m.min_replicas, m.max_replicas) for m in on_demand.plan.models] == [
        ("chat", 2, 6),
        ("other", 2, 2),
    ]
    # spot holds only chat's replicas above its floor.
    assert [(m.model, m.min_replicas, m.max_replicas) for m in spot.plan.models] == [("chat", 0, 4)]
    for p in (on_demand, spot):
        pool = node_pool_manifest(s, p.plan, p.capacity_type, p.weight)
        assert validate_custom_resource(pool, crds) == []
        assert pool["spec"]["weight"] == p.weight
    assert spot.plan.gpu_limit < on_demand.plan.gpu_limit


def test_an_accelerator_without_spot_demand_gets_one_unweighted_on_demand_pool():
    (only,) = pool_plans(stack(), {"chat": llm()})["nvidia-l4"]
    assert (only.capacity_type, only.weight) == ("on-demand", None)


@pytest.mark.parametrize(
    ("model", "tier", "needle"),
    [
        (llm("spot"), "prod", "a prod model never runs on spot only"),
        (llm("spot-fallback", min_r=2, max_r=2), "prod", "needs maxReplicas > minReplicas"),
        (llm("spot-fallback", min_r=0, max_r=2), "staging", "needs minReplicas >= 1"),
        (llm("spot-fallback", metric="cpu"), "prod", "scaled by KEDA on the load above"),
    ],
)
def test_bad_capacity_choices_are_refused_with_a_reason(model, tier, needle):
    from model_catalog.environment import _capacity_choice_problems

    found = _capacity_choice_problems(model, stack(tier=tier), "s")
    assert any(needle in message for _, message in found), found


def test_planned_limits_size_the_on_demand_pool_and_the_spot_pool_keeps_its_arithmetic():
    s = stack()
    models = {"chat": llm("spot-fallback", min_r=2, max_r=6)}
    (on_demand, spot) = pool_plans(s, models, {"nvidia-l4": 12})["nvidia-l4"]
    (plain_on_demand, plain_spot) = pool_plans(s, models)["nvidia-l4"]
    assert on_demand.plan.gpu_limit == 12 != plain_on_demand.plan.gpu_limit
    assert spot.plan.gpu_limit == plain_spot.plan.gpu_limit
