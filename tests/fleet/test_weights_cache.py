"""The shared weights cache (components/weights/cache.py): a cached model's replicas mount a ReadWriteMany claim
filled once by a Job, so a scale-up starts without a download."""

from __future__ import annotations

import pytest

from components.weights import cache
from components.workload import (
    build_model_objects,
    deployment_timeout_seconds,
    startup_budget_seconds,
    weights_cache_objects,
)
from model_catalog.checks import candidate_paths, check_model
from tests.helpers import render_objects, run_catalog, settings, spec

LLM = {
    "runtime": "vllm",
    "weights": {"uri": "hf://meta-llama/Llama-3.1-70B-Instruct", "sizeGiB": 132, "cache": True},
    "resources": {"cpu": "32", "memory": "400Gi", "gpu": {"accelerator": "nvidia-h100", "count": 4}},
    "scaling": {"minReplicas": 1, "maxReplicas": 6, "metric": "queue-depth", "target": 4},
}
CACHED = {"weightsCache": {"storageClass": "efs-sc"}}


def stack():
    return settings(**CACHED)


def test_a_cached_models_pods_download_nothing_and_mount_the_claim_read_only():
    model = spec(**LLM)
    objects = build_model_objects("llm", model, "img", stack())
    pod = objects.deployment["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    (models,) = [v for v in pod["volumes"] if v["name"] == "models"]
    assert models == {"name": "models", "persistentVolumeClaim": {"claimName": "llm-weights", "readOnly": True}}
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "models"]
    assert mount == {"name": "models", "mountPath": "/models/llm", "readOnly": True, "subPath": cache.cache_key(model)}
    assert not any(v["name"] in ("fetcher", "weights-credentials") for v in pod["volumes"])
    # no download volume in the pod's ephemeral storage, no weight egress for the serving pods
    assert pod["containers"][0]["resources"]["requests"]["ephemeral-storage"] == "2048Mi"
    assert len(objects.network_policy["spec"]["egress"]) == 1  # DNS only


def test_the_fill_job_runs_the_same_fetcher_into_the_claim_under_the_cache_key():
    model = spec(**LLM)
    labels = {"ml-serving.dev/model": "llm", "app.kubernetes.io/name": "llm"}
    claim, job, policy = weights_cache_objects("llm", model, stack(), labels)
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["storageClassName"] == "efs-sc"
    assert claim["spec"]["resources"]["requests"]["storage"] == f"{132 * 1.25 * 1024:.0f}Mi"
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    key = cache.cache_key(model)
    assert container["command"][-2:] == ["hf://meta-llama/Llama-3.1-70B-Instruct", f"/cache/{key}"]
    assert f"--max-bytes={cache.cache_bytes(model)}" in container["command"]
    assert "--exclude=original/" in container["command"]  # the runtime's default filters
    assert {"name": "cache", "mountPath": "/cache"} in container["volumeMounts"]
    assert {"name": "cache", "persistentVolumeClaim": {"claimName": "llm-weights"}} in pod["volumes"]
    # the model's Service, PDB, NetworkPolicy and PodMonitor select on ml-serving.dev/model: never the fill pod
    assert "ml-serving.dev/model" not in job["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"] == {"matchLabels": {cache.FILL_LABEL: "llm"}}
    assert policy["spec"]["ingress"] == [] and len(policy["spec"]["egress"]) == 2  # DNS and the weights
    # cold start: the Job's deadline covers the download, and `pulumi up` waits for it
    assert job["spec"]["activeDeadlineSeconds"] >= cache.download_seconds(model)
    assert int(job["metadata"]["annotations"]["pulumi.com/timeoutSeconds"]) > job["spec"]["activeDeadlineSeconds"]


def test_warm_start_budget_reads_over_the_network_but_the_rollout_has_no_download_in_it():
    cached, uncached = spec(**LLM), spec(**{**LLM, "weights": {**LLM["weights"], "cache": False}})
    assert startup_budget_seconds(cached) - startup_budget_seconds(uncached) == 2 * cache.warm_read_seconds(cached)
    assert cache.warm_read_seconds(cached) == 132 * 1024 // cache.READ_MIB_PER_SECOND + 1
    download = 132 * 20
    assert deployment_timeout_seconds(uncached) - deployment_timeout_seconds(cached) == (
        download - 2 * cache.warm_read_seconds(cached)
    )


def test_a_new_revision_or_filter_fills_a_new_directory_through_a_new_job():
    base = spec(**LLM)
    revised = spec(**{**LLM, "weights": {**LLM["weights"], "uri": "hf://meta-llama/Llama-3.1-70B-Instruct@v2"}})
    filtered = spec(**{**LLM, "weights": {**LLM["weights"], "exclude": []}})
    keys = {cache.cache_key(m) for m in (base, revised, filtered)}
    assert len(keys) == 3
    assert cache.fill_job_name("llm", base) != cache.fill_job_name("llm", revised)
    assert cache.cache_key(base) == cache.cache_key(spec(**LLM))  # deterministic


def test_cache_needs_downloaded_weights_and_a_stack_with_a_cache(tmp_path):
    findings = {
        ".".join(map(str, candidate_paths(p)[0])): m
        for p, m in check_model(spec(weights={"uri": "pvc://models/x", "accessMode": "ReadOnlyMany", "cache": True}))
    }
    assert findings["weights.cache"].startswith("only downloaded weights")
    with pytest.raises(Exception) as info:
        run_catalog(
            tmp_path,
            """
            models:
              m:
                runtime: tensorflow-serving
                weights: {uri: "s3://bucket/m/", cache: true}
                resources: {cpu: "1", memory: 1Gi}
            """,
        )
    assert "stack 'dev' has no shared weights cache; set ml-serving:weightsCache.storageClass" in str(info.value)


def test_the_program_registers_claim_job_and_policy_before_the_deployment(tmp_path):
    run = run_catalog(
        tmp_path,
        """
        models:
          m:
            runtime: tensorflow-serving
            weights: {uri: "s3://bucket/m/", sizeGiB: 2, cache: true}
            resources: {cpu: "1", memory: 1Gi}
            scaling: {minReplicas: 1, maxReplicas: 3}
        """,
        **CACHED,
    )
    objects = render_objects(run)
    key = cache.cache_key(run.environment.models["m"])
    assert ("PersistentVolumeClaim", "m-weights") in objects
    assert ("Job", f"m-weights-{key}") in objects
    assert ("NetworkPolicy", "m-weights-fill") in objects
    by_name = {r.name: r for r in run.registrations}
    job_urn = by_name["m-weights-fill"].urn
    assert job_urn in by_name["m-deployment"].dependencies
