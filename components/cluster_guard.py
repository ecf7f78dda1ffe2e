"""The cluster guard: the stack deploys only to the cluster its settings name, whatever the kubeconfig says.

The Kubernetes provider is pinned with ``clusterIdentifier`` (a kubeconfig change must not replace every resource),
which also hides a switch of cluster. So before the provider that owns every object exists, the program reads the
connected cluster's ``kube-system`` Namespace through a read-only provider on the same context and compares its
UID with ``ml-serving:cluster.kubeSystemUid``. The owning provider's ``clusterIdentifier`` is derived from that
comparison: on a mismatch it never resolves, so the provider is never registered and nothing under it is either.
Offline (the render) the read answers an unknown UID: the check happens at deploy time only, and the render says so.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi.output import Unknown

from model_catalog.settings import StackSettings

from .kube import read

#: Logical names of the read-only provider and of the read of kube-system.
READER = "cluster-identity"
KUBE_SYSTEM = "kube-system"


class WrongCluster(pulumi.RunError):
    """The connected cluster is not the one the stack names: nothing is registered."""


def verify_identity(metadata: dict[str, Any], settings: StackSettings) -> str:
    """The provider's clusterIdentifier once the connected cluster is the stack's; raise WrongCluster otherwise."""
    expected = settings.cluster.kube_system_uid
    actual = metadata.get("uid")
    if actual != expected:
        raise WrongCluster(
            f"wrong cluster: context '{settings.cluster.context}' reaches a cluster whose kube-system UID is "
            f"'{actual}', but stack setting ml-serving:cluster.kubeSystemUid expects '{expected}' (cluster "
            f"'{settings.cluster.name}'); nothing was registered. Check the context (kubectl config get-contexts) "
            "or, if the cluster was really rebuilt, update kubeSystemUid in review"
        )
    return settings.cluster.name


def cluster_identifier(settings: StackSettings) -> pulumi.Input[str]:
    """The owning provider's clusterIdentifier: the cluster name, known only after the identity check passed (a
    plain name when the stack pins no identity, dev)."""
    if settings.cluster.kube_system_uid is None:
        return settings.cluster.name
    reader = k8s.Provider(READER, context=settings.cluster.context)
    kube_system = read(
        f"{READER}-{KUBE_SYSTEM}", "v1", "Namespace", KUBE_SYSTEM, pulumi.ResourceOptions(provider=reader)
    )
    return kube_system.metadata.apply(lambda metadata: _checked(metadata, settings))


def _checked(metadata: dict[str, Any] | None, settings: StackSettings) -> pulumi.Input[str]:
    # A live read always returns the object's metadata; none means the read's result is unknown, which only an
    # offline render (mocks) gives: then the identifier stays unknown too, and nothing is claimed as checked.
    if metadata is None:
        return pulumi.Output.from_input(Unknown())  # type: ignore[arg-type]
    return verify_identity(metadata, settings)


def identity_note(settings: StackSettings) -> str:
    """What the render can say about the guard."""
    uid = settings.cluster.kube_system_uid
    if uid is None:
        return (
            f"cluster identity: not pinned ({settings.environment.tier}); deploys through context "
            f"'{settings.cluster.context or '(current)'}' to whatever cluster it reaches"
        )
    return (
        f"cluster identity: deploys only where kube-system has UID {uid} (read at deploy time through context "
        f"'{settings.cluster.context}'; unknown offline, so not checked by this render)"
    )
