"""DevicePlugin: the pinned NVIDIA device plugin chart, only on the stack's GPU nodes, with time-slicing configs."""

import pytest
import yaml

from components.device_plugin import chart_values, namespace_manifest, sharing_config
from model_catalog.errors import ConfigurationError
from platform_data import pins
from tests.components.test_gpu_node_pool import CATALOG, KARPENTER
from tests.helpers import run_catalog


def chart_of(run):
    (chart,) = [r for r in run.registrations if r.type == "kubernetes:helm.sh/v4:Chart"]
    return chart


def test_the_chart_and_its_image_are_pinned(tmp_path):
    chart = chart_of(run_catalog(tmp_path, CATALOG, gpuNodePool=KARPENTER))
    inputs = chart.inputs
    assert (inputs["chart"], inputs["version"]) == ("nvidia-device-plugin", pins.NVIDIA_DEVICE_PLUGIN_CHART_VERSION)
    assert inputs["repositoryOpts"] == {"repo": "https://nvidia.github.io/k8s-device-plugin"}
    assert inputs["values"]["image"]["tag"].startswith("v0.20.0@sha256:")
    assert pins.NVIDIA_DEVICE_PLUGIN_IMAGE_TAG[1:].split("@")[0] == pins.NVIDIA_DEVICE_PLUGIN_CHART_VERSION
    assert inputs["namespace"] == "ml-test-nvidia-device-plugin" and inputs["name"] == "ml-test-nvidia-device-plugin"


def test_it_runs_only_on_the_stacks_node_pools_and_tolerates_their_taint(tmp_path):
    values = chart_of(run_catalog(tmp_path, CATALOG, gpuNodePool=KARPENTER)).inputs["values"]
    terms = values["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [
        {
            "matchExpressions": [
                {
                    "key": "karpenter.sh/nodepool",
                    "operator": "In",
                    "values": ["ml-test-nvidia-h100", "ml-test-nvidia-l4"],
                }
            ]
        }
    ]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in values["tolerations"]


def test_without_sharing_there_is_no_config_and_no_capability(tmp_path):
    values = chart_of(run_catalog(tmp_path, CATALOG, gpuNodePool=KARPENTER)).inputs["values"]
    assert "config" not in values
    assert values["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def test_time_slicing_becomes_a_named_config_per_accelerator_with_whole_gpus_by_default(tmp_path):
    pools = {**KARPENTER, "sharing": {"nvidia-l4": {"timeSlicingReplicas": 4}}}
    values = chart_of(run_catalog(tmp_path, CATALOG, gpuNodePool=pools)).inputs["values"]
    config = values["config"]
    assert config["default"] == "default" and sorted(config["map"]) == ["default", "nvidia-l4"]
    assert yaml.safe_load(config["map"]["default"]) == {"version": "v1", "flags": {"migStrategy": "none"}}
    assert yaml.safe_load(config["map"]["nvidia-l4"])["sharing"] == {
        "timeSlicing": {"failRequestsGreaterThanOne": True, "resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}
    }


def test_a_multi_gpu_model_on_a_shared_accelerator_is_a_catalog_error(tmp_path):
    pools = {**KARPENTER, "sharing": {"nvidia-h100": {"timeSlicingReplicas": 2}}}
    with pytest.raises(ConfigurationError) as info:
        run_catalog(tmp_path, CATALOG, gpuNodePool=pools)
    assert [p.path for p in info.value.problems] == ["models.chat.resources.gpu.count"]


def test_the_namespace_is_privileged_and_says_why():
    ns = namespace_manifest("ml-test-nvidia-device-plugin", "1.34", {"team": "ml"})
    labels = ns["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged" and labels["team"] == "ml"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.34"
    assert "hostPath" in ns["metadata"]["annotations"]["ml-serving.dev/pod-security-exception"]


def test_extra_taints_are_tolerated_once():
    taint = {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}
    values = chart_values([], [taint, taint], {})
    assert values["tolerations"].count(taint) == 1


def test_a_whole_gpu_config_has_no_sharing_section():
    assert "sharing" not in yaml.safe_load(sharing_config(None))
