"""Issue 17's catalog knobs: queue and latency scaling signals, declared pvc:// claims, tier-rule exceptions."""

from __future__ import annotations

import json

import pytest

from components.monitoring import scaled_object, signals_for
from components.workload import WEIGHTS_CLAIM_ANNOTATION, build_model_objects
from mlserve.diff import Item, compare
from mlserve.render import render, validate
from model_catalog.checks import candidate_paths, check_model
from model_catalog.errors import ConfigurationError
from model_catalog.tier_rules import EXCEPTIONS_ANNOTATION, TIER_RULES, WAIVABLE
from platform_data.metrics import RUNTIME_METRICS
from tests.helpers import ROOT, metric_names, problems, settings, spec, write_catalog

LLM = {
    "runtime": "vllm",
    "weights": {"uri": "hf://org/model", "sizeGiB": 16},
    "resources": {"cpu": "8", "memory": "64Gi", "gpu": {"accelerator": "nvidia-l4"}},
}
TRITON = {
    "runtime": "triton",
    "weights": {"uri": "s3://bucket/detector/", "sizeGiB": 2},
    "resources": {"cpu": "4", "memory": "16Gi", "gpu": {"accelerator": "nvidia-l4"}},
}
TORCHSERVE = {
    "runtime": "torchserve",
    "weights": {"uri": "s3://bucket/ts/", "sizeGiB": 1},
    "resources": {"cpu": "2", "memory": "4Gi"},
}


def messages(**fields) -> dict[str, str]:
    return {".".join(map(str, candidate_paths(path)[0])): message for path, message in check_model(spec(**fields))}


def trigger(model_spec) -> dict:
    stack = settings(monitoring={"enabled": True})
    (found,) = scaled_object("m", model_spec, stack, {})["spec"]["triggers"]
    return found


# --- scaling on the right signal --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "metric", "metric_type", "reads"),
    [
        (LLM, "queue-depth", "AverageValue", {"vllm:num_requests_waiting"}),
        (TRITON, "queue-depth", "AverageValue", {"nv_inference_pending_request_count"}),
        (TRITON, "queue-time", "Value", {"nv_inference_queue_duration_us", "nv_inference_request_success"}),
        (TORCHSERVE, "queue-time", "Value", {"ts_queue_latency_microseconds", "ts_inference_requests_total"}),
        (
            LLM,
            "queue-time",
            "Value",
            {"vllm:request_queue_time_seconds_sum", "vllm:request_queue_time_seconds_count"},
        ),
        (LLM, "ttft-p90", "Value", {"vllm:time_to_first_token_seconds_bucket"}),
    ],
)
def test_queue_and_latency_metrics_scale_on_the_runtimes_own_series(base, metric, metric_type, reads):
    model_spec = spec(**base, scaling={"minReplicas": 1, "maxReplicas": 4, "metric": metric, "target": 3})
    assert messages(**base, scaling={"minReplicas": 1, "maxReplicas": 4, "metric": metric, "target": 3}) == {}
    found = trigger(model_spec)
    assert (found["type"], found["name"], found["metricType"]) == ("prometheus", metric, metric_type)
    assert found["metadata"]["threshold"] == "3"
    query = found["metadata"]["query"]
    assert metric_names(query) == reads  # parses as PromQL, reads only these series
    assert reads <= RUNTIME_METRICS[model_spec.runtime].exposes


def test_ttft_is_the_p90_of_vllms_histogram_and_an_idle_model_reads_zero_not_nan():
    model_spec = spec(**LLM, scaling={"minReplicas": 1, "maxReplicas": 4, "metric": "ttft-p90", "target": 0.5})
    query = trigger(model_spec)["metadata"]["query"]
    assert query == (
        "(histogram_quantile(0.9, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket"
        '{namespace="ml-test",ml_model="m"}[1m])))) > 0 or vector(0)'
    )


@pytest.mark.parametrize(
    ("base", "metric", "allowed"),
    [
        ({}, "queue-depth", "torchserve, triton, vllm"),
        (TRITON, "ttft-p90", "vllm"),
        (TORCHSERVE, "ttft-p90", "vllm"),
        ({}, "queue-time", "torchserve, triton, vllm"),
    ],
)
def test_a_runtime_without_the_signal_is_refused_naming_those_that_have_it(base, metric, allowed):
    found = messages(**base, scaling={"minReplicas": 1, "maxReplicas": 3, "metric": metric, "target": 2})
    assert found["scaling.metric"].endswith(
        f"exposes no '{metric}' signal; runtimes that do: {allowed} (docs/metrics-reference.md)"
    )


def test_queue_metrics_need_a_target_and_cannot_wake_a_model_from_zero():
    assert "scaling.target" in messages(**LLM, scaling={"maxReplicas": 2, "metric": "queue-depth"})
    found = messages(**LLM, scaling={"minReplicas": 0, "maxReplicas": 2, "metric": "queue-depth", "target": 2})
    assert "scale to zero" in found["scaling.minReplicas"]


