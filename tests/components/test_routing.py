"""Gateway API Inference Extension routing: InferencePool, endpoint picker, HTTPRoute, InferenceObjective."""

import pytest
from pydantic import ValidationError

from components.labels import model_labels
from components.routing.inference import build_routing_objects, served_names
from components.workload import build_model_objects
from mlserve.manifest_checks import validate_custom_resource
from model_catalog.errors import ConfigurationError
from model_catalog.settings import parse_settings
from platform_data import pins
from tests.helpers import BASE_SETTINGS, engine_config, settings, spec

GATEWAY = {"name": "inference-gateway", "namespace": "gateway-system", "podLabels": {"app": "envoy"}}
INTERNAL = {"name": "internal-gateway", "namespace": "gateway-internal"}
ROUTING = {"type": "gateway-inference", "gateway": GATEWAY, "internalGateway": INTERNAL}


def llm(**extra):
    fields = {
        "runtime": "vllm",
        "weights": {"uri": "s3://bucket/llm/", "sizeGiB": 16},
        "resources": {"cpu": "4", "memory": "24Gi", "gpu": {"accelerator": "nvidia-l4"}},
        "scaling": {"minReplicas": 2, "maxReplicas": 4, "metric": "concurrency", "target": 8},
        "exposure": {"type": "public", "host": "chat.example.com", "path": "/v1"},
    }
    fields.update(extra)
    return spec(**fields)


def stack(tier="prod", routing=None, **extra):
    return settings(
        environment={"tier": tier, "namespace": "ml-prod"},
        gpuNodePool={"provider": "karpenter", "nodeRole": "role"},
        monitoring={"enabled": True},
        routing=routing or ROUTING,
        **extra,
    )


def routing_objects(model_spec=None, s=None):
    model_spec = model_spec or llm()
    return build_routing_objects("chat", model_spec, s or stack(), model_labels("chat", "vllm"))


def test_every_custom_resource_validates_against_its_upstream_crd(crds):
    objs = routing_objects(llm(priority=5))
    for obj in (objs.inference_pool, objs.http_route, objs.objective):
        assert validate_custom_resource(obj, crds) == [], obj["kind"]
    internal = routing_objects(llm(exposure={"type": "internal"}))
    assert validate_custom_resource(internal.http_route, crds) == []


def test_the_pool_selects_the_model_pods_on_the_serving_port_and_names_its_endpoint_picker():
    pool = routing_objects().inference_pool["spec"]
    assert pool["selector"] == {"matchLabels": {"ml-serving.dev/model": "chat"}}
    assert pool["targetPorts"] == [{"number": 8000}]
    assert pool["endpointPickerRef"] == {
        "group": "",
        "kind": "Service",
        "name": "chat-epp",
        "port": {"number": 9002},
        "failureMode": "FailClose",
    }


