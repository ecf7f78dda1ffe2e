"""Pure builders of a vLLM model's inference routing (Gateway API Inference Extension), as manifest dicts.

Per model routed by the Gateway (``peers.routed_by_gateway``):

- ``InferencePool <model>`` (inference.networking.k8s.io/v1): the model's pods (its selector label) on the runtime's
  serving port, and the endpoint picker that chooses among them;
- the endpoint picker ``<model>-epp``: the llm-d router's EPP (pinned image), a Deployment with its ServiceAccount,
  a namespaced Role and RoleBinding (read pods, its InferencePool, InferenceObjectives), a Service (ext_proc gRPC),
  a NetworkPolicy and, with two or more replicas, a PodDisruptionBudget; Pod Security restricted like every pod;
- ``HTTPRoute <model>`` (gateway.networking.k8s.io/v1) from the stack's Gateway to the pool: the model's public host
  and path, or for an internal model a match on the served model name (``X-Gateway-Model-Name``, set by the
  Gateway's body-based router from the request's ``model``), for the model and each of its LoRA adapters;
- with a ``priority``: ``InferenceObjective <model>`` (llm-d.ai/v1alpha2) and the route sets its header on every
  request.

Ports, flags and RBAC follow the upstream charts (docs/pins-provenance.md#18-llm-d-router-endpoint-picker-epp).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings
from platform_data import pins
from platform_data.metrics import MODEL_LABEL

from ..labels import platform_labels
from ..monitoring import rule_labels
from ..namespace import DNS_EGRESS, ip_peers, namespace_peer
from ..suppressions import checkov_annotations
from ..workload import PROMETHEUS_POD_LABELS, container_security_context, effective_runtime, pod_security_context
from .peers import EPP_LABEL, epp_selector, gateway_peer, model_gateway

Manifest = dict[str, Any]

INFERENCE_GROUP = "inference.networking.k8s.io"
GATEWAY_GROUP = "gateway.networking.k8s.io"
#: The EPP's ext_proc gRPC port (the Gateway calls it per request), gRPC health port and Prometheus port: the
#: upstream defaults (llm-d-router pkg/epp/server/options.go).
EXT_PROC_PORT = 9002
HEALTH_PORT = 9003
METRICS_PORT = 9090
#: Header the Gateway's body-based router sets from the request body's `model` (Gateway API Inference Extension).
MODEL_NAME_HEADER = "X-Gateway-Model-Name"
#: Header naming the InferenceObjective of a request (the EPP's flow control reads its priority).
OBJECTIVE_HEADER = "x-gateway-inference-objective"
#: Requests and limits of one EPP replica (Guaranteed QoS, like the models). Upstream's chart asks for 8 CPU for
#: large pools with prefix-cache scoring; one model's pool of a few replicas needs far less.
EPP_RESOURCES = {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "256Mi"}
#: Upstream: "conservatively mirror the longest grace period of the pods within the pool"; the EPP drains for 30 s.
EPP_GRACE_SECONDS = 60
EPP_PRESTOP_SECONDS = 5


def epp_name(model: str) -> str:
    return f"{model}-epp"


def _meta(name: str, namespace: str, labels: dict[str, str], annotations: dict[str, str] | None = None) -> Manifest:
    meta: Manifest = {"name": name, "namespace": namespace, "labels": dict(labels)}
    if annotations:
        meta["annotations"] = annotations
    return meta


def epp_replicas(settings: StackSettings) -> int:
    if settings.routing.endpoint_picker_replicas is not None:
        return settings.routing.endpoint_picker_replicas
    return 2 if settings.environment.tier == "prod" else 1


def epp_labels(model: str, settings: StackSettings, release: dict[str, str] | None = None) -> dict[str, str]:
    """Labels of the EPP's objects and pods: the platform's, its name, and the EPP selector label."""
    return {
        **platform_labels("endpoint-picker", settings.environment.labels),
        **(release or {}),
        "app.kubernetes.io/name": epp_name(model),
        **epp_selector(model),
    }


def served_names(model: str, spec: ModelSpec) -> list[str]:
    """The names vLLM serves: the model itself (its --served-model-name) and its LoRA adapters."""
    return [model, *sorted(spec.adapters)]


@dataclass(frozen=True)
class RoutingObjects:
    inference_pool: Manifest
    service_account: Manifest
    role: Manifest
    role_binding: Manifest
    deployment: Manifest
    service: Manifest
    network_policy: Manifest
    pdb: Manifest | None
    http_route: Manifest
    objective: Manifest | None
    pod_monitor: Manifest | None

    def ordered(self) -> list[tuple[str, Manifest]]:
        """(role, manifest) in registration order, absent ones left out."""
        pairs = [
            ("inference-pool", self.inference_pool),
            ("epp-service-account", self.service_account),
            ("epp-role", self.role),
            ("epp-role-binding", self.role_binding),
            ("epp-deployment", self.deployment),
            ("epp-service", self.service),
            ("epp-network-policy", self.network_policy),
            ("epp-pdb", self.pdb),
            ("http-route", self.http_route),
            ("inference-objective", self.objective),
            ("epp-pod-monitor", self.pod_monitor),
        ]
        return [(role, m) for role, m in pairs if m is not None]


def inference_pool(model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str]) -> Manifest:
    view = effective_runtime(spec)
    serving = view.ports[0].number
    return {
        "apiVersion": f"{INFERENCE_GROUP}/v1",
        "kind": "InferencePool",
        "metadata": _meta(model, settings.environment.namespace, labels),
        "spec": {
            # The model's selector label: every replica of the model (a canary's and a spot Deployment's too).
            "selector": {"matchLabels": {"ml-serving.dev/model": model}},
            "targetPorts": [{"number": serving}],
            "appProtocol": "http",
            "endpointPickerRef": {
                "group": "",
                "kind": "Service",
                "name": epp_name(model),
                "port": {"number": EXT_PROC_PORT},
                "failureMode": settings.routing.failure_mode,
            },
        },
    }


def epp_args(model: str, settings: StackSettings) -> list[str]:
    return [
        f"--pool-name={model}",
        f"--pool-namespace={settings.environment.namespace}",
        f"--pool-group={INFERENCE_GROUP}",
        f"--grpc-port={EXT_PROC_PORT}",
        f"--grpc-health-port={HEALTH_PORT}",
        f"--metrics-port={METRICS_PORT}",
        "--zap-encoder=json",
        # Least privilege: no TokenReview/SubjectAccessReview (cluster-wide RBAC) for the metrics endpoint; the
        # NetworkPolicy lets only Prometheus reach it.
        "--metrics-endpoint-auth=false",
        "--enable-pprof=false",
        "--tracing=false",
    ]


def epp_deployment(model: str, settings: StackSettings, labels: dict[str, str]) -> Manifest:
    selector = epp_selector(model)
    container: Manifest = {
        "name": "epp",
        "image": pins.LLM_D_ROUTER_EPP,
        "imagePullPolicy": "IfNotPresent",
        "args": epp_args(model, settings),
        "env": [{"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
        "ports": [
            {"name": "grpc", "containerPort": EXT_PROC_PORT, "protocol": "TCP"},
            {"name": "grpc-health", "containerPort": HEALTH_PORT, "protocol": "TCP"},
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
        ],
        "resources": {"requests": dict(EPP_RESOURCES), "limits": dict(EPP_RESOURCES)},
        # Ready once the pool's pods are synced (gRPC health); alive while the process answers at all.
        "startupProbe": {
            "grpc": {"port": HEALTH_PORT, "service": "inference-extension"},
            "periodSeconds": 5,
            "failureThreshold": 60,
            "timeoutSeconds": 5,
        },
        "readinessProbe": {
            "grpc": {"port": HEALTH_PORT, "service": "inference-extension"},
            "periodSeconds": 2,
            "failureThreshold": 3,
            "timeoutSeconds": 2,
        },
        "livenessProbe": {"tcpSocket": {"port": HEALTH_PORT}, "periodSeconds": 10, "failureThreshold": 3},
        "lifecycle": {"preStop": {"sleep": {"seconds": EPP_PRESTOP_SECONDS}}},
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    pod: Manifest = {
        "serviceAccountName": epp_name(model),
        # The EPP watches its InferencePool and the pool's pods through the API server: it needs its token
        # (suppression epp-api-token; its Role reads only those, in this namespace).
        "automountServiceAccountToken": True,
        "enableServiceLinks": False,
        "securityContext": pod_security_context(),
        "terminationGracePeriodSeconds": EPP_GRACE_SECONDS,
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": dict(selector)},
                "matchLabelKeys": ["pod-template-hash"],
            }
            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(
            epp_name(model), settings.environment.namespace, labels, checkov_annotations(["epp-api-token"])
        ),
        "spec": {
            "replicas": epp_replicas(settings),
            "selector": {"matchLabels": dict(selector)},
            # Active-active replicas (no leader election): a rolling update keeps one answering the Gateway.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "revisionHistoryLimit": 5,
            "template": {
                "metadata": {"labels": dict(labels), "annotations": {"kubectl.kubernetes.io/default-container": "epp"}},
                "spec": pod,
            },
        },
    }


def epp_role(model: str, settings: StackSettings, labels: dict[str, str]) -> Manifest:
    read = ["get", "list", "watch"]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _meta(epp_name(model), settings.environment.namespace, labels),
        "rules": [
            # The pool's endpoints (upstream inference-extension chart).
            {"apiGroups": [""], "resources": ["pods"], "verbs": read},
            {"apiGroups": [INFERENCE_GROUP], "resources": ["inferencepools"], "verbs": read},
            # Objectives and model rewrites (llm-d-router chart; both API groups, as upstream grants them).
            {"apiGroups": ["llm-d.ai"], "resources": ["inferenceobjectives", "inferencemodelrewrites"], "verbs": read},
            {
                "apiGroups": ["inference.networking.x-k8s.io"],
                "resources": ["inferenceobjectives", "inferencemodelrewrites"],
                "verbs": read,
            },
        ],
    }


def build_routing_objects(
    model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str], release: dict[str, str] | None = None
) -> RoutingObjects:
    """Every routing object of one vLLM model. ``labels``: the model's labels (pool, route, objective)."""
    namespace = settings.environment.namespace
    epp = epp_labels(model, settings, release)
    name = epp_name(model)
    view = effective_runtime(spec)
    metrics_port = next(p.number for p in view.ports if p.name == view.metrics_port)

    ingress = [
        {"from": [gateway_peer(spec, settings)], "ports": [{"protocol": "TCP", "port": EXT_PROC_PORT}]},
    ]
    if settings.monitoring.enabled:
        # Prometheus' pods only (as for the models).
        prometheus = namespace_peer(settings.monitoring.namespace, PROMETHEUS_POD_LABELS)
        ingress.append({"from": [prometheus], "ports": [{"protocol": "TCP", "port": METRICS_PORT}]})
    egress = [
        dict(DNS_EGRESS),
        # The API server: watches of its pool, the pool's pods and objectives.
        {
            "to": ip_peers(list(settings.network.api_server_cidrs)),
            "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}],
        },
        # The model's replicas: their metrics (queue, KV cache, loaded LoRA adapters), scraped every 50 ms.
        {
            "to": [{"podSelector": {"matchLabels": {"ml-serving.dev/model": model}}}],
            "ports": [{"protocol": "TCP", "port": metrics_port}],
        },
    ]
    network_policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(name, namespace, epp),
        "spec": {
            "podSelector": {"matchLabels": epp_selector(model)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }
    replicas = epp_replicas(settings)
    pdb = None
    if replicas >= 2:
        pdb = {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta(name, namespace, epp),
            "spec": {
                "maxUnavailable": 1,
                "selector": {"matchLabels": epp_selector(model)},
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
            },
        }
    return RoutingObjects(
        inference_pool=inference_pool(model, spec, settings, labels),
        service_account={
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(name, namespace, epp),
            "automountServiceAccountToken": False,
        },
        role=epp_role(model, settings, epp),
        role_binding={
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta(name, namespace, epp),
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        },
        deployment=epp_deployment(model, settings, epp),
        service={
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(name, namespace, epp),
            "spec": {
                "type": "ClusterIP",
                "selector": epp_selector(model),
                "ports": [
                    {
                        "name": "grpc-ext-proc",
                        "port": EXT_PROC_PORT,
                        "targetPort": "grpc",
                        "protocol": "TCP",
                        "appProtocol": "http2",
                    }
                ],
            },
        },
        network_policy=network_policy,
        pdb=pdb,
        http_route=http_route(model, spec, settings, labels),
        objective=inference_objective(model, spec, settings, labels),
        pod_monitor=epp_pod_monitor(model, settings, epp) if settings.monitoring.enabled else None,
    )


def epp_pod_monitor(model: str, settings: StackSettings, labels: dict[str, str]) -> Manifest:
    """Scrape the endpoint picker (per served name request counts, pool queue and KV cache as it sees them), its
    series labelled with the model like the model's own."""
    namespace = settings.environment.namespace
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": _meta(epp_name(model), namespace, rule_labels(settings, labels)),
        "spec": {
            "selector": {"matchLabels": epp_selector(model)},
            "namespaceSelector": {"matchNames": [namespace]},
            "podMetricsEndpoints": [
                {
                    "port": "metrics",
                    "path": "/metrics",
                    "interval": settings.monitoring.scrape_interval,
                    "relabelings": [{"action": "replace", "targetLabel": MODEL_LABEL, "replacement": model}],
                }
            ],
        },
    }