def test_a_whole_model_latency_is_plotted_as_is_not_divided_by_replicas():
    from components.dashboards import model_dashboard

    model_spec = spec(**TRITON, scaling={"minReplicas": 1, "maxReplicas": 4, "metric": "queue-time", "target": 0.2})
    signal = signals_for("m", model_spec, "ml-test").scaling_signal("queue-time")
    text = json.dumps(model_dashboard("m", model_spec, settings(monitoring={"enabled": True})))
    assert json.dumps(signal)[1:-1] in text
    assert "Scaling signal (queue-time)" in text and "Scaling signal per replica" not in text


# --- existing claims: declared, not trusted -----------------------------------------------------------------------


def claim(mode=None, max_replicas=3, **weights):
    fields = {"uri": "pvc://models/llama", **({"accessMode": mode} if mode else {}), **weights}
    return {"weights": fields, "scaling": {"minReplicas": 1, "maxReplicas": max_replicas}}


def test_a_pvc_claim_must_declare_its_access_mode():
    assert messages(**claim())["weights.accessMode"].startswith("a pvc:// claim must declare its access mode")


def test_read_write_once_with_several_replicas_is_an_error_unless_pinned_to_one_node():
    message = messages(**claim("ReadWriteOnce"))["weights.accessMode"]
    assert message.startswith("a ReadWriteOnce claim attaches to one node, but up to 3 replicas (maxReplicas)")
    assert messages(**claim("ReadWriteOnce", max_replicas=1)) == {}
    assert messages(**claim("ReadWriteOnce", sameNode=True)) == {}
    assert messages(**claim("ReadOnlyMany")) == {}
    assert messages(**claim("ReadWriteMany", storageClass="efs-sc")) == {}


def test_read_write_once_pod_and_misplaced_claim_fields_are_refused():
    assert "rolling update" in messages(**claim("ReadWriteOncePod", max_replicas=1))["weights.accessMode"]
    assert (
        "only goes with a pvc:// URI"
        in messages(weights={"uri": "s3://b/m/", "accessMode": "ReadOnlyMany"})["weights.accessMode"]
    )
    assert "ReadWriteOnce claims" in messages(**claim("ReadOnlyMany", sameNode=True))["weights.sameNode"]


def test_pinned_replicas_require_the_node_of_the_first_one_and_the_claim_is_recorded():
    model_spec = spec(**claim("ReadWriteOnce", sameNode=True, storageClass="gp3"))
    deployment = build_model_objects("m", model_spec, "img", settings()).deployment
    pod = deployment["spec"]["template"]["spec"]
    (term,) = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term == {
        "topologyKey": "kubernetes.io/hostname",
        "labelSelector": {"matchLabels": {"ml-serving.dev/model": "m"}},
    }
    assert "podAntiAffinity" not in pod["affinity"]
    assert [c["topologyKey"] for c in pod["topologySpreadConstraints"]] == ["topology.kubernetes.io/zone"]
    assert json.loads(deployment["metadata"]["annotations"][WEIGHTS_CLAIM_ANNOTATION]) == {
        "accessMode": "ReadWriteOnce",
        "sameNode": True,
        "storageClass": "gp3",
    }


# --- tier rules with documented exceptions ------------------------------------------------------------------------

REASON = "235B on 8 H100: a second replica idles at $110/hour; a node loss is an accepted outage"


def test_rules_that_protect_the_cluster_or_secrets_cannot_be_waived():
    assert WAIVABLE == ("prod-min-replicas",)
    for name in ("pod-security-restricted", "plaintext-credentials"):
        assert not TIER_RULES[name].waivable
        found = messages(policyExceptions=[{"rule": name, "reason": "we really need this one"}])
        assert found["policyExceptions.0.rule"].startswith(f"rule '{name}' cannot be waived (")
        assert found["policyExceptions.0.rule"].endswith("waivable rules: prod-min-replicas")


def test_unknown_rules_short_reasons_and_duplicates_are_located_errors():
    found = problems(
        """
        models:
          m:
            runtime: tensorflow-serving
            weights: {uri: "s3://bucket/m/"}
            resources: {cpu: "1", memory: 1Gi}
            policyExceptions:
              - {rule: prod-min-replica, reason: "the whole point of this test"}
              - {rule: prod-min-replicas, reason: "short"}
        """
    )
    assert any(
        p.startswith("models.yaml:7:16:") and "got 'prod-min-replica'" in p and "did you mean 'prod-min-replicas'" in p
        for p in found
    )
    assert any(p.startswith("models.yaml:8:") and "policyExceptions[1].reason" in p for p in found), found


