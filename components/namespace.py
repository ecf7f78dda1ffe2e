"""ServingNamespace: the namespace models run in, locked to Pod Security 'restricted', default-deny networking."""

from __future__ import annotations

from dataclasses import dataclass, field

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
