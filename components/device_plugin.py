"""DevicePlugin: the NVIDIA device plugin, from its pinned Helm chart, on exactly the stack's GPU nodes.

The plugin advertises ``nvidia.com/gpu`` on each GPU node; without it GPU pods never schedule. It needs host access
(the kubelet's device-plugin socket directory is a hostPath), so it gets its own namespace at Pod Security
'privileged' (the documented exception to MANIFEST-RULES rule 1), never the models' namespace.

Chart through ``kubernetes.helm.v4.Chart``, not ``helm.v3.Release``: v4 renders the chart client-side into ordinary
resources, so `pulumi preview` diffs the DaemonSet, ConfigMap and RBAC object by object and awaits the DaemonSet like
any other resource; this chart has no hooks (the one thing v4 does not run). A v3 Release would show one opaque
release diff and keep state in a Helm secret besides Pulumi's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from platform_data import pins
from platform_data.accelerators import GPU_RESOURCE, GPU_TAINT_EFFECT, GPU_TAINT_KEY

from .kube import register
from .labels import platform_labels
from .namespace import platform_namespace_policies, register_policies

TYPE = "ml-serving:gpu:DevicePlugin"
#: Helm release name's suffix: the release is ``<stack namespace>-nvidia-device-plugin``, per stack (anything the
#: chart names after its release, cluster-scoped RBAC included, is the stack's own); it contains the chart name, so
#: the chart names its DaemonSet exactly the release.
RELEASE_SUFFIX = "nvidia-device-plugin"
#: Node label the plugin's config manager reads to pick a named configuration for that node (fixed in the chart).
CONFIG_LABEL = "nvidia.com/device-plugin.config"
#: Name of the configuration nodes without that label get: whole GPUs, no sharing.
DEFAULT_CONFIG = "default"

Manifest = dict[str, Any]


def sharing_config(time_slicing_replicas: int | None) -> str:
    """One named device-plugin configuration (the chart's ``config.map`` value): whole GPUs, or time-sliced.

    ``failRequestsGreaterThanOne``: a pod asking for two slices would get two slices of possibly the same GPU
    (NVIDIA/gpu-operator#386), never what a tensor-parallel model means; the plugin refuses such requests.
    """
    config: dict[str, Any] = {"version": "v1", "flags": {"migStrategy": "none"}}
    if time_slicing_replicas is not None:
        config["sharing"] = {
            "timeSlicing": {
                "failRequestsGreaterThanOne": True,
                "resources": [{"name": GPU_RESOURCE, "replicas": time_slicing_replicas}],
            }
        }
    return yaml.safe_dump(config, sort_keys=False)


def namespace_manifest(name: str, kubernetes_version: str, labels: dict[str, str]) -> Manifest:
    """The plugin's namespace: Pod Security 'privileged', because the plugin mounts the kubelet's device-plugin
    directory from the host (hostPath), which 'baseline' and 'restricted' forbid; the policy version pinned to the
    cluster's minor, as on every namespace of the platform."""
    pss = {f"pod-security.kubernetes.io/{mode}": "privileged" for mode in ("enforce", "audit", "warn")}
    pss |= {
        f"pod-security.kubernetes.io/{mode}-version": f"v{kubernetes_version}" for mode in ("enforce", "audit", "warn")
    }
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {**platform_labels("device-plugin", labels), **pss},
            "annotations": {
                "ml-serving.dev/pod-security-exception": (
                    "NVIDIA device plugin: hostPath /var/lib/kubelet/device-plugins (MANIFEST-RULES rule 1 exception)"
                )
            },
        },
    }


def chart_values(
    node_selector_terms: list[Manifest],
    tolerated_taints: list[Manifest],
    time_slicing: dict[str, int],
) -> Manifest:
    """Helm values of the chart: pinned image, only on the given nodes, tolerating their taints, and one named
    configuration per time-sliced accelerator (selected by the CONFIG_LABEL its node pool puts on its nodes)."""
    tolerations = [
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": GPU_TAINT_EFFECT},
    ]
    for toleration in tolerated_taints:
        if toleration not in tolerations:
            tolerations.append(toleration)
    values: Manifest = {
        "image": {
            "repository": pins.NVIDIA_DEVICE_PLUGIN_IMAGE_REPOSITORY,
            "tag": pins.NVIDIA_DEVICE_PLUGIN_IMAGE_TAG,
            "pullPolicy": "IfNotPresent",
        },
        "priorityClassName": "system-node-critical",
        # Whole GPUs and time-slicing need no capability (the chart adds SYS_ADMIN whenever a config map exists,
        # for MIG, which this platform does not configure); stated explicitly so the chart's guess never applies.
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        # Replaces the chart's default affinity (node-feature-discovery labels this platform does not install).
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": node_selector_terms}
            }
        },
        "tolerations": tolerations,
    }
    if time_slicing:
        configs = {DEFAULT_CONFIG: sharing_config(None)}
        configs.update({name: sharing_config(replicas) for name, replicas in sorted(time_slicing.items())})
        values["config"] = {"map": configs, "default": DEFAULT_CONFIG}
    return values


@dataclass
class DevicePluginArgs:
    namespace: str
    """Namespace the plugin runs in (created here, Pod Security 'privileged')."""
    release: str
    """Helm release name, per stack (``<stack namespace>-`` RELEASE_SUFFIX)."""
    node_selector_terms: list[Manifest]
    """Node affinity terms (ORed) selecting exactly the stack's GPU nodes."""
    kubernetes_version: str
    """The cluster's Kubernetes minor: the namespace's Pod Security labels pin that policy version."""
    tolerated_taints: list[Manifest] = field(default_factory=list)
    """Tolerations beyond the GPU taint, e.g. the taints of existing GPU nodes."""
    time_slicing: dict[str, int] = field(default_factory=dict)
    """Accelerator -> time-slicing replicas; each becomes a named plugin configuration."""
    labels: dict[str, str] = field(default_factory=dict)
    """Extra labels on the namespace (team, cost centre)."""
    api_server_cidrs: list[str] = field(default_factory=lambda: ["0.0.0.0/0"])
    """Where the Kubernetes API server is: the namespace's only egress besides DNS (the plugin's config manager
    watches its node's labels)."""
    protect: bool = False
    """Protect the namespace (prod)."""


class DevicePlugin(pulumi.ComponentResource):
    """The NVIDIA device plugin on the stack's GPU nodes."""

    def __init__(self, name: str, args: DevicePluginArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self.namespace = register(
            f"{name}-namespace",
            namespace_manifest(args.namespace, args.kubernetes_version, args.labels),
            pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        # Default deny: the plugin talks to the kubelet over a socket; only DNS and the API leave the namespace.
        self.network_policies = register_policies(
            f"{name}-netpol",
            platform_namespace_policies(args.namespace, args.labels, args.api_server_cidrs, within_namespace=False),
            pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        self.values = chart_values(args.node_selector_terms, args.tolerated_taints, args.time_slicing)
        self.chart = k8s.helm.v4.Chart(
            f"{name}-chart",
            chart=pins.NVIDIA_DEVICE_PLUGIN_CHART,
            version=pins.NVIDIA_DEVICE_PLUGIN_CHART_VERSION,
            repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=pins.NVIDIA_DEVICE_PLUGIN_CHART_REPO),
            name=args.release,
            namespace=args.namespace,
            values=self.values,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        self.register_outputs(
            {
                "namespace": args.namespace,
                "chartVersion": pins.NVIDIA_DEVICE_PLUGIN_CHART_VERSION,
                "release": args.release,
            }
        )
