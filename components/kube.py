"""Register a manifest dict as the matching typed pulumi-kubernetes resource.

The builders write Kubernetes objects as they appear in the API (camelCase, apiVersion/kind); this maps each onto
its typed resource class, so previews diff per object and pulumi-kubernetes awaits each kind properly. Kinds
without a typed class (custom resources) become ``apiextensions.CustomResource``.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

_TYPED: dict[tuple[str, str], Any] = {
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "ResourceQuota"): k8s.core.v1.ResourceQuota,
    ("v1", "LimitRange"): k8s.core.v1.LimitRange,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("apps/v1", "DaemonSet"): k8s.apps.v1.DaemonSet,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
}

#: How pulumi-kubernetes is told to await a custom resource's readiness (it awaits CRs only when asked,
#: pulumi-kubernetes#3143). A JSONPath test of the Ready condition's current status rather than `condition=Ready`:
#: the condition awaiter can wait for a fresh Ready transition after an update of an already-Ready object
#: (pulumi-kubernetes#4521) and so time out on a harmless update; the JSONPath test is true as soon as the object
#: is Ready, before or after the update.
WAIT_FOR_READY = "jsonpath={.status.conditions[?(@.type=='Ready')].status}=True"


def await_ready(metadata: dict[str, Any], timeout_seconds: int) -> dict[str, Any]:
    """``metadata`` with the annotations that make `pulumi up` wait until the object reports Ready, at most
    ``timeout_seconds`` (then the update fails with the object's last status instead of going on green)."""
    annotations = {
        **metadata.get("annotations", {}),
        "pulumi.com/waitFor": WAIT_FOR_READY,
        "pulumi.com/timeoutSeconds": str(timeout_seconds),
    }
    return {**metadata, "annotations": annotations}


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def register(logical_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Create the Pulumi resource for ``manifest`` (a full object with apiVersion and kind)."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    fields = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    cls = _TYPED.get((api_version, kind))
    if cls is None:
        return k8s.apiextensions.CustomResource(logical_name, api_version=api_version, kind=kind, opts=opts, **fields)
    return cls(logical_name, opts=opts, **{_snake(k): v for k, v in fields.items()})
