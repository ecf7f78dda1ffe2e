"""GpuNodePool: Karpenter NodePool + EC2NodeClass per used accelerator, valid against the upstream CRDs, matching
what the workloads select and tolerate; registered under mocks by the real program."""

import json
import re

import pytest

from components.gpu_capacity import plan_capacity
from components.gpu_node_pool import node_class_manifest, node_pool_manifest, pool_name
from components.workload import gpu_placement
from mlserve.manifest_checks import validate_custom_resource
from platform_data import pins
from tests.components.test_gpu_capacity import gpu_model
from tests.helpers import run_catalog, settings

KARPENTER = {"provider": "karpenter", "nodeRole": "KarpenterNodeRole-test", "headroomPercent": 25}

CATALOG = """
models:
  detector:
    runtime: triton
    weights: {uri: "s3://bucket/detector/", sizeGiB: 1}
    resources: {cpu: "4", memory: 16Gi, gpu: {accelerator: nvidia-l4}}
    scaling: {minReplicas: 2, maxReplicas: 6}
  chat:
    runtime: vllm
    weights: {uri: "s3://bucket/chat/", sizeGiB: 40}
    resources: {cpu: "16", memory: 200Gi, gpu: {accelerator: nvidia-h100, tensorParallelism: 2}}
    scaling: {minReplicas: 2, maxReplicas: 2}
  idle:
    runtime: triton
    enabled: false
    weights: {uri: "s3://bucket/idle/", sizeGiB: 1}
    resources: {cpu: "4", memory: 16Gi, gpu: {accelerator: nvidia-t4}}
  tagger:
    runtime: tensorflow-serving
    weights: {uri: "s3://bucket/tagger/", sizeGiB: 1}
    resources: {cpu: "1", memory: 2Gi}
"""


def stack_settings(tier="dev", **pools):
    return settings(environment={"tier": tier, "namespace": "ml-test"}, gpuNodePool={**KARPENTER, **pools})


def manifests(accelerator="nvidia-l4", tier="dev", models=None, **pools):
    s = stack_settings(tier, **pools)
    plan = plan_capacity(s, models or {"detector": gpu_model(accelerator)})[accelerator]
    return node_pool_manifest(s, plan), node_class_manifest(s, plan)


def requirement(pool, key):
    (found,) = [r["values"] for r in pool["spec"]["template"]["spec"]["requirements"] if r["key"] == key]
    return found


def objects_of(run, kind):
    return {
        r.inputs["metadata"]["name"]: json.loads(json.dumps(r.inputs))
        for r in run.registrations
        if r.custom and r.inputs.get("kind") == kind
    }


# --- builders ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("accelerator", ["nvidia-l4", "nvidia-h100", "nvidia-a100", "nvidia-a100-80gb", "nvidia-t4"])
@pytest.mark.parametrize("tier", ["dev", "prod"])
def test_node_pool_and_node_class_validate_against_the_upstream_crds(accelerator, tier, crds):
    models = {"m": gpu_model(accelerator, cpu="4", memory="16Gi")}
    for obj in manifests(accelerator, tier, models):
        assert validate_custom_resource(obj, crds) == []


def _allowed_karpenter_aws_labels(crds) -> set[str]:
    """The CRD's CEL rule lists the karpenter.k8s.aws labels a NodePool may use (not evaluated offline, so read
    from the rule text)."""
    text = (crds / "karpenter.sh_nodepools.yaml").read_text()
    rule = next(line for line in text.splitlines() if 'self in ["karpenter.k8s.aws/instance-tenancy"' in line)
    return set(re.findall(r'"(karpenter\.k8s\.aws/[^"]+)"', rule))


def test_requirements_use_only_labels_the_crd_rules_allow(crds):
    pool, _ = manifests()
    keys = [r["key"] for r in pool["spec"]["template"]["spec"]["requirements"]]
    allowed = _allowed_karpenter_aws_labels(crds)
    assert {k for k in keys if k.startswith("karpenter.k8s.aws/")} <= allowed
    assert all(not k.split("/")[0].endswith("karpenter.sh") or k == "karpenter.sh/capacity-type" for k in keys)
    labels = pool["spec"]["template"]["metadata"]["labels"]
    assert not any(k.split("/")[0].endswith(("karpenter.sh", "karpenter.k8s.aws")) for k in labels)


def test_the_node_class_satisfies_its_crd_rules():
    _, node_class = manifests()
    spec = node_class["spec"]
    (term,) = spec["amiSelectorTerms"]
    assert set(term) == {"alias"} and re.match(r"^[a-zA-Z0-9]+@.+$", term["alias"]) and len(term["alias"]) <= 30
    assert term["alias"].split("@")[0] == "al2023"
    assert "role" in spec and "instanceProfile" not in spec
    assert not any(k.startswith(("kubernetes.io/cluster", "karpenter.sh/", "eks:")) for k in spec["tags"])


