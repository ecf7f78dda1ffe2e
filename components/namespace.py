"""ServingNamespace: the namespace models run in, locked to Pod Security 'restricted', default-deny networking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from .kube import register
from .labels import platform_labels

TYPE = "ml-serving:core:ServingNamespace"


def namespace_manifest(name: str, kubernetes_version: str, labels: dict[str, str]) -> dict:
    """The Namespace, enforcing Pod Security 'restricted' at the cluster's own version (pinned, so an upgrade
    never changes the policy silently)."""
    pss = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    pss |= {
        f"pod-security.kubernetes.io/{mode}-version": f"v{kubernetes_version}" for mode in ("enforce", "audit", "warn")
    }
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {**platform_labels("namespace", labels), **pss}},
    }


def default_deny_manifest(namespace: str, labels: dict[str, str]) -> dict:
    """Deny all traffic to and from pods of the namespace unless a model's own NetworkPolicy allows it."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "default-deny",
            "namespace": namespace,
            "labels": platform_labels("network-policy", labels),
        },
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


Manifest = dict[str, Any]

#: Cloud instance metadata: never a destination, even where egress is otherwise open on a port.
METADATA_CIDR = "169.254.169.254/32"
#: Cluster DNS (CoreDNS/kube-dns pods in kube-system), the one egress every pod needs.
DNS_EGRESS: Manifest = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def ip_peers(cidrs: list[str]) -> list[Manifest]:
    """ipBlock peers; an all-addresses block never includes the instance metadata endpoint."""
    return [
        {"ipBlock": {"cidr": cidr, "except": [METADATA_CIDR]}} if cidr.endswith("/0") else {"ipBlock": {"cidr": cidr}}
        for cidr in cidrs
    ]


def namespace_peer(namespace: str, pod_labels: dict[str, str] | None = None) -> Manifest:
    peer: Manifest = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}
    if pod_labels is not None:
        peer["podSelector"] = {"matchLabels": dict(pod_labels)}
    return peer


def network_policy(
    name: str,
    namespace: str,
    labels: dict[str, str],
    pod_labels: dict[str, str],
    *,
    ingress: list[Manifest] | None = None,
    egress: list[Manifest] | None = None,
) -> Manifest:
    """A NetworkPolicy adding allows for the pods with ``pod_labels`` (empty: every pod of the namespace)."""
    spec: Manifest = {"podSelector": {"matchLabels": dict(pod_labels)} if pod_labels else {}, "policyTypes": []}
    if ingress is not None:
        spec["policyTypes"].append("Ingress")
        spec["ingress"] = ingress
    if egress is not None:
        spec["policyTypes"].append("Egress")
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": platform_labels("network-policy", labels)},
        "spec": spec,
    }


def platform_namespace_policies(
    namespace: str,
    labels: dict[str, str],
    api_server_cidrs: list[str],
    *,
    within_namespace: bool,
    extra: list[Manifest] = (),  # type: ignore[assignment]
) -> list[Manifest]:
    """Default deny for a namespace of platform components (monitoring, KEDA, device plugin), then only what they
    need: DNS, the Kubernetes API (on the declared API server ranges), traffic between the namespace's own pods
    when its components talk to each other, and ``extra``."""
    policies = [
        default_deny_manifest(namespace, labels),
        network_policy("allow-dns", namespace, labels, {}, egress=[DNS_EGRESS]),
        network_policy(
            "allow-kube-api",
            namespace,
            labels,
            {},
            egress=[
                {
                    "to": ip_peers(api_server_cidrs),
                    "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}],
                }
            ],
        ),
    ]
    if within_namespace:
        same = [{"from": [{"podSelector": {}}]}]
        policies.append(
            network_policy(
                "allow-same-namespace", namespace, labels, {}, ingress=same, egress=[{"to": [{"podSelector": {}}]}]
            )
        )
    return [*policies, *extra]


def register_policies(name: str, policies: list[Manifest], opts: pulumi.ResourceOptions) -> list[pulumi.Resource]:
    """One resource per policy, named ``<name>-<policy name>``."""
    return [register(f"{name}-{p['metadata']['name']}", p, opts) for p in policies]


@dataclass
class ServingNamespaceArgs:
    name: str
    """Namespace name (DNS label)."""
    kubernetes_version: str
    """Cluster minor, e.g. "1.33": pins the Pod Security Standards version."""
    labels: dict[str, str] = field(default_factory=dict)
    """Extra labels (team, cost centre)."""
    protect: bool = False
    """Protect the namespace and retain it on delete (prod: components/protection.py)."""


class ServingNamespace(pulumi.ComponentResource):
    """The models' namespace and its default-deny NetworkPolicy."""

    name: pulumi.Output[str]

    def __init__(self, name: str, args: ServingNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self.namespace = register(
            f"{name}-namespace",
            namespace_manifest(args.name, args.kubernetes_version, args.labels),
            pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        self.default_deny = register(
            f"{name}-default-deny",
            default_deny_manifest(args.name, args.labels),
            pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        self.name = self.namespace.metadata.apply(lambda m: m["name"])
        self.register_outputs({"name": self.name})
