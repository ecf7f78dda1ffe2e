"""InferenceRouting: registers one vLLM model's InferencePool, endpoint picker, HTTPRoute (and objective)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings

from ..kube import register
from ..labels import model_labels
from .inference import build_routing_objects

TYPE = "ml-serving:routing:InferenceRouting"
#: Roles registered only once the endpoint picker's identity and permissions exist.
_AFTER_IDENTITY = {"epp-deployment"}
#: Roles that reference the pool (the route's backend, the objective's poolRef).
_AFTER_POOL = {"http-route", "inference-objective"}


@dataclass
class InferenceRoutingArgs:
    model: str
    """Catalog key; names the pool, the route and (with ``-epp``) the endpoint picker."""
    spec: ModelSpec
    """The model as effective in this stack."""
    settings: StackSettings
    """The stack's settings (namespace, routing.gateway, network, monitoring)."""
    release: dict[str, str] = field(default_factory=dict)
    """app.kubernetes.io/instance and /version of this stack's release of the model."""
    monitoring_ready: list[pulumi.Resource] = field(default_factory=list)
    """What installs the PodMonitor CRD (the monitoring stack's operator), when this stack installs it."""


class InferenceRouting(pulumi.ComponentResource):
    """Gateway API Inference Extension routing of one vLLM model."""

    def __init__(self, name: str, args: InferenceRoutingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        labels = model_labels(args.model, args.spec.runtime, args.settings.environment.labels, args.release)
        objects = build_routing_objects(args.model, args.spec, args.settings, labels, args.release)
        registered: dict[str, pulumi.Resource] = {}
        identity: list[pulumi.Resource] = []
        for role, manifest in objects.ordered():
            depends: list[pulumi.Resource] = []
            if role in _AFTER_IDENTITY:
                depends = identity
            if role in _AFTER_POOL:
                depends = [registered["inference-pool"]]
            if role == "epp-pod-monitor":
                depends = list(args.monitoring_ready)
            resource = register(f"{name}-{role}", manifest, pulumi.ResourceOptions(parent=self, depends_on=depends))
            registered[role] = resource
            if role in ("epp-service-account", "epp-role", "epp-role-binding"):
                identity.append(resource)
        self.inference_pool = registered["inference-pool"]
        self.http_route = registered["http-route"]
        self.register_outputs({"inferencePool": args.model, "endpointPicker": f"{args.model}-epp"})
