"""Who may talk to a model's pods under gateway-inference routing: the Gateway's data plane (requests) and the
model's endpoint picker (metrics scrapes). No dependency on the workload builders, so they can call it."""

from __future__ import annotations

from typing import Any

from model_catalog.schema import ModelSpec
from model_catalog.settings import GatewayRef, StackSettings

Manifest = dict[str, Any]

#: The label that selects a model's endpoint picker pods (never the model's own selector label: the model's Service
#: and InferencePool must not select them).
EPP_LABEL = "ml-serving.dev/endpoint-picker"


def model_gateway(spec: ModelSpec, settings: StackSettings) -> GatewayRef | None:
    """The Gateway a vLLM model's route attaches to: the stack's `gateway` for a public model, its
    `internalGateway` for an internal one (none: an internal model is never routed through the public Gateway)."""
    if settings.routing.type != "gateway-inference" or spec.runtime != "vllm":
        return None
    return settings.routing.gateway if spec.exposure.type == "public" else settings.routing.internal_gateway


def routed_by_gateway(spec: ModelSpec, settings: StackSettings) -> bool:
    """A vLLM model of a gateway-inference stack with a Gateway for its exposure: InferencePool, endpoint picker
    and HTTPRoute instead of an Ingress."""
    return model_gateway(spec, settings) is not None


def gateway_peer(spec: ModelSpec, settings: StackSettings) -> Manifest:
    gateway = model_gateway(spec, settings)
    assert gateway is not None, "only for models routed by a Gateway"
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": gateway.namespace}},
        "podSelector": {"matchLabels": dict(gateway.pod_labels)},
    }


def epp_selector(model: str) -> dict[str, str]:
    return {EPP_LABEL: model}


def model_ingress_rules(
    model: str, spec: ModelSpec, settings: StackSettings, serving_port: int, metrics_port: int
) -> list[Manifest]:
    """The model pods' extra ingress: requests from the Gateway's proxies, metrics scrapes from the model's EPP."""
    return [
        {"from": [gateway_peer(spec, settings)], "ports": [{"protocol": "TCP", "port": serving_port}]},
        {
            "from": [{"podSelector": {"matchLabels": epp_selector(model)}}],
            "ports": [{"protocol": "TCP", "port": metrics_port}],
        },
    ]