def test_pool_nodes_carry_exactly_the_labels_gpu_pods_select_and_the_taint_they_tolerate():
    s = stack_settings()
    pool, _ = manifests()
    template = pool["spec"]["template"]
    placement = gpu_placement(s, "nvidia-l4")
    assert template["metadata"]["labels"] == placement.node_selector == {"ml-serving.dev/accelerator": "nvidia-l4"}
    (taint,) = template["spec"]["taints"]
    assert (taint["key"], taint["effect"]) == ("nvidia.com/gpu", "NoSchedule")
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in placement.tolerations


def test_a100_and_a100_80gb_pools_select_different_gpus():
    a40, _ = manifests("nvidia-a100", models={"m": gpu_model("nvidia-a100")})
    a80, _ = manifests("nvidia-a100-80gb", models={"m": gpu_model("nvidia-a100-80gb")})
    assert requirement(a40, "karpenter.k8s.aws/instance-gpu-name") == requirement(
        a80, "karpenter.k8s.aws/instance-gpu-name"
    )
    assert requirement(a40, "karpenter.k8s.aws/instance-gpu-memory") == ["40960"]
    assert requirement(a80, "karpenter.k8s.aws/instance-gpu-memory") == ["81920"]
    assert requirement(a40, "node.kubernetes.io/instance-type") == ["p4d.24xlarge"]
    assert requirement(a80, "node.kubernetes.io/instance-type") == ["p4de.24xlarge"]


def test_each_pool_has_one_capacity_type_and_on_demand_stacks_never_use_spot():
    spot = node_pool_manifest(
        stack_settings(), plan_capacity(stack_settings(), {"d": gpu_model()})["nvidia-l4"], "spot"
    )
    on_demand, _ = manifests(tier="prod")
    assert requirement(spot, "karpenter.sh/capacity-type") == ["spot"]
    assert spot["metadata"]["name"] == "ml-test-nvidia-l4-spot"
    assert spot["spec"]["template"]["spec"]["nodeClassRef"]["name"] == "ml-test-nvidia-l4"
    assert requirement(on_demand, "karpenter.sh/capacity-type") == ["on-demand"]
    assert "weight" not in on_demand["spec"]


def test_default_disruption_never_repacks_a_serving_node_and_drains_one_node_at_a_time():
    pool, _ = manifests()
    disruption = pool["spec"]["disruption"]
    assert disruption["consolidationPolicy"] == "WhenEmpty" and disruption["consolidateAfter"] == "30m"
    assert disruption["budgets"] == [{"nodes": "1"}]
    assert pool["spec"]["template"]["spec"]["expireAfter"] == "Never"


def test_prod_pools_freeze_drift_during_business_hours():
    pool, _ = manifests(tier="prod")
    assert pool["spec"]["disruption"]["budgets"] == [
        {"nodes": "1"},
        {"nodes": "0", "reasons": ["Drifted"], "schedule": "0 6 * * 1-5", "duration": "12h"},
    ]


def test_termination_grace_lets_a_replacement_replica_load_first():
    models = {"m": gpu_model()}
    pool, _ = manifests(models=models)
    plan = plan_capacity(stack_settings(), models)["nvidia-l4"]
    grace = pool["spec"]["template"]["spec"]["terminationGracePeriod"]
    assert grace == f"{plan.termination_grace_minutes}m"
    assert int(grace[:-1]) * 60 >= plan.models[0].worst_start_seconds


def test_the_node_class_pins_the_ami_requires_imdsv2_and_encrypts_a_sized_root_volume():
    _, node_class = manifests()
    spec = node_class["spec"]
    assert spec["amiSelectorTerms"] == [{"alias": pins.EKS_AL2023_AMI_ALIAS}]
    assert spec["metadataOptions"]["httpTokens"] == "required"
    assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (volume,) = spec["blockDeviceMappings"]
    assert volume["rootVolume"] is True and volume["deviceName"] == "/dev/xvda"
    assert volume["ebs"]["encrypted"] is True and volume["ebs"]["volumeType"] == "gp3"
    assert int(volume["ebs"]["volumeSize"].removesuffix("Gi")) >= 100
    assert spec["role"] == "KarpenterNodeRole-test"
    discovery = [{"tags": {"karpenter.sh/discovery": "test"}}]  # the cluster name when no discoveryTag is set
    assert spec["subnetSelectorTerms"] == discovery and spec["securityGroupSelectorTerms"] == discovery


def test_settings_override_ami_discovery_tag_and_disruption():
    pool, node_class = manifests(
        amiAlias="al2023@latest", discoveryTag="shared-vpc", consolidateAfter="2h", expireAfter="720h"
    )
    assert node_class["spec"]["amiSelectorTerms"] == [{"alias": "al2023@latest"}]
    assert node_class["spec"]["subnetSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": "shared-vpc"}}]
    assert pool["spec"]["disruption"]["consolidateAfter"] == "2h"
    assert pool["spec"]["template"]["spec"]["expireAfter"] == "720h"


