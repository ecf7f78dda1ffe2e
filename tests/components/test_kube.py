"""components/kube.py registers each Kubernetes object with the request pulumi-kubernetes' typed class sends.

Every kind the builders write is registered twice under the same mock engine, once through ``kube.register`` and
once through its typed class (``k8s.apps.v1.Deployment(...)``); the gRPC requests the engine receives must be the
same, field for field, except the typed classes' type-only aliases and the call sites (source position, stack
trace). The same for custom resources (``apiextensions.CustomResource``) and for reads (``Namespace.get``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from google.protobuf import json_format
from pulumi_kubernetes import _tables

from components import kube
from mlserve import bench_floor, mock_runtime
from tests.helpers import ROOT

#: Every built-in kind the builders write (apiVersion, kind).
KINDS: tuple[tuple[str, str], ...] = (
    ("v1", "ConfigMap"),
    ("v1", "LimitRange"),
    ("v1", "Namespace"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "ResourceQuota"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "Deployment"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("batch/v1", "Job"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("policy/v1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
)

#: Request fields that name the call site, not the resource.
_CALL_SITE = ("sourcePosition", "stackTrace", "parentStackTraceHandle")


def _typed_class(api_version: str, kind: str) -> Any:
    """The kind's typed pulumi-kubernetes class, as the typed floor finds it."""
    cls = bench_floor._typed_class(kube.type_token(api_version, kind))
    assert cls is not None, (api_version, kind)
    return cls


_POD = {"containers": [{"name": "c", "image": "registry.example/app@sha256:" + "0" * 64}]}
_SELECTOR = {"matchLabels": {"app": "a"}}
_RULES = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]

