"""Realistic synthetic fleets for the benchmarks (``make bench``, ``make bench-plan``): deterministic by seed.

A fleet is a catalog of ``n`` models in the mix a platform team serving hundreds of models has: CPU classifiers on
TensorFlow Serving and TorchServe, GPU models on Triton (L4, T4, A10G), LLMs on vLLM (H100, A100-80GB) with tensor
parallelism, custom servers (prebuilt images by digest, a few built from this repository), every scaling metric,
a share of public models behind the ingress and callers in other namespaces, downloaded and baked weights, and
T-shirt sizes of cpu and memory. The same ``(models, seed)`` always gives the same catalog, and a catalog of ``n``
models is a prefix (by index) of the one of ``n + k`` with the same seed: the sizes are comparable.

Every generated catalog is valid for the prod stack (``tests/test_fleet.py`` checks it).
"""

from __future__ import annotations

import random
from typing import Any

from platform_data.runtimes import RUNTIMES

SEED = 16

#: Name stems per archetype (a model's name is ``<stem>-<index>``; at most 40 characters).
CPU_SIZES = [("500m", "1Gi"), ("1", "2Gi"), ("1", "4Gi"), ("2", "4Gi"), ("2", "8Gi"), ("4", "8Gi"), ("4", "16Gi")]
CPU_SIZES += [("8", "16Gi"), ("8", "32Gi"), ("16", "64Gi")]
SMALL_GPU = [("nvidia-l4", 1), ("nvidia-l4", 2), ("nvidia-a10g", 1), ("nvidia-a10g", 4), ("nvidia-t4", 1)]
SMALL_GPU_SIZES = [("2", "8Gi"), ("4", "16Gi"), ("8", "32Gi"), ("16", "64Gi")]
LLM_GPU = [("nvidia-h100", 1, 2), ("nvidia-h100", 1, 4), ("nvidia-h100", 1, 8), ("nvidia-a100-80gb", 1, 2)]
LLM_GPU += [("nvidia-h100", 1, 1), ("nvidia-a100-80gb", 1, 4)]
LLM_SIZES = [("8", "100Gi"), ("16", "200Gi"), ("32", "400Gi")]

#: A custom server's prebuilt image (prod requires a digest); the digest is a fixed, made-up value.
CUSTOM_IMAGE = "registry.acme.example/ml/{stem}:1.{minor}@sha256:" + "4c" * 32
#: (weight, archetype): how often each kind of model appears in a fleet.
ARCHETYPES = [
    (22, "tf-cpu"),
    (14, "torchserve-cpu"),
    (18, "triton-gpu"),
    (6, "triton-cpu"),
    (14, "vllm-llm"),
    (6, "vllm-small"),
    (17, "custom"),
    (3, "custom-built"),
]
STEMS = {
    "tf-cpu": ["resnet", "efficientnet", "wide-deep", "ranker", "ctr"],
    "torchserve-cpu": ["sentiment", "ner", "intent", "toxicity"],
    "triton-gpu": ["detector", "segmenter", "ocr", "asr", "embedder"],
    "triton-cpu": ["xgb", "tabular"],
    "vllm-llm": ["llama", "mixtral", "qwen", "assistant"],
    "vllm-small": ["phi", "gemma", "summarizer"],
    "custom": ["churn", "fraud", "pricing", "forecast", "reco"],
    "custom-built": ["scorer"],
}
TEAMS = ["search", "ads", "media", "support", "risk", "growth", "catalog", "payments"]


def _scaling(rng: random.Random, metrics: list[tuple[str, float | None]]) -> dict[str, Any]:
    low = rng.choice((2, 2, 2, 3, 4))
    metric, target = rng.choice(metrics)
    scaling: dict[str, Any] = {"minReplicas": low, "maxReplicas": low + rng.choice((0, 1, 2, 4, 8)), "metric": metric}
    if target is not None:
        scaling["target"] = target
    return scaling


def _exposure(rng: random.Random, stem: str, index: int, team: str, public_share: float) -> dict[str, Any]:
    if rng.random() < public_share:
        exposure: dict[str, Any] = {
            "type": "public",
            "host": f"{team}.api.acme.example",
            "path": f"/v1/{stem}-{index}",
        }
        if rng.random() < 0.5:
            exposure["maxBodySize"] = rng.choice(("8Mi", "16Mi", "32Mi"))
        return exposure
    clients = [{"namespace": team, "podLabels": {"app": f"{team}-api"}}]
    if rng.random() < 0.3:
        clients.append({"namespace": f"{team}-batch"})
    return {"clients": clients}


