"""Every GPU pod of every stack's render is schedulable on one of the rendered node pools.

Checked on the rendered objects, with arithmetic written here independently of components/gpu_capacity.py: the pod's
node selector is satisfied by the pool's node labels (or by a single-valued requirement, which Karpenter also puts
on its nodes), the pod tolerates every taint of the pool, and some instance type the pool allows carries enough GPUs
for the pod and leaves enough cpu and memory after the DaemonSet reserve.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.gpu_capacity import ROLLOUT_SURGE
from mlserve.manifest_checks import validate_custom_resource
from mlserve.render import render, validate
from model_catalog.quantities import byte_count, cpu_millicores
from platform_data.accelerators import ACCELERATORS, InstanceType
from tests.helpers import ROOT, STACKS, read_yaml

INSTANCES: dict[str, tuple[str, InstanceType]] = {
    t.name: (a.karpenter_gpu_name, t) for a in ACCELERATORS.values() for t in a.instance_types
}


def rendered(stack: str, out: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    render(ROOT, stack, out)
    objects = [read_yaml(p) for p in sorted((out / "manifests").glob("*.yaml"))]
    return objects, json.loads((out / "resources.json").read_text())


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    return {stack: rendered(stack, tmp_path_factory.mktemp(stack)) for stack in STACKS}


def of_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def pod_gpus(pod: dict[str, Any]) -> int:
    return sum(int(c.get("resources", {}).get("limits", {}).get("nvidia.com/gpu", 0)) for c in pod["containers"])


def pod_requests(pod: dict[str, Any]) -> tuple[int, int]:
    """cpu millicores and memory bytes as the scheduler counts them: max(sum of containers, largest init)."""

    def total(containers, resource, parse):
        return [parse(c["resources"]["requests"][resource]) for c in containers]

    cpu = max(
        [
            sum(total(pod["containers"], "cpu", cpu_millicores)),
            *total(pod.get("initContainers", []), "cpu", cpu_millicores),
        ]
    )
    memory = max(
        [
            sum(total(pod["containers"], "memory", byte_count)),
            *total(pod.get("initContainers", []), "memory", byte_count),
        ]
    )
    return cpu, memory


def tolerates(tolerations: list[dict[str, str]], taint: dict[str, str]) -> bool:
    for t in tolerations:
        key_ok = t.get("key") == taint["key"] or (not t.get("key") and t.get("operator") == "Exists")
        value_ok = t.get("operator") == "Exists" or t.get("value") == taint.get("value")
        effect_ok = not t.get("effect") or t["effect"] == taint["effect"]
        if key_ok and value_ok and effect_ok:
            return True
    return False


def time_slices(resources: dict[str, Any], node_labels: dict[str, str]) -> int:
    """Slices per GPU on the pool's nodes: the device-plugin configuration their label selects, if any."""
    config = node_labels.get("nvidia.com/device-plugin.config")
    if config is None:
        return 1
    (chart,) = [r for r in resources["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart"]
    named = yaml.safe_load(chart["inputs"]["values"]["config"]["map"][config])
    return named["sharing"]["timeSlicing"]["resources"][0]["replicas"]


def why_not(pod: dict[str, Any], pool: dict[str, Any], resources: dict[str, Any]) -> str | None:
    """None when the pod can run on a node of the pool, else the reason it cannot."""
    template = pool["spec"]["template"]
    labels = dict(template["metadata"].get("labels", {}))
    requirements = {r["key"]: r for r in template["spec"]["requirements"]}
    for r in requirements.values():
        if r["operator"] == "In" and len(r["values"]) == 1:
            labels.setdefault(r["key"], r["values"][0])
    for key, value in pod.get("nodeSelector", {}).items():
        if labels.get(key) != value:
            return f"node selector {key}={value} not on the pool's nodes"
    for taint in template["spec"].get("taints", []):
        if not tolerates(pod.get("tolerations", []), taint):
            return f"taint {taint} not tolerated"
    gpus, (cpu, memory) = pod_gpus(pod), pod_requests(pod)
    if gpus > int(pool["spec"]["limits"]["nvidia.com/gpu"]):
        return "more GPUs than the pool's limit"
    slices = time_slices(resources, template["metadata"].get("labels", {}))
    gpu_name = requirements["karpenter.k8s.aws/instance-gpu-name"]["values"]
    for name in requirements["node.kubernetes.io/instance-type"]["values"]:
        karpenter_name, instance = INSTANCES[name]
        assert [karpenter_name] == gpu_name, f"{name} is not a {gpu_name} instance"
        free_cpu = cpu_millicores(instance.allocatable_cpu) - 1000
        free_memory = byte_count(instance.allocatable_memory) - 2**30
        if instance.gpus * slices >= gpus and free_cpu >= cpu and free_memory >= memory:
            return None
    return f"no allowed instance type holds {gpus} GPUs, {cpu}m CPU and {memory} bytes"


def gpu_deployments(objects):
    return [d for d in of_kind(objects, "Deployment") if pod_gpus(d["spec"]["template"]["spec"])]


def prefers_spot(pod: dict[str, Any]) -> bool:
    terms = pod.get("affinity", {}).get("nodeAffinity", {}).get("preferredDuringSchedulingIgnoredDuringExecution", [])
    return any(
        e == {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}
        for t in terms
        for e in t["preference"]["matchExpressions"]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_every_gpu_deployment_is_schedulable_on_one_pool_or_spot_first_with_on_demand_fallback(renders, stack):
    objects, resources = renders[stack]
    pools = {p["metadata"]["name"]: p for p in of_kind(objects, "NodePool")}
    for deployment in gpu_deployments(objects):
        pod = deployment["spec"]["template"]["spec"]
        reasons = {name: why_not(pod, p, resources) for name, p in pools.items()}
        fitting = sorted(name for name, reason in reasons.items() if reason is None)
        if len(fitting) == 2:
            # Spot with on-demand fallback: the accelerator's on-demand pool and its spot pool, spot weighted higher
            # (Karpenter tries it first) and preferred by the pod (the scheduler fills spot nodes first).
            on_demand, spot = fitting
            assert spot == on_demand + "-spot", fitting
            assert pools[spot]["spec"]["weight"] > pools[on_demand]["spec"]["weight"]
            assert prefers_spot(pod), deployment["metadata"]["name"]
        else:
            assert len(fitting) == 1, f"{deployment['metadata']['name']}: {reasons}"


@pytest.mark.parametrize("stack", STACKS)
def test_there_is_one_pool_per_accelerator_in_use_and_none_other(renders, stack):
    objects, _ = renders[stack]
    used = {
        d["spec"]["template"]["spec"]["nodeSelector"]["ml-serving.dev/accelerator"] for d in gpu_deployments(objects)
    }
    pools = {
        p["spec"]["template"]["metadata"]["labels"]["ml-serving.dev/accelerator"] for p in of_kind(objects, "NodePool")
    }
    classes = {c["spec"]["tags"]["ml-serving.dev/accelerator"] for c in of_kind(objects, "EC2NodeClass")}
    assert pools == classes == used
    # One pool per accelerator, plus its spot pool where a model may use spot (staging: capacityType spot).
    assert len(of_kind(objects, "NodePool")) == len(used) * (2 if stack == "staging" else 1)
    expected = {"dev": set(), "staging": {"nvidia-l4", "nvidia-h100"}, "prod": {"nvidia-l4", "nvidia-h100"}}[stack]
    assert used == expected


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_pools_and_node_classes_are_valid_against_the_upstream_crds(renders, stack, crds):
    objects, _ = renders[stack]
    for obj in of_kind(objects, "NodePool") + of_kind(objects, "EC2NodeClass"):
        assert validate_custom_resource(obj, crds) == [], obj["metadata"]["name"]
        node_class = obj["spec"]["template"]["spec"]["nodeClassRef"]["name"] if obj["kind"] == "NodePool" else None
        if node_class is not None:
            assert node_class in {c["metadata"]["name"] for c in of_kind(objects, "EC2NodeClass")}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_pool_limits_hold_every_model_at_max_replicas_during_a_rollout(renders, stack):
    objects, _ = renders[stack]
    env = validate(ROOT, stack)
    # The on-demand pools: what holds every replica when spot is short.
    limits = {
        p["spec"]["template"]["metadata"]["labels"]["ml-serving.dev/accelerator"]: p["spec"]["limits"]["nvidia.com/gpu"]
        for p in of_kind(objects, "NodePool")
        if not p["metadata"]["name"].endswith("-spot")
    }
    needed: dict[str, int] = {}
    for deployment in gpu_deployments(objects):
        pod = deployment["spec"]["template"]["spec"]
        spec = env.models[deployment["metadata"]["name"]]
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == ROLLOUT_SURGE
        accelerator = pod["nodeSelector"]["ml-serving.dev/accelerator"]
        needed[accelerator] = needed.get(accelerator, 0) + (spec.scaling.max_replicas + ROLLOUT_SURGE) * pod_gpus(pod)
    for accelerator, gpus in needed.items():
        assert limits[accelerator] >= gpus, accelerator


def test_the_checker_rejects_a_pod_no_pool_can_hold(renders):
    objects, resources = renders["prod"]
    (llama,) = [d for d in gpu_deployments(objects) if d["metadata"]["name"] == "llama3-70b"]
    pool = next(p for p in of_kind(objects, "NodePool") if p["metadata"]["name"] == "ml-prod-nvidia-h100")
    pod = json.loads(json.dumps(llama["spec"]["template"]["spec"]))
    assert why_not(pod, pool, resources) is None
    pod["containers"][0]["resources"]["requests"]["memory"] = "1900Gi"
    assert why_not(pod, pool, resources).startswith("no allowed instance type holds 2 GPUs")
    pod = json.loads(json.dumps(llama["spec"]["template"]["spec"]))
    pod["tolerations"] = []
    assert why_not(pod, pool, resources).startswith("taint")
    pod = json.loads(json.dumps(llama["spec"]["template"]["spec"]))
    pod["nodeSelector"]["ml-serving.dev/accelerator"] = "nvidia-l4"
    assert why_not(pod, pool, resources).startswith("node selector")