PROD_CATALOG = """
version: 1
models:
  big-llm:
    runtime: vllm
    image: {ref: "vllm/vllm-openai:v0.11.0@sha256:DIGEST"}
    weights: {uri: "s3://acme-ml-models/big/", sizeGiB: 40}
    resources: {cpu: "16", memory: 200Gi, gpu: {accelerator: nvidia-h100, count: 8}}
    scaling: {minReplicas: 1, maxReplicas: 2, metric: queue-depth, target: 8}
    EXCEPTIONS
""".replace("DIGEST", "a" * 64)


def prod_catalog(tmp_path, exceptions: str) -> str:
    return str(write_catalog(tmp_path / "models.yaml", PROD_CATALOG.replace("EXCEPTIONS", exceptions)))


def test_prod_min_replicas_is_refused_without_an_exception_and_accepted_with_one(tmp_path):
    with pytest.raises(ConfigurationError) as info:
        validate(ROOT, "prod", prod_catalog(tmp_path, ""))
    assert "policyExceptions: [{rule: prod-min-replicas, reason: ...}]" in info.value.render()
    env = validate(
        ROOT, "prod", prod_catalog(tmp_path, f'policyExceptions: [{{rule: prod-min-replicas, reason: "{REASON}"}}]')
    )
    deployment = build_model_objects("big-llm", env.models["big-llm"], "img", env.settings).deployment
    assert json.loads(deployment["metadata"]["annotations"][EXCEPTIONS_ANNOTATION]) == [
        {"rule": "prod-min-replicas", "reason": REASON}
    ]
    # the same model in staging waives nothing there: no annotation
    staging = validate(
        ROOT, "staging", prod_catalog(tmp_path, f'policyExceptions: [{{rule: prod-min-replicas, reason: "{REASON}"}}]')
    )
    staged = build_model_objects("big-llm", staging.models["big-llm"], "img", staging.settings).deployment
    assert EXCEPTIONS_ANNOTATION not in staged["metadata"].get("annotations", {})


def test_an_exception_that_waives_nothing_in_prod_is_an_error(tmp_path):
    catalog = PROD_CATALOG.replace(
        "EXCEPTIONS", f'policyExceptions: [{{rule: prod-min-replicas, reason: "{REASON}"}}]'
    ).replace("minReplicas: 1", "minReplicas: 2")
    path = write_catalog(tmp_path / "models.yaml", catalog)
    with pytest.raises(ConfigurationError) as info:
        validate(ROOT, "prod", str(path))
    assert "the exception waives nothing; remove it" in info.value.render()


def test_the_render_summary_lists_each_exception_with_its_reason(tmp_path):
    catalog = prod_catalog(tmp_path, f'policyExceptions: [{{rule: prod-min-replicas, reason: "{REASON}"}}]')
    summary = render(ROOT, "prod", tmp_path / "out", catalog, progress=False)
    assert f"  policy exception: model 'big-llm' waives 'prod-min-replicas': {REASON}" in summary.lines("prod")


def _deployment(annotations: dict) -> Item:
    body = {"metadata": {"name": "m", "annotations": annotations}, "spec": {"replicas": 1}}
    return Item(key="d", label="Deployment m", urn="urn:d", model="m", body=body, options={}, kind="Deployment")


def test_mlserve_diff_flags_a_new_or_changed_exception():
    value = json.dumps([{"rule": "prod-min-replicas", "reason": REASON}])
    (added,) = compare({}, {"d": _deployment({EXCEPTIONS_ANNOTATION: value})})
    assert "policy-exception" in added.flags
    (changed,) = compare({"d": _deployment({"a": "1"})}, {"d": _deployment({"a": "1", EXCEPTIONS_ANNOTATION: value})})
    assert changed.flags == ["policy-exception"]
    (removed_all,) = compare({"d": _deployment({EXCEPTIONS_ANNOTATION: value})}, {"d": _deployment({})})
    assert "policy-exception" in removed_all.flags
    (unrelated,) = compare({"d": _deployment({"a": "1"})}, {"d": _deployment({"a": "2"})})
    assert unrelated.flags == []


# --- weights that fit: filters and checksums go with their scheme ---------------------------------------------------


def test_filters_are_for_hf_and_checksums_for_https():
    assert messages(weights={"uri": "s3://b/m/", "include": ["*.json"]})["weights.include"] == (
        "'include' is for hf:// weights; this model's come from s3"
    )
    assert "is for https:// weights" in messages(weights={"uri": "hf://o/m", "sha256": "a" * 64})["weights.sha256"]
    assert messages(weights={"uri": "hf://o/m", "exclude": ["original/../x"]})["weights.exclude.0"].endswith("no '..'")
    assert messages(weights={"uri": "hf://o/m", "include": ["*.safetensors"], "exclude": []}) == {}
    assert messages(weights={"uri": "https://h/m.tar.gz", "sha256": "a" * 64}) == {}