def http_route(model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str]) -> Manifest:
    gateway = model_gateway(spec, settings)
    assert gateway is not None
    parent: Manifest = {"group": GATEWAY_GROUP, "kind": "Gateway", "name": gateway.name, "namespace": gateway.namespace}
    if gateway.section_name is not None:
        parent["sectionName"] = gateway.section_name
    path = {"type": "PathPrefix", "value": spec.exposure.path}
    exposure = spec.exposure
    if exposure.type == "public":
        # The host and path name the model; the pool serves the model and its adapters alike.
        matches: list[Manifest] = [{"path": path}]
    else:
        # No host of its own: the served name in the request body (the base model or one of its adapters).
        matches = [
            {"path": path, "headers": [{"type": "Exact", "name": MODEL_NAME_HEADER, "value": served}]}
            for served in served_names(model, spec)
        ]
    rule: Manifest = {
        "matches": matches,
        "backendRefs": [{"group": INFERENCE_GROUP, "kind": "InferencePool", "name": model}],
        # A generation may take maxRequestSeconds; the Gateway's default could cut it.
        "timeouts": {"request": f"{spec.max_request_seconds}s"},
    }
    if spec.priority is not None:
        rule["filters"] = [
            {
                "type": "RequestHeaderModifier",
                "requestHeaderModifier": {"set": [{"name": OBJECTIVE_HEADER, "value": model}]},
            }
        ]
    route_spec: Manifest = {"parentRefs": [parent], "rules": [rule]}
    if exposure.type == "public":
        assert exposure.host is not None
        route_spec["hostnames"] = [exposure.host]
    return {
        "apiVersion": f"{GATEWAY_GROUP}/v1",
        "kind": "HTTPRoute",
        "metadata": _meta(model, settings.environment.namespace, labels),
        "spec": route_spec,
    }


def inference_objective(
    model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str]
) -> Manifest | None:
    if spec.priority is None:
        return None
    return {
        "apiVersion": "llm-d.ai/v1alpha2",
        "kind": "InferenceObjective",
        "metadata": _meta(model, settings.environment.namespace, labels),
        "spec": {
            "poolRef": {"group": INFERENCE_GROUP, "kind": "InferencePool", "name": model},
            "priority": spec.priority,
        },
    }


__all__ = ["EPP_LABEL", "RoutingObjects", "build_routing_objects", "epp_name", "served_names"]
