"""Rules spanning fields of one model: each is an error with the field and value it is about."""

import pytest

from model_catalog.checks import candidate_paths, check_model, scaling_target
from tests.helpers import spec


def messages(**fields) -> dict[str, str]:
    return {".".join(map(str, candidate_paths(path)[0])): message for path, message in check_model(spec(**fields))}


def test_a_plain_cpu_model_passes_every_rule():
    assert messages() == {}


def test_min_replicas_above_max_quotes_both_values():
    assert messages(scaling={"minReplicas": 5, "maxReplicas": 3}) == {
        "scaling.minReplicas": "'minReplicas' (5) must be <= 'maxReplicas' (3)"
    }


@pytest.mark.parametrize("metric", ["requests-per-second", "concurrency"])
def test_request_metrics_need_an_explicit_target(metric):
    assert "scaling.target" in messages(scaling={"metric": metric, "maxReplicas": 2})


def test_percentage_targets_stay_at_or_below_100():
    assert messages(scaling={"metric": "cpu", "target": 150})["scaling.target"].startswith("got 150; a 'cpu' target")


def test_gpu_utilization_needs_a_gpu():
    assert "scaling.metric" in messages(scaling={"metric": "gpu-utilization"})


def test_scale_to_zero_only_on_a_metric_that_exists_without_pods():
    assert "scaling.minReplicas" in messages(scaling={"minReplicas": 0, "maxReplicas": 2, "metric": "cpu"})
    assert messages(scaling={"minReplicas": 0, "maxReplicas": 2, "metric": "concurrency", "target": 4}) == {}


def test_default_targets_per_metric():
    assert scaling_target(spec(scaling={"metric": "cpu"})) == 70
    assert scaling_target(spec(scaling={"metric": "memory"})) == 80
    assert scaling_target(spec(scaling={"metric": "concurrency", "target": 3})) == 3


def test_image_needs_exactly_one_source():
    assert "image" in messages(image={})
    assert "image" in messages(image={"ref": "a/b:1", "build": {"context": "x"}})


def test_custom_runtime_needs_a_server_block_and_an_image():
    found = messages(runtime="custom")
    assert found["runtime"] in (
        "runtime 'custom' has no default image; give 'image.build' or 'image.ref'",
        "runtime 'custom' needs a 'server' block (port, probes, metrics)",
    )


def test_server_block_is_only_for_custom():
    assert messages(server={"port": 9000})["server"].startswith("'server' is only for runtime 'custom'")


def test_custom_liveness_must_differ_from_readiness():
    found = messages(
        runtime="custom", image={"ref": "a/b:1"}, server={"readinessPath": "/health", "livenessPath": "/health"}
    )
    assert "server.livenessPath" in found


def test_vllm_without_gpu_needs_its_own_image():
    found = messages(runtime="vllm")
    assert found["resources.gpu"].startswith("runtime 'vllm' has no pinned CPU image")
    assert messages(runtime="vllm", image={"ref": "example.com/vllm-cpu:1"}) == {}


def test_tensor_parallelism_only_for_runtimes_that_shard():
    found = messages(
        resources={"cpu": "1", "memory": "1Gi", "gpu": {"accelerator": "nvidia-t4", "tensorParallelism": 2}}
    )
    assert "resources.gpu.tensorParallelism" in found


def test_gpus_per_pod_must_fit_the_largest_instance():
    gpu = {"accelerator": "nvidia-t4", "count": 2, "tensorParallelism": 4}
    found = messages(runtime="vllm", resources={"cpu": "1", "memory": "1Gi", "gpu": gpu})
    assert found["resources.gpu.count"] == (
        "2 x tensorParallelism 4 = 8 GPUs per pod, but the largest nvidia-t4 instance (g4dn.12xlarge) has 4; a model "
        "larger than one node splits across nodes with pipelineParallelism (one pod per node, e.g. "
        "tensorParallelism 8 x pipelineParallelism 2)"
    )


def test_weights_need_exactly_one_source():
    assert "weights" in messages(weights={})
    assert "weights" in messages(weights={"uri": "s3://b/k", "baked": True})


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("s3://bucket/prefix/", True),
        ("s3://BAD_BUCKET/x", False),
        ("hf://meta-llama/Llama-3.1-8B@main", True),
        ("hf://only-org", False),
        ("pvc://models/llama", True),
        ("pvc://Bad_Claim", False),
        ("https://example.com/m.tar.gz", True),
        ("gs://bucket/x", True),
    ],
)
def test_weight_uris_must_have_their_schemes_shape(uri, ok):
    assert ("weights.uri" not in messages(weights={"uri": uri, "sizeGiB": 1})) is ok


def test_credentials_are_only_for_downloads():
    assert "weights.credentialsSecret" in messages(weights={"uri": "pvc://claim", "credentialsSecret": "x"})
    assert "weights.credentialsSecret" in messages(weights={"baked": True, "credentialsSecret": "x"})


def test_shm_size_only_where_there_is_a_shm_volume_and_below_memory():
    assert "resources.shmSize" in messages(resources={"cpu": "1", "memory": "1Gi", "shmSize": "128Mi"})
    found = messages(runtime="triton", resources={"cpu": "1", "memory": "1Gi", "shmSize": "1Gi"})
    assert found["resources.shmSize"].startswith("'shmSize' (1Gi) must be smaller than 'memory' (1Gi)")


def test_public_exposure_needs_a_host_and_internal_has_none():
    assert "exposure.host" in messages(exposure={"type": "public"})
    assert "exposure.host" in messages(exposure={"host": "a.example.com"})


def test_credential_looking_env_vars_are_rejected():
    found = messages(env={"HF_TOKEN": "hf_abc", "LOG_LEVEL": "info"})
    assert list(found) == ["env.HF_TOKEN"]
    assert "secretEnv" in found["env.HF_TOKEN"]


def test_a_variable_in_both_env_and_secret_env_is_rejected():
    found = messages(env={"DB": "x"}, secretEnv={"DB": {"secret": "s", "key": "k"}})
    assert "env.DB" in found


def test_an_egress_rule_names_either_a_cidr_or_a_namespace():
    assert "egress.0" in messages(egress=[{"ports": [443]}])
    assert "egress.0" in messages(egress=[{"cidr": "10.0.0.0/8", "namespace": "x", "ports": [443]}])
    assert "egress.0.podLabels" in messages(egress=[{"cidr": "10.0.0.0/8", "podLabels": {"a": "b"}, "ports": [1]}])
    assert messages(egress=[{"namespace": "x", "ports": [443]}]) == {}


CUSTOM = {
    "runtime": "custom",
    "image": {"ref": "registry.example.com/app:1"},
    "weights": {"baked": True},
}


def test_a_custom_servers_metric_names_default_to_the_prometheus_client_conventions():
    declared = spec(**CUSTOM, server={}).server.metrics
    assert (declared.requests_total, declared.status_label, declared.error_status) == (
        "http_requests_total",
        "code",
        "5..",
    )
    assert (declared.latency_histogram, declared.in_flight) == (
        "http_request_duration_seconds",
        "http_requests_in_flight",
    )


def test_a_custom_servers_error_status_must_be_a_regular_expression():
    found = messages(**CUSTOM, server={"metrics": {"errorStatus": "5(0"}})
    assert found["server.metrics.errorStatus"].startswith("got '5(0', not a regular expression")


def test_alert_thresholds_default_to_five_percent_errors_and_no_explicit_latency():
    alerts = spec().alerts
    assert (alerts.error_rate_percent, alerts.latency_seconds) == (5, None)