def model(index: int, seed: int = SEED) -> tuple[str, dict[str, Any]]:
    """The ``index``-th model of a fleet: its name and catalog entry (a function of ``(index, seed)`` only)."""
    rng = random.Random(f"{seed}:{index}")
    kind = rng.choices([k for _, k in ARCHETYPES], weights=[w for w, _ in ARCHETYPES])[0]
    stem = rng.choice(STEMS[kind])
    name = f"{stem}-{index:04d}"
    team = rng.choice(TEAMS)
    entry: dict[str, Any] = {"description": f"Synthetic {kind} model {index} of the {team} team."}
    cpu, memory = rng.choice(CPU_SIZES)
    if kind == "tf-cpu":
        entry["runtime"] = "tensorflow-serving"
        entry["weights"] = {"uri": f"s3://acme-ml-models/{name}/savedmodel/", "sizeGiB": rng.choice((0.2, 0.5, 1, 2))}
        entry["resources"] = {"cpu": cpu, "memory": memory}
        entry["scaling"] = _scaling(rng, [("cpu", 65), ("cpu", None), ("memory", 80), ("requests-per-second", 50)])
        entry["exposure"] = _exposure(rng, stem, index, team, 0.35)
    elif kind == "torchserve-cpu":
        entry["runtime"] = "torchserve"
        entry["weights"] = {
            "uri": f"https://models.acme.example/{name}/model-store.tar.gz",
            "sizeGiB": rng.choice((0.3, 0.5, 1)),
        }
        entry["resources"] = {"cpu": cpu, "memory": memory}
        entry["scaling"] = _scaling(rng, [("requests-per-second", 40), ("cpu", 70), ("concurrency", 4)])
        entry["exposure"] = _exposure(rng, stem, index, team, 0.2)
    elif kind in ("triton-gpu", "triton-cpu"):
        entry["runtime"] = "triton"
        entry["weights"] = {"uri": f"s3://acme-ml-models/{name}/triton-repo/", "sizeGiB": rng.choice((0.5, 1.5, 4))}
        if kind == "triton-gpu":
            accelerator, count = rng.choice(SMALL_GPU)
            cpu, memory = rng.choice(SMALL_GPU_SIZES)
            entry["resources"] = {"cpu": cpu, "memory": memory, "gpu": {"accelerator": accelerator, "count": count}}
            metrics = [("concurrency", 8), ("gpu-utilization", 75), ("requests-per-second", 100)]
        else:
            entry["resources"] = {"cpu": cpu, "memory": memory}
            metrics = [("cpu", 70), ("requests-per-second", 200)]
        entry["scaling"] = _scaling(rng, metrics)
        entry["exposure"] = _exposure(rng, stem, index, team, 0.15)
    elif kind in ("vllm-llm", "vllm-small"):
        entry["runtime"] = "vllm"
        entry["weights"] = {
            "uri": f"hf://acme/{name}",
            "sizeGiB": rng.choice((16, 40, 72, 140)) if kind == "vllm-llm" else rng.choice((4, 8)),
            "credentialsSecret": "huggingface-token",
        }
        if kind == "vllm-llm":
            accelerator, count, parallel = rng.choice(LLM_GPU)
            cpu, memory = rng.choice(LLM_SIZES)
            gpu = {"accelerator": accelerator, "count": count, "tensorParallelism": parallel}
            entry["maxRequestSeconds"] = 300
        else:
            accelerator, count = rng.choice(SMALL_GPU[:3])
            cpu, memory = rng.choice(SMALL_GPU_SIZES)
            gpu = {"accelerator": accelerator, "count": count}
        entry["resources"] = {"cpu": cpu, "memory": memory, "gpu": gpu}
        entry["scaling"] = _scaling(rng, [("concurrency", 24), ("concurrency", 16), ("gpu-utilization", 80)])
        entry["env"] = {"VLLM_LOGGING_LEVEL": "INFO"}
        entry["exposure"] = _exposure(rng, stem, index, team, 0.25)
    else:
        entry["runtime"] = "custom"
        if kind == "custom-built":
            entry["image"] = {"build": {"context": "images/churn-predictor", "args": {"MODEL_VERSION": f"{index}"}}}
            entry["weights"] = {"baked": True}
        else:
            entry["image"] = {"ref": CUSTOM_IMAGE.format(stem=stem, minor=index % 7)}
            entry["weights"] = {"uri": f"gs://acme-ml-models/{name}/", "sizeGiB": rng.choice((0.1, 0.5))}
        entry["server"] = {"port": 8080, "readinessPath": "/readyz", "livenessPath": "/healthz"}
        entry["resources"] = {"cpu": cpu, "memory": memory}
        entry["scaling"] = _scaling(rng, [("cpu", None), ("memory", 75), ("requests-per-second", 30)])
        entry["maxRequestSeconds"] = rng.choice((10, 30, 60))
        entry["exposure"] = _exposure(rng, stem, index, team, 0.3)
        if rng.random() < 0.3:
            entry["egress"] = [{"namespace": "feature-store", "podLabels": {"app": "redis"}, "ports": [6379]}]
    if rng.random() < 0.2:
        entry["alerts"] = {"errorRatePercent": rng.choice((1, 2))}
    assert entry["runtime"] in RUNTIMES
    # Every model is disabled in dev (the dev stack has no GPUs and fits a laptop); staging keeps fewer replicas.
    entry["overrides"] = {"dev": {"enabled": False}, "staging": {"scaling": {"minReplicas": 1}}}
    return name, entry


def fleet(models: int, seed: int = SEED) -> dict[str, Any]:
    """A catalog document (``version``, ``models``) of ``models`` synthetic models."""
    return {"version": 1, "models": dict(model(index, seed) for index in range(models))}


def team_of(entry: dict[str, Any]) -> str:
    """The team a generated model belongs to (read back from its description)."""
    return entry["description"].rsplit(" of the ", 1)[1].split(" ")[0]
