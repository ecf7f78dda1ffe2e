"""Multi-node models (components/multinode/): a replica larger than one instance is a LeaderWorkerSet group, valid
against its CRD, on the accelerator's pool, scaled by groups and counted by groups in the capacity plan."""

from __future__ import annotations

import json

import pytest

from components.gpu_capacity import model_demand
from components.monitoring import scaled_object
from components.multinode import lws
from components.workload import build_model_objects
from mlserve.manifest_checks import validate_custom_resource
from model_catalog.checks import candidate_paths, check_model
from platform_data.accelerators import ACCELERATOR_LABEL, GPU_RESOURCE
from policy.rules import Context, Resource, evaluate
from tests.helpers import settings, spec

BIG = {
    "runtime": "vllm",
    "weights": {"uri": "hf://org/big", "sizeGiB": 640},
    "resources": {
        "cpu": "160",
        "memory": "1600Gi",
        "gpu": {"accelerator": "nvidia-h100", "count": 1, "tensorParallelism": 8, "pipelineParallelism": 2},
    },
    "scaling": {"minReplicas": 1, "maxReplicas": 3, "metric": "queue-depth", "target": 16},
}
KARPENTER = {"provider": "karpenter", "nodeRole": "role"}


def messages(**fields) -> dict[str, str]:
    return {".".join(map(str, candidate_paths(p)[0])): m for p, m in check_model(spec(**fields))}


def objects():
    stack = settings(gpuNodePool=KARPENTER, monitoring={"enabled": True})
    return build_model_objects("big", spec(**BIG), "vllm/vllm-openai:v1@sha256:" + "a" * 64, stack), stack


def test_a_16_gpu_model_is_one_leader_worker_set_valid_against_its_crd(crds):
    obj = objects()[0].deployment
    assert (obj["apiVersion"], obj["kind"]) == ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet")
    assert validate_custom_resource(json.loads(json.dumps(obj)), crds) == []
    template = obj["spec"]["leaderWorkerTemplate"]
    assert template["size"] == 2
    assert obj["spec"]["replicas"] == 1
    for role in ("leaderTemplate", "workerTemplate"):
        pod = template[role]["spec"]
        (server,) = pod["containers"]
        assert server["resources"]["limits"][GPU_RESOURCE] == "8"  # TP 8 per pod, one pod per node
        assert pod["nodeSelector"][ACCELERATOR_LABEL] == "nvidia-h100"  # the same accelerator pool
        assert any(t["key"] == "nvidia.com/gpu" for t in pod["tolerations"])


def test_the_leader_serves_with_ray_across_the_group_and_the_worker_joins_it():
    template = objects()[0].deployment["spec"]["leaderWorkerTemplate"]
    leader = template["leaderTemplate"]["spec"]["containers"][0]
    worker = template["workerTemplate"]["spec"]["containers"][0]
    assert leader["command"] == worker["command"] == ["/bin/bash", "-c"]
    (script,) = leader["args"]
    assert "leader --ray_cluster_size=${LWS_GROUP_SIZE}" in script
    for flag in ("--tensor-parallel-size=8", "--pipeline-parallel-size=2", "--distributed-executor-backend=ray"):
        assert flag in script
    assert "worker --ray_address=${LWS_LEADER_ADDRESS}" in worker["args"][0]
    assert "ports" not in worker and "exec" in worker["readinessProbe"]
    assert leader["readinessProbe"]["httpGet"]["path"] == "/v1/models"


def test_the_service_reaches_leaders_and_autoscalers_scale_groups():
    built, stack = objects()
    assert built.service["spec"]["selector"] == {"ml-serving.dev/model": "big", lws.WORKER_INDEX_LABEL: "0"}
    target = scaled_object("big", spec(**BIG), stack, {})["spec"]["scaleTargetRef"]
    assert target == {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "name": "big"}
    policy = built.network_policy["spec"]
    peer = {"podSelector": {"matchLabels": {"ml-serving.dev/model": "big"}}}
    assert {"from": [peer]} in policy["ingress"] and {"to": [peer]} in policy["egress"]


def test_capacity_counts_whole_groups():
    demand = model_demand("big", spec(**BIG))
    assert (demand.min_replicas, demand.max_replicas, demand.group_size) == (2, 6, 2)
    assert demand.shape.gpu_units == 8


def test_the_policy_pack_checks_both_pod_templates():
    built, _ = objects()
    lws_object = json.loads(json.dumps(built.deployment))
    lws_object["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]["containers"][0]["securityContext"][
        "privileged"
    ] = True
    resource = Resource(
        urn="urn:pulumi:prod::ml-serving::kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet::big",
        type="kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet",
        props=lws_object,
    )
    found = evaluate([resource], Context(stack="prod", tier="prod"))
    assert any(v.rule == "pod-security-restricted" and v.mandatory for v in found), found


@pytest.mark.parametrize(
    ("gpu", "runtime", "path", "text"),
    [
        (
            {"count": 2, "tensorParallelism": 8},
            "vllm",
            "resources.gpu.count",
            "splits across nodes with pipelineParallelism",
        ),
        (
            {"tensorParallelism": 8, "pipelineParallelism": 2},
            "triton",
            "resources.gpu.pipelineParallelism",
            "needs runtime vllm",
        ),
    ],
)
def test_shapes_no_instance_can_hold_are_refused(gpu, runtime, path, text):
    fields = {
        **BIG,
        "runtime": runtime,
        "resources": {**BIG["resources"], "gpu": {"accelerator": "nvidia-h100", **gpu}},
    }
    assert text in messages(**fields)[path]


def test_a_multinode_replica_cannot_share_a_read_write_once_claim():
    weights = {"uri": "pvc://models/big", "accessMode": "ReadWriteOnce"}
    found = messages(**{**BIG, "weights": weights, "scaling": {"minReplicas": 1, "maxReplicas": 1}})
    assert "up to 2 pods (2 per replica)" in found["weights.accessMode"]
    pinned = messages(
        **{**BIG, "weights": {**weights, "sameNode": True}, "scaling": {"minReplicas": 1, "maxReplicas": 1}}
    )
    assert "cannot share one node's ReadWriteOnce claim" in pinned["weights.sameNode"]


def test_the_planner_places_every_pod_of_every_group():
    from mlserve.examples import prepare
    from mlserve.render import validate
    from planning.problem import demands_of
    from tests.helpers import ROOT

    env = validate(prepare(ROOT, "multinode-16gpu"), "prod")
    (demand,) = demands_of(env, "max")
    assert demand.replicas == 2 * 2  # maxReplicas 2 groups x 2 pods
    (_, surge) = demands_of(env, "max", surge=1)
    assert surge.replicas == 2  # a rollout surge is a whole group