#: A small object of each kind with a value in every field its typed class takes.
_FIELDS: dict[str, dict[str, Any]] = {
    "ConfigMap": {"data": {"a": "b"}, "binaryData": {"c": "ZA=="}, "immutable": True},
    "LimitRange": {"spec": {"limits": [{"type": "Container", "default": {"cpu": "1"}}]}},
    "Namespace": {"spec": {"finalizers": ["kubernetes"]}},
    "PersistentVolumeClaim": {
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    },
    "ResourceQuota": {"spec": {"hard": {"pods": "10"}}},
    "Secret": {"data": {"a": "Yg=="}, "stringData": {"c": "d"}, "type": "Opaque", "immutable": True},
    "Service": {"spec": {"selector": {"app": "a"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
    "ServiceAccount": {
        "automountServiceAccountToken": False,
        "imagePullSecrets": [{"name": "pull"}],
        "secrets": [{"name": "token"}],
    },
    "DaemonSet": {"spec": {"selector": _SELECTOR, "template": {"metadata": {"labels": {"app": "a"}}, "spec": _POD}}},
    "Deployment": {
        "spec": {"replicas": 2, "selector": _SELECTOR, "template": {"metadata": {"labels": {"app": "a"}}, "spec": _POD}}
    },
    "HorizontalPodAutoscaler": {
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"}, "maxReplicas": 3}
    },
    "Job": {"spec": {"template": {"spec": {**_POD, "restartPolicy": "Never"}}}},
    "Ingress": {"spec": {"ingressClassName": "nginx"}},
    "NetworkPolicy": {"spec": {"podSelector": _SELECTOR, "policyTypes": ["Ingress"]}},
    "PodDisruptionBudget": {"spec": {"selector": _SELECTOR, "maxUnavailable": 1}},
    "Role": {"rules": _RULES},
    "RoleBinding": {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "a"},
        "subjects": [{"kind": "ServiceAccount", "name": "a", "namespace": "ns"}],
    },
}


def _manifest(api_version: str, kind: str) -> dict[str, Any]:
    metadata = {"name": f"a-{kind.lower()}", "namespace": "ns", "labels": {"app": "a"}}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **_FIELDS[kind]}


def _normal(request: Any) -> dict[str, Any]:
    data = json_format.MessageToDict(request)
    for key in _CALL_SITE:
        data.pop(key, None)
    if "aliases" in request.DESCRIPTOR.fields_by_name:  # a RegisterResource request
        kept = [a for a in request.aliases if not mock_runtime._type_only(a)]
        data["aliases"] = [json_format.MessageToDict(a) for a in kept]
    return data


def _requests(monkeypatch: pytest.MonkeyPatch, program: Any) -> list[dict[str, Any]]:
    """The RegisterResource and ReadResource requests of ``program`` under the render's mock engine, but the
    stack's own and the providers'."""
    seen: list[dict[str, Any]] = []
    monitor = mock_runtime._RecordingMonitor
    register, read = monitor.RegisterResource, monitor.ReadResource

    def recording_register(self: Any, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack" and not request.type.startswith("pulumi:providers:"):
            seen.append({"request": "register", **_normal(request)})
        return register(self, request)

    def recording_read(self: Any, request: Any) -> Any:
        seen.append({"request": "read", **_normal(request)})
        return read(self, request)

    with monkeypatch.context() as patch:
        patch.setattr(monitor, "RegisterResource", recording_register)
        patch.setattr(monitor, "ReadResource", recording_read)
        mock_runtime.run_program(ROOT, "prod", program, config={})
    return seen


def _options() -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(protect=True, ignore_changes=["spec"], custom_timeouts=pulumi.CustomTimeouts("5m"))


def test_every_kind_is_registered_with_the_request_of_its_typed_class(monkeypatch):
    def ours() -> None:
        for api_version, kind in KINDS:
            kube.register(f"{kind}-object", _manifest(api_version, kind), _options())

    def typed() -> None:
        for api_version, kind in KINDS:
            fields = {k: v for k, v in _manifest(api_version, kind).items() if k not in ("apiVersion", "kind")}
            snake = {_tables.CAMEL_TO_SNAKE_CASE_TABLE.get(k, k): v for k, v in fields.items()}
            _typed_class(api_version, kind)(f"{kind}-object", opts=_options(), **snake)

    mine, theirs = _requests(monkeypatch, ours), _requests(monkeypatch, typed)
    assert len(mine) == len(KINDS)
    assert mine == theirs
    by_type = {r["type"]: r for r in mine}
    assert by_type["kubernetes:core/v1:Service"]["version"] == k8s._utilities.get_version()
    secret = by_type["kubernetes:core/v1:Secret"]
    assert secret["additionalSecretOutputs"] == ["data", "stringData"]
    assert secret["object"]["data"][mock_runtime.SECRET_SIG] == mock_runtime.SECRET_MARK  # sent as a secret
    assert mock_runtime.SECRET_SIG not in json.dumps(by_type["kubernetes:core/v1:ConfigMap"])


def test_a_custom_resource_is_registered_as_apiextensions_custom_resource_registers_it(monkeypatch):
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": "m", "namespace": "ns"},
        "spec": {"podMetricsEndpoints": [{"port": "metrics"}]},
    }

    def ours() -> None:
        kube.register("monitor", monitor, pulumi.ResourceOptions(retain_on_delete=True))

    def typed() -> None:
        k8s.apiextensions.CustomResource(
            "monitor",
            api_version=monitor["apiVersion"],
            kind=monitor["kind"],
            metadata=monitor["metadata"],
            spec=monitor["spec"],
            opts=pulumi.ResourceOptions(retain_on_delete=True),
        )

    mine = _requests(monkeypatch, ours)
    assert mine == _requests(monkeypatch, typed)
    assert mine[0]["type"] == "kubernetes:monitoring.coreos.com/v1:PodMonitor"


def test_reads_send_the_request_of_the_typed_get(monkeypatch):
    def ours() -> None:
        kube.read("kube-system", "v1", "Namespace", "kube-system")
        crd = "podmonitors.monitoring.coreos.com"
        kube.read("crd", "apiextensions.k8s.io/v1", "CustomResourceDefinition", crd, pulumi.ResourceOptions())

    def typed() -> None:
        k8s.core.v1.Namespace.get("kube-system", "kube-system")
        k8s.apiextensions.v1.CustomResourceDefinition.get("crd", "podmonitors.monitoring.coreos.com")

    mine = _requests(monkeypatch, ours)
    assert [(r["request"], r["type"], r["id"]) for r in mine] == [
        ("read", "kubernetes:core/v1:Namespace", "kube-system"),
        ("read", "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "podmonitors.monitoring.coreos.com"),
    ]
    assert mine == _requests(monkeypatch, typed)


def test_a_reads_outputs_are_the_objects_fields():
    seen: dict[str, Any] = {}

    def program() -> None:
        namespace = kube.read("kube-system", "v1", "Namespace", "kube-system")
        namespace.kind.apply(lambda kind: seen.update(kind=kind))

    mock_runtime.run_program(ROOT, "prod", program, config={})
    assert seen == {"kind": "Namespace"}


def test_the_table_covers_every_built_in_kind_the_stacks_render():
    """A new built-in kind in the builders shows in the goldens: it must be compared above too."""
    rendered = set()
    for path in sorted((ROOT / "tests" / "golden").glob("*/resources.json")):
        for item in json.loads(Path(path).read_text())["resources"]:
            if item["custom"] and bench_floor._typed_class(item["type"]) is not None:
                rendered.add(item["type"])
    assert rendered
    assert rendered <= {kube.type_token(api_version, kind) for api_version, kind in KINDS}


def test_the_type_token_names_the_core_group():
    assert kube.type_token("v1", "Service") == "kubernetes:core/v1:Service"
    assert kube.type_token("apps/v1", "Deployment") == "kubernetes:apps/v1:Deployment"
    assert kube.type_token("keda.sh/v1alpha1", "ScaledObject") == "kubernetes:keda.sh/v1alpha1:ScaledObject"