def test_a_time_sliced_pool_labels_its_nodes_with_the_device_plugin_configuration():
    pool, _ = manifests(sharing={"nvidia-l4": {"timeSlicingReplicas": 4}})
    assert pool["spec"]["template"]["metadata"]["labels"] == {
        "ml-serving.dev/accelerator": "nvidia-l4",
        "nvidia.com/device-plugin.config": "nvidia-l4",
    }
    assert pool["spec"]["limits"]["nvidia.com/gpu"] % 4 == 0


def test_pool_names_are_unique_per_stack_namespace():
    assert pool_name(stack_settings(), "nvidia-l4") == "ml-test-nvidia-l4"


# --- the component under mocks --------------------------------------------------------------------------------


def test_the_program_registers_a_pool_per_used_accelerator_and_none_for_unused_ones(tmp_path):
    run = run_catalog(tmp_path, CATALOG, gpuNodePool=KARPENTER)
    assert sorted(objects_of(run, "NodePool")) == ["ml-test-nvidia-h100", "ml-test-nvidia-l4"]
    assert sorted(objects_of(run, "EC2NodeClass")) == ["ml-test-nvidia-h100", "ml-test-nvidia-l4"]
    by_name = {r.name: r for r in run.registrations}
    component = by_name["gpu-nodes"]
    assert component.type == "ml-serving:gpu:GpuNodePool"
    pool = by_name["gpu-nodes-nvidia-l4-node-pool"]
    assert pool.type == "kubernetes:karpenter.sh/v1:NodePool" and pool.parent == component.urn
    assert by_name["gpu-nodes-nvidia-l4-node-class"].urn in pool.dependencies


def test_gpu_models_wait_for_the_gpu_capacity_and_cpu_models_do_not(tmp_path):
    run = run_catalog(tmp_path, CATALOG, gpuNodePool=KARPENTER)
    by_name = {r.name: r for r in run.registrations}
    # Depending on a component means depending on every resource under it.
    pool, chart = by_name["gpu-nodes-nvidia-l4-node-pool"].urn, by_name["gpu-nodes-device-plugin-chart"].urn
    assert {pool, chart} <= set(by_name["detector"].dependencies)
    assert not {pool, chart} & set(by_name["tagger"].dependencies)


def test_pool_limits_follow_the_catalog(tmp_path):
    before = objects_of(run_catalog(tmp_path, CATALOG, gpuNodePool=KARPENTER), "NodePool")
    bigger = CATALOG.replace("maxReplicas: 6}", "maxReplicas: 12}")
    after = objects_of(run_catalog(tmp_path, bigger, gpuNodePool=KARPENTER), "NodePool")
    assert before["ml-test-nvidia-l4"]["spec"]["limits"]["nvidia.com/gpu"] == 8  # ceil(6 x 1.25)
    assert after["ml-test-nvidia-l4"]["spec"]["limits"]["nvidia.com/gpu"] == 15  # ceil(12 x 1.25)
    # chat: 2 replicas x 2 H100 each on their own p5.48xlarge (8 GPUs): a rollout needs room for a third replica,
    # which fits beside one of them, so 2 nodes x 8 GPUs.
    assert after["ml-test-nvidia-h100"]["spec"]["limits"]["nvidia.com/gpu"] == 16


def test_a_stack_without_gpu_models_gets_no_gpu_capacity(tmp_path):
    cpu_only = "models:\n" + CATALOG.split("  tagger:\n")[1].join(["  tagger:\n", ""])
    run = run_catalog(tmp_path, cpu_only, gpuNodePool=KARPENTER)
    assert [r.name for r in run.registrations if r.type == "ml-serving:models:ModelService"] == ["tagger"]
    assert not [r for r in run.registrations if r.type.startswith("ml-serving:gpu:")]


def test_existing_gpu_nodes_get_only_the_device_plugin(tmp_path):
    pools = {
        "provider": "existing",
        "existing": {
            "nvidia-l4": {"labels": {"gpu.example.com/model": "l4"}, "taints": ["gpu=l4:NoSchedule"]},
            "nvidia-h100": {"labels": {"gpu.example.com/model": "h100"}},
        },
    }
    run = run_catalog(tmp_path, CATALOG, gpuNodePool=pools)
    assert objects_of(run, "NodePool") == {} and objects_of(run, "EC2NodeClass") == {}
    (chart,) = [r for r in run.registrations if r.type == "kubernetes:helm.sh/v4:Chart"]
    values = chart.inputs["values"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [
        {"matchExpressions": [{"key": "gpu.example.com/model", "operator": "In", "values": ["h100"]}]},
        {"matchExpressions": [{"key": "gpu.example.com/model", "operator": "In", "values": ["l4"]}]},
    ]
    assert {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"} in values["tolerations"]


def test_the_device_plugin_can_be_left_to_the_cluster(tmp_path):
    run = run_catalog(tmp_path, CATALOG, gpuNodePool={**KARPENTER, "installDevicePlugin": False})
    assert not [
        r for r in run.registrations if r.type in ("kubernetes:helm.sh/v4:Chart", "ml-serving:gpu:DevicePlugin")
    ]
    assert len(objects_of(run, "NodePool")) == 2