def test_the_endpoint_picker_is_pinned_least_privileged_and_restricted():
    objs = routing_objects()
    deployment = objs.deployment
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == pins.LLM_D_ROUTER_EPP and "@sha256:" in container["image"]
    assert "--pool-name=chat" in container["args"] and "--pool-namespace=ml-prod" in container["args"]
    assert "--metrics-endpoint-auth=false" in container["args"]  # no cluster-wide TokenReview RBAC
    assert {p["containerPort"] for p in container["ports"]} == {9002, 9003, 9090}
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"] == {"drop": ["ALL"]}
    assert security["readOnlyRootFilesystem"] is True and security["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["resources"]["limits"]["memory"] == container["resources"]["requests"]["memory"]
    assert container["readinessProbe"] != container["livenessProbe"]
    # Its pods never carry the model's selector label: the model's Service and pool must not select them.
    assert "ml-serving.dev/model" not in deployment["spec"]["template"]["metadata"]["labels"]
    # Only read verbs, only namespaced, only what it watches.
    role = objs.role
    assert role["kind"] == "Role"
    assert all(set(rule["verbs"]) == {"get", "list", "watch"} for rule in role["rules"])
    assert {r for rule in role["rules"] for r in rule["resources"]} == {
        "pods",
        "inferencepools",
        "inferenceobjectives",
        "inferencemodelrewrites",
    }
    assert objs.role_binding["subjects"] == [{"kind": "ServiceAccount", "name": "chat-epp", "namespace": "ml-prod"}]
    assert pod["serviceAccountName"] == "chat-epp"
    annotations = deployment["metadata"]["annotations"]
    assert any(v.startswith("CKV_K8S_38=") for v in annotations.values())


def test_prod_runs_two_endpoint_pickers_behind_a_budget_and_dev_one():
    prod = routing_objects()
    assert prod.deployment["spec"]["replicas"] == 2 and prod.pdb["spec"]["maxUnavailable"] == 1
    dev = routing_objects(s=stack(tier="dev"))
    assert dev.deployment["spec"]["replicas"] == 1 and dev.pdb is None


def test_the_endpoint_picker_network_policy_admits_the_gateway_and_prometheus_and_reaches_the_api_and_the_pool():
    policy = routing_objects().network_policy["spec"]
    assert policy["podSelector"] == {"matchLabels": {"ml-serving.dev/endpoint-picker": "chat"}}
    gateway_rule, prometheus_rule = policy["ingress"]
    assert gateway_rule["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "gateway-system"
    }
    assert gateway_rule["from"][0]["podSelector"] == {"matchLabels": {"app": "envoy"}}
    assert gateway_rule["ports"] == [{"protocol": "TCP", "port": 9002}]
    assert prometheus_rule["ports"] == [{"protocol": "TCP", "port": 9090}]
    to_pool = policy["egress"][-1]
    assert to_pool["to"] == [{"podSelector": {"matchLabels": {"ml-serving.dev/model": "chat"}}}]


def test_the_route_carries_the_public_host_and_path_and_the_request_timeout():
    route = routing_objects().http_route["spec"]
    assert route["hostnames"] == ["chat.example.com"]
    assert route["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "inference-gateway",
            "namespace": "gateway-system",
        }
    ]
    (rule,) = route["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/v1"}}]
    assert rule["backendRefs"] == [{"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "chat"}]
    assert rule["timeouts"] == {"request": "60s"}
    assert "filters" not in rule


def test_an_internal_model_is_matched_by_its_served_name_on_the_internal_gateway():
    route = routing_objects(llm(exposure={"type": "internal"})).http_route["spec"]
    assert "hostnames" not in route
    assert [(p["name"], p["namespace"]) for p in route["parentRefs"]] == [("internal-gateway", "gateway-internal")]
    (rule,) = route["rules"]
    assert [m["headers"] for m in rule["matches"]] == [
        [{"type": "Exact", "name": "X-Gateway-Model-Name", "value": "chat"}]
    ]
    assert served_names("chat", llm()) == ["chat"]


def test_a_priority_becomes_an_objective_set_on_every_request_of_the_route():
    objs = routing_objects(llm(priority=10))
    assert objs.objective["spec"] == {
        "poolRef": {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "chat"},
        "priority": 10,
    }
    (rule,) = objs.http_route["spec"]["rules"]
    assert rule["filters"][0]["requestHeaderModifier"]["set"] == [
        {"name": "x-gateway-inference-objective", "value": "chat"}
    ]
    assert routing_objects().objective is None


def test_a_routed_model_has_no_ingress_and_admits_the_gateway_and_its_endpoint_picker():
    objs = build_model_objects("chat", llm(), "repo/img@sha256:" + "a" * 64, stack())
    assert objs.ingress is None
    rules = objs.network_policy["spec"]["ingress"]
    froms = [rule["from"][0] for rule in rules]
    assert {"podSelector": {"matchLabels": {"ml-serving.dev/endpoint-picker": "chat"}}} in froms
    assert any(
        f.get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": "gateway-system"}
        for f in froms
    )
    assert not any(
        f.get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": "ingress-nginx"}
        for f in froms
    )


def test_other_runtimes_and_ingress_stacks_keep_the_ingress():
    triton = spec(
        runtime="triton",
        exposure={"type": "public", "host": "d.example.com"},
        resources={"cpu": "1", "memory": "2Gi"},
        image={"ref": "repo/t@sha256:" + "b" * 64},
    )
    objs = build_model_objects("det", triton, "repo/t@sha256:" + "b" * 64, stack(ingress={"tlsClusterIssuer": "le"}))
    assert objs.ingress is not None
    plain = build_model_objects(
        "chat",
        llm(),
        "repo/img@sha256:" + "a" * 64,
        stack(routing={"type": "ingress"}, ingress={"tlsClusterIssuer": "le"}),
    )
    assert plain.ingress is not None


@pytest.mark.parametrize(
    ("routing", "needle"),
    [
        ({"type": "gateway-inference"}, "ml-serving:routing.type: type 'gateway-inference' needs 'gateway'"),
        ({"gateway": GATEWAY}, "ml-serving:routing.gateway: 'gateway' is only for type 'gateway-inference'"),
    ],
)
def test_routing_settings_are_checked(routing, needle):
    with pytest.raises(ConfigurationError) as info:
        parse_settings(engine_config({**BASE_SETTINGS, "routing": routing}), set(), "dev", None)
    assert any(needle in str(p) for p in info.value.problems), [str(p) for p in info.value.problems]


def test_priority_is_only_for_vllm():
    from model_catalog.checks import check_model

    found = check_model(spec(priority=3))
    assert any(path == ("priority",) for path, _ in found)
    with pytest.raises(ValidationError):
        spec(priority=5000)


def test_without_an_internal_gateway_an_internal_model_is_never_routed_through_the_public_one():
    from components.routing.peers import routed_by_gateway

    s = stack(routing={"type": "gateway-inference", "gateway": GATEWAY})
    internal = llm(exposure={"type": "internal"})
    assert not routed_by_gateway(internal, s)
    objs = build_model_objects("chat", internal, "repo/img@sha256:" + "a" * 64, s)
    froms = [rule["from"][0] for rule in objs.network_policy["spec"]["ingress"]]
    assert not any("gateway-system" in str(f) for f in froms)
    assert routed_by_gateway(llm(), s)


def test_lora_adapters_are_routed_by_name_on_internal_routes():
    route = routing_objects(
        llm(exposure={"type": "internal"}, adapters={"tone": {"uri": "s3://bucket/tone/", "sizeGiB": 0.2}})
    ).http_route["spec"]
    names = [m["headers"][0]["value"] for m in route["rules"][0]["matches"]]
    assert names == ["chat", "tone"]
