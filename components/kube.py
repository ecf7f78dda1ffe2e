"""Register a manifest dict as the Pulumi resource of its Kubernetes kind.

The builders write Kubernetes objects as they appear in the API (camelCase, apiVersion/kind). Each becomes one
resource of its kind's type token (``kubernetes:apps/v1:Deployment``), registered with the request pulumi-kubernetes'
typed class of the kind sends: the same type token, inputs, provider version and secret outputs
(tests/components/test_kube.py compares the two requests for every kind the builders write, and the reads too). The
engine and the provider see the same resource either way, so previews diff per object, the provider awaits each kind
as it does for the typed class, and a stack deployed through the typed classes previews without changes.

What this leaves out is the typed classes themselves: their modules evaluate every input and output type of their
API group at import, and pulumi-kubernetes' core/v1 group alone was about a quarter of the default catalog's render
(docs/benchmarks.md). Also left out: the type-only aliases each typed class adds for its kind's older API versions
(``kubernetes:apps/v1beta1:Deployment``, ...). They let the engine adopt an object created under an older API
version; this platform never created one, and the engine keeps no aliases in its state.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import pulumi

#: The fields of a kind that pulumi-kubernetes' typed class marks secret: their inputs are sent as secrets and its
#: outputs kept secret (``additional_secret_outputs``), so the values are encrypted in the state.
SECRET_FIELDS: Mapping[tuple[str, str], tuple[str, ...]] = {("v1", "Secret"): ("data", "stringData")}

#: The fields a read (``Namespace.get``) asks for, as pulumi-kubernetes' ``get`` of a kind does.
_READ_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")


class KubernetesObject(pulumi.CustomResource):
    """A Kubernetes object of any kind. Its inputs are the manifest's fields. Its outputs are the same fields as the
    provider returns them, as plain data: ``metadata`` is a dict."""

    def __init__(
        self, resource_name: str, type_token: str, props: dict[str, Any], opts: pulumi.ResourceOptions
    ) -> None:
        super().__init__(type_token, resource_name, props, opts)


def type_token(api_version: str, kind: str) -> str:
    """The Pulumi type of a kind: ``kubernetes:<apiVersion>:<kind>``. The core group, which has no name in
    ``apiVersion`` (``v1``), is ``core/v1`` there."""
    return f"kubernetes:{'core/v1' if api_version == 'v1' else api_version}:{kind}"


@functools.cache
def _provider_defaults() -> pulumi.ResourceOptions:
    """The options every pulumi-kubernetes resource class starts from: the provider's version (the plugin the
    engine loads for the resource) and its download URL. Taken from the installed package, as its classes take it."""
    from pulumi_kubernetes import _utilities

    return _utilities.get_resource_opts_defaults()


def register(logical_name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Create the Pulumi resource for ``manifest`` (a full object with apiVersion and kind)."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    props = dict(manifest)
    secret_fields = SECRET_FIELDS.get((api_version, kind), ())
    for field in secret_fields:
        if props.get(field) is not None:
            props[field] = pulumi.Output.secret(props[field])
    opts = pulumi.ResourceOptions.merge(_provider_defaults(), opts)
    if secret_fields:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=list(secret_fields)))
    return KubernetesObject(logical_name, type_token(api_version, kind), props, opts)


def read(
    logical_name: str, api_version: str, kind: str, object_id: str, opts: pulumi.ResourceOptions | None = None
) -> pulumi.CustomResource:
    """Read an existing object (``namespace/name``, or ``name`` for a cluster-scoped kind) without managing it, as
    the typed class's ``get`` does: its outputs are the object's fields (``metadata`` a dict)."""
    opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=object_id))
    opts = pulumi.ResourceOptions.merge(_provider_defaults(), opts)
    return KubernetesObject(logical_name, type_token(api_version, kind), dict.fromkeys(_READ_FIELDS), opts)


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
