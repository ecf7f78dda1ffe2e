"""Canary: a second small Deployment, counted in capacity, compared by alerts, selected with the stable pods."""

from components.canary import canary_deployment, canary_rules, canary_share
from components.gpu_capacity import plan_capacity
from components.monitoring import pod_monitor
from components.workload import build_model_objects
from mlserve.manifest_checks import validate_custom_resource
from model_catalog.checks import check_model
from tests.helpers import settings, spec

STABLE = "repo/vllm@sha256:" + "a" * 64
TRIED = "repo/vllm@sha256:" + "b" * 64
RELEASE = {"app.kubernetes.io/instance": "chat-prod", "app.kubernetes.io/version": "2026.11"}


def llm(canary=None, **extra):
    fields = {
        "runtime": "vllm",
        "weights": {"uri": "s3://bucket/llm/2026-11/", "sizeGiB": 16},
        "resources": {"cpu": "4", "memory": "24Gi", "gpu": {"accelerator": "nvidia-l4"}},
        "scaling": {"minReplicas": 2, "maxReplicas": 6, "metric": "concurrency", "target": 8},
        "rollout": {"canary": canary if canary is not None else {"image": TRIED, "args": ["--enable-prefix-caching"]}},
    }
    fields.update(extra)
    return spec(**fields)


def stack():
    return settings(
        environment={"tier": "prod", "namespace": "ml-prod"},
        gpuNodePool={"provider": "karpenter", "nodeRole": "role", "headroomPercent": 0},
        monitoring={"enabled": True},
    )


def canary(model_spec=None):
    return canary_deployment("chat", model_spec or llm(), STABLE, stack(), RELEASE, [])


def test_the_canary_is_a_small_fixed_deployment_of_the_same_pod_with_what_is_tried():
    c = canary()
    stable = build_model_objects("chat", llm(), STABLE, stack(), release=RELEASE).deployment
    assert c["metadata"]["name"] == "chat-canary" and c["spec"]["replicas"] == 1
    pod, stable_pod = c["spec"]["template"]["spec"], stable["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == TRIED and stable_pod["containers"][0]["image"] == STABLE
    assert pod["containers"][0]["args"][-1] == "--enable-prefix-caching"
    assert pod["containers"][0]["args"][:-1] == stable_pod["containers"][0]["args"]
    assert pod["nodeSelector"] == stable_pod["nodeSelector"] and pod["tolerations"] == stable_pod["tolerations"]
    labels = c["spec"]["template"]["metadata"]["labels"]
    # The model's Service (and NetworkPolicy, PodMonitor, InferencePool) select it; its own selector only its pods.
    assert labels["ml-serving.dev/model"] == "chat" and labels["ml-serving.dev/rollout"] == "canary"
    assert c["spec"]["selector"]["matchLabels"] == {"ml-serving.dev/model": "chat", "ml-serving.dev/rollout": "canary"}
    assert "ml-serving.dev/rollout" not in stable["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/version"] != RELEASE["app.kubernetes.io/version"]


def test_new_weights_are_fetched_for_the_canary_only():
    c = canary(llm({"weights": {"uri": "s3://bucket/llm/2026-12/", "sizeGiB": 16}, "version": "2026.12-rc1"}))
    fetch = c["spec"]["template"]["spec"]["initContainers"][0]
    assert "s3://bucket/llm/2026-12/" in fetch["command"]
    assert c["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"] == "2026.12-rc1"


def test_the_canary_counts_in_the_pool_limit_and_the_plan():
    with_canary = plan_capacity(stack(), {"chat": llm()})["nvidia-l4"]
    without = plan_capacity(stack(), {"chat": llm().model_copy(update={"rollout": type(llm().rollout)()})})["nvidia-l4"]
    assert [m.model for m in with_canary.models] == ["chat", "chat-canary"]
    assert with_canary.gpus_at("min") == without.gpus_at("min") + 1
    assert with_canary.gpu_limit > without.gpu_limit


def test_its_share_is_the_replica_ratio():
    assert canary_share(llm()) == (1 / 7, 1 / 3)


def test_alerts_compare_the_canary_with_the_stable_pods(crds):
    rules = canary_rules("chat", llm(), stack(), {})
    assert validate_custom_resource(rules, crds) == []
    error, latency = rules["spec"]["groups"][0]["rules"]
    assert error["alert"] == "CanaryHighErrorRate" and latency["alert"] == "CanaryHighLatency"
    assert 'rollout="canary"' in error["expr"] and 'rollout!="canary"' in error["expr"]
    assert 'rollout="canary"' in latency["expr"] and 'rollout!="canary"' in latency["expr"]
    relabel = pod_monitor("chat", llm(), stack(), {})["spec"]["podMetricsEndpoints"][0]["relabelings"]
    assert relabel[-1]["targetLabel"] == "rollout"
    plain = llm().model_copy(update={"rollout": type(llm().rollout)()})
    assert len(pod_monitor("chat", plain, stack(), {})["spec"]["podMetricsEndpoints"][0]["relabelings"]) == 1


def test_a_canary_must_try_something_and_keep_the_weights_scheme():
    assert any(path == ("rollout", "canary") for path, _ in check_model(llm({"replicas": 1})))
    other = llm({"weights": {"uri": "hf://org/model", "sizeGiB": 1}})
    assert any(path == ("rollout", "canary", "weights") for path, _ in check_model(other))
    assert check_model(llm()) == []
