"""The e2e control plane's fake nodes hold every rendered model at maxReplicas plus a rollout's surge, GPU models only
on GPU nodes of their accelerator, CPU models never on GPU nodes (checked against the rendered objects with the
scheduler's rules: node selector, taints and tolerations, requests against allocatable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlserve.e2e_nodes import KWOK_ANNOTATION, fake_nodes
from mlserve.render import render, validate
from model_catalog.quantities import byte_count, cpu_millicores
from tests.helpers import ROOT, STACKS, read_yaml
from tests.test_gpu_schedulability import pod_gpus, pod_requests, tolerates


def objects_of(stack: str, out: Path) -> list[dict]:
    render(ROOT, stack, out)
    return [read_yaml(p) for p in sorted((out / "manifests").glob("*.yaml"))]


def fits(pod: dict, node: dict) -> bool:
    labels = node["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in pod.get("nodeSelector", {}).items()):
        return False
    return all(tolerates(pod.get("tolerations", []), t) for t in node["spec"].get("taints", []))


def replicas_on(pod: dict, node: dict) -> int:
    """How many such pods one empty node holds (GPUs, cpu, memory)."""
    allocatable = node["status"]["allocatable"]
    cpu, memory = pod_requests(pod)
    counts = [cpu_millicores(allocatable["cpu"]) // cpu, byte_count(allocatable["memory"]) // memory]
    gpus = pod_gpus(pod)
    if gpus:
        counts.append(int(allocatable.get("nvidia.com/gpu", 0)) // gpus)
    return min(counts)


@pytest.mark.parametrize("stack", (*STACKS, "e2e"))
def test_fake_nodes_hold_every_model_at_max_replicas_plus_surge(stack, tmp_path):
    objects = objects_of(stack, tmp_path)
    nodes = fake_nodes(validate(ROOT, stack))
    assert all(n["metadata"]["annotations"] == KWOK_ANNOTATION for n in nodes)
    hpas = {o["metadata"]["name"]: o for o in objects if o["kind"] == "HorizontalPodAutoscaler"}
    gpu_nodes = [n for n in nodes if "nvidia.com/gpu" in n["status"]["capacity"]]
    assert bool(gpu_nodes) == any(pod_gpus(o["spec"]["template"]["spec"]) for o in objects if o["kind"] == "Deployment")
    for deployment in (o for o in objects if o["kind"] == "Deployment"):
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        hpa = hpas.get(name)
        replicas = (hpa["spec"]["maxReplicas"] if hpa else deployment["spec"].get("replicas", 1)) + 1
        eligible = [n for n in nodes if fits(pod, n)]
        if pod_gpus(pod):
            assert eligible and all(n in gpu_nodes for n in eligible), name
            capacity = sum(replicas_on(pod, n) for n in eligible)
            assert capacity >= replicas, f"{name}: {capacity} replicas fit, {replicas} needed"
        else:
            assert eligible and not any(n in gpu_nodes for n in eligible), name
            assert sum(replicas_on(pod, n) for n in eligible) >= replicas, name


def test_gpu_nodes_carry_the_pool_taint_and_the_accelerator_label():
    nodes = fake_nodes(validate(ROOT, "prod"))
    gpu_nodes = [n for n in nodes if "nvidia.com/gpu" in n["status"]["capacity"]]
    assert gpu_nodes
    for n in gpu_nodes:
        assert {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"} in n["spec"]["taints"]
        assert n["metadata"]["labels"]["ml-serving.dev/accelerator"].startswith("nvidia-")
        assert n["metadata"]["labels"]["karpenter.sh/nodepool"].startswith("ml-prod-")
