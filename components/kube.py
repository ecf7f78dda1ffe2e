"""Register a manifest dict as the matching typed pulumi-kubernetes resource.

The builders write Kubernetes objects as they appear in the API (camelCase, apiVersion/kind); this maps each onto
its typed resource class, so previews diff per object and pulumi-kubernetes awaits each kind properly. Kinds
without a typed class (custom resources) become ``apiextensions.CustomResource``.
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

#: The typed pulumi-kubernetes class of each kind, as (module, class): imported on first use, so a stack pays only
#: for the API groups it registers (pulumi-kubernetes loads each group's module, its input and output types, lazily;
#: batch/v1 and rbac/v1 alone took about 50 ms of a render that registers neither).
_TYPED: dict[tuple[str, str], tuple[str, str]] = {
    ("v1", "ConfigMap"): ("core.v1", "ConfigMap"),
    ("v1", "PersistentVolumeClaim"): ("core.v1", "PersistentVolumeClaim"),
    ("batch/v1", "Job"): ("batch.v1", "Job"),
    ("v1", "Namespace"): ("core.v1", "Namespace"),
    ("v1", "Secret"): ("core.v1", "Secret"),
    ("v1", "Service"): ("core.v1", "Service"),
    ("v1", "ServiceAccount"): ("core.v1", "ServiceAccount"),
    ("v1", "ResourceQuota"): ("core.v1", "ResourceQuota"),
    ("v1", "LimitRange"): ("core.v1", "LimitRange"),
    ("apps/v1", "Deployment"): ("apps.v1", "Deployment"),
    ("apps/v1", "DaemonSet"): ("apps.v1", "DaemonSet"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): ("autoscaling.v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"): ("policy.v1", "PodDisruptionBudget"),
    ("networking.k8s.io/v1", "NetworkPolicy"): ("networking.v1", "NetworkPolicy"),
    ("networking.k8s.io/v1", "Ingress"): ("networking.v1", "Ingress"),
    ("rbac.authorization.k8s.io/v1", "Role"): ("rbac.v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): ("rbac.v1", "RoleBinding"),
}


@functools.cache
def typed_class(api_version: str, kind: str) -> Any | None:
    """The typed pulumi-kubernetes class of a kind (``k8s.apps.v1.Deployment``), None for a custom resource."""
    found = _TYPED.get((api_version, kind))
    if found is None:
        return None
    module, name = found
    return getattr(importlib.import_module(f"pulumi_kubernetes.{module}"), name)


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
    cls = typed_class(api_version, kind)
    if cls is None:
        return k8s.apiextensions.CustomResource(logical_name, api_version=api_version, kind=kind, opts=opts, **fields)
    return cls(logical_name, opts=opts, **{_snake(k): v for k, v in fields.items()})
