"""Pure builders for a model's Kubernetes objects: catalog entry + stack settings -> manifest dicts.

No Pulumi here, so every rule of ../shared/MANIFEST-RULES.md can be tested on plain dicts; ModelService registers
the results. Values that only exist at deploy time (a built image's reference) pass through untouched.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_catalog.checks import scaling_target
from model_catalog.quantities import byte_count, format_mebibytes
from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings
from model_catalog.tier_rules import exceptions_annotation
from platform_data.accelerators import GPU_RESOURCE, GPU_TAINT_EFFECT, GPU_TAINT_KEY
from platform_data.downloaders import CREDENTIALS_DIR, DOWNLOADERS, FETCHER_DIR, FETCHER_FILE
from platform_data.runtimes import CACHE_DIR, CONFIG_DIR, MODEL_ROOT, RUNTIMES, Port, Probe, RuntimePreset

from . import capacity_placement, lora
from .labels import model_labels, selector_labels
from .multinode import lws
from .namespace import DNS_EGRESS, ip_peers
from .routing.peers import model_ingress_rules, routed_by_gateway
from .suppressions import checkov_annotations
from .weights import cache
from .weights.fetch import fetch_options

#: Non-root identity every model container runs as (>= 10000 so it maps to no host user).
RUN_AS_USER = 10001
RUN_AS_GROUP = 10001
#: Seconds the container keeps serving after removal from the Service, while endpoints propagate.
PRESTOP_SLEEP_SECONDS = 10
STARTUP_PERIOD_SECONDS = 10
#: Headroom on the download volume over the declared weights size.
WEIGHTS_VOLUME_HEADROOM = 1.25
#: Requests and limits of the weight-downloading init container (equal: Guaranteed QoS for the whole pod).
FETCH_RESOURCES = {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "1Gi"}
#: Node provisioning plus pulling a multi-GB serving image, before any probe runs (GPU pods).
GPU_NODE_AND_PULL_SECONDS = 900

FETCHER_SOURCE = Path(__file__).with_name("scripts") / FETCHER_FILE
#: The existing claim a pvc:// model mounts, as the catalog declares it (access mode, storage class, pinning).
WEIGHTS_CLAIM_ANNOTATION = "ml-serving.dev/weights-claim"
#: Labels the Prometheus operator puts on every Prometheus pod: what may scrape a model.
PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}

Manifest = dict[str, Any]


@dataclass(frozen=True)
class GpuPlacement:
    """Where a GPU model's pods may run: the pool's node labels and the taints to tolerate."""

    node_selector: dict[str, str]
    tolerations: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class ModelObjects:
    service_account: Manifest
    config_map: Manifest | None
    deployment: Manifest
    service: Manifest
    network_policy: Manifest
    hpa: Manifest | None
    pdb: Manifest | None
    ingress: Manifest | None
    spot: capacity_placement.FloorSplit | None = None
    """A spot-fallback model's spot Deployment and per-track disruption budgets (components/capacity_placement.py)."""


def gpu_placement(settings: StackSettings, accelerator: str) -> GpuPlacement:
    """Node selector and tolerations for ``accelerator`` in this stack, from the same data the pools use."""
    tolerations: list[dict[str, str]] = [{"key": GPU_TAINT_KEY, "operator": "Exists", "effect": GPU_TAINT_EFFECT}]
    if settings.gpu_node_pool.provider == "existing":
        for taint in settings.gpu_node_pool.existing[accelerator].taints:
            key_value, _, effect = taint.partition(":")
            key = key_value.split("=", 1)[0]
            toleration = {"key": key, "operator": "Exists", "effect": effect}
            if toleration not in tolerations:
                tolerations.append(toleration)
    return GpuPlacement(node_selector=settings.node_labels(accelerator), tolerations=tuple(tolerations))


# --- derived numbers ------------------------------------------------------------------------------------------------


def gpus_per_pod(spec: ModelSpec) -> int:
    gpu = spec.resources.gpu
    return 0 if gpu is None else gpu.count * gpu.tensor_parallelism


def startup_budget_seconds(spec: ModelSpec) -> int:
    """Worst-case seconds from server start to ready: the catalog's, else base + per-GiB load time (plus reading
    a cached model's weights over the network), doubled."""
    if spec.weights.load_timeout_seconds is not None:
        return spec.weights.load_timeout_seconds
    preset = RUNTIMES[spec.runtime]
    size = spec.weights.size_gib or 0
    warm_read = cache.warm_read_seconds(spec) if cache.is_cached(spec) else 0
    return 2 * (preset.load_seconds_base + math.ceil(preset.load_seconds_per_gib * size) + warm_read)


def weights_volume_bytes(spec: ModelSpec) -> int:
    """Size of the pod's download volume (0 when weights are baked in, mounted from a PVC, or cached)."""
    if spec.weights.uri is None or spec.weights.uri.startswith("pvc://") or cache.is_cached(spec):
        return 0
    return math.ceil((spec.weights.size_gib or 1) * WEIGHTS_VOLUME_HEADROOM * 2**30)


def shm_bytes(spec: ModelSpec) -> int:
    """Size of the memory-backed /dev/shm (0 when the runtime gets none); it counts against the memory limit."""
    if not effective_runtime(spec).needs_shm:
        return 0
    if spec.resources.shm_size is not None:
        return byte_count(spec.resources.shm_size)
    return byte_count(spec.resources.memory) // 4


def drain_seconds(spec: ModelSpec) -> int:
    """terminationGracePeriodSeconds: preStop sleep, then the longest request, plus a margin to exit."""
    return PRESTOP_SLEEP_SECONDS + spec.max_request_seconds + 5


#: Deployment fields an autoscaler owns once it exists: the program states them at creation only.
AUTOSCALED_FIELDS = ["spec.replicas"]


def has_autoscaler(spec: ModelSpec) -> bool:
    return spec.scaling.min_replicas != spec.scaling.max_replicas


# --- runtime view ---------------------------------------------------------------------------------------------------


def effective_runtime(spec: ModelSpec) -> RuntimePreset:
    """The model's runtime preset; for `custom`, with the catalog's `server` block (port, probes, metrics, command,
    /dev/shm) in place of the preset's defaults."""
    preset = RUNTIMES[spec.runtime]
    if spec.runtime != "custom" or spec.server is None:
        return preset
    s = spec.server
    ports = [Port("http", s.port)]
    metrics_port = "http"
    if s.metrics_port is not None and s.metrics_port != s.port:
        ports.append(Port("metrics", s.metrics_port))
        metrics_port = "metrics"
    return dataclasses.replace(
        preset,
        ports=tuple(ports),
        metrics_port=metrics_port,
        metrics_path=s.metrics_path,
        startup=Probe("http", s.startup_path or s.readiness_path),
        readiness=Probe("http", s.readiness_path),
        liveness=Probe("http", s.liveness_path),
        command=tuple(s.command),
        args=tuple(s.args),
        needs_shm=s.needs_shm,
    )


def model_dir(model: str) -> str:
    return f"{MODEL_ROOT}/{model}"


def _fill(template: str, model: str, spec: ModelSpec) -> str:
    gpu = spec.resources.gpu
    return (
        template.replace("{model_dir}", model_dir(model))
        .replace("{model}", model)
        .replace("{tensor_parallelism}", str(gpu.tensor_parallelism if gpu else 1))
        .replace("{pipeline_parallelism}", str(gpu.pipeline_parallelism if gpu else 1))
        .replace("{config_dir}", CONFIG_DIR)
    )


# --- pieces of the pod ------------------------------------------------------------------------------------------


def container_security_context() -> Manifest:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "runAsGroup": RUN_AS_GROUP,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security_context() -> Manifest:
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "runAsGroup": RUN_AS_GROUP,
        "fsGroup": RUN_AS_GROUP,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _probe(probe: Probe, model: str, spec: ModelSpec, **timing: int) -> Manifest:
    action: Manifest
    if probe.path is None:
        action = {"tcpSocket": {"port": probe.port}}
    else:
        action = {"httpGet": {"path": _fill(probe.path, model, spec), "port": probe.port}}
    return {**action, "timeoutSeconds": 5, **timing}


def config_files(model: str, spec: ModelSpec) -> dict[str, str]:
    """The model's ConfigMap data: runtime config files, and the weight fetcher when its scheme uses it."""
    data = {name: _fill(content, model, spec) for name, content in RUNTIMES[spec.runtime].config_files}
    downloader = _downloader(spec)
    if (downloader is not None and downloader.uses_fetcher) or lora.needs_fetcher(spec):
        data[FETCHER_FILE] = _fetcher_source()
    return data


@functools.cache
def _fetcher_source() -> str:
    """The fetcher script shipped in ConfigMaps (read once per process; every hf:// or https:// model needs it)."""
    return FETCHER_SOURCE.read_text(encoding="utf-8")


def _downloader(spec: ModelSpec):
    uri = spec.weights.uri
    if uri is None or uri.startswith("pvc://"):
        return None
    return DOWNLOADERS[uri.split("://", 1)[0]]


def _volumes_and_mounts(
    model: str, spec: ModelSpec, download: bool = True
) -> tuple[list[Manifest], list[Manifest], list[Manifest]]:
    """Pod volumes, the server's mounts and the fetcher's mounts. ``download``: the pod fetches the weights itself
    (False for a cached model: its server mounts the cache, the fill Job fetches)."""
    volumes: list[Manifest] = [
        {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "cache", "emptyDir": {"sizeLimit": spec.resources.ephemeral_storage}},
    ]
    server: list[Manifest] = [
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "cache", "mountPath": CACHE_DIR},
    ]
    fetch: list[Manifest] = [{"name": "tmp", "mountPath": "/tmp"}]
    for i, path in enumerate(RUNTIMES[spec.runtime].writable_dirs):
        volumes.append({"name": f"writable-{i}", "emptyDir": {"sizeLimit": "1Gi"}})
        server.append({"name": f"writable-{i}", "mountPath": path})
    uri = spec.weights.uri
    if uri is not None and uri.startswith("pvc://"):
        claim, _, sub_path = uri.removeprefix("pvc://").partition("/")
        volumes.append({"name": "models", "persistentVolumeClaim": {"claimName": claim, "readOnly": True}})
        mount: Manifest = {"name": "models", "mountPath": model_dir(model), "readOnly": True}
        if sub_path.strip("/"):
            mount["subPath"] = sub_path.strip("/")
        server.append(mount)
    elif uri is not None and not download:
        volume, mount = cache.cache_volume(model, spec)
        volumes.append(volume)
        server.append(mount)
    elif uri is not None:
        size = weights_volume_bytes(spec) or cache.cache_bytes(spec)  # the fill Job's view sizes its own limit
        volumes.append({"name": "models", "emptyDir": {"sizeLimit": format_mebibytes(size)}})
        server.append({"name": "models", "mountPath": MODEL_ROOT, "readOnly": True})
        fetch.append({"name": "models", "mountPath": MODEL_ROOT})
        if spec.weights.credentials_secret:
            # Files, not environment variables: env leaks into crash dumps, `kubectl describe` and child processes.
            secret = {"secretName": spec.weights.credentials_secret, "defaultMode": 0o440}
            volumes.append({"name": "weights-credentials", "secret": secret})
            fetch.append({"name": "weights-credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True})
    adapters = lora.volume(spec)
    if adapters is not None:
        volumes.append(adapters[0])
        server.append(adapters[1])
    shm = shm_bytes(spec)
    if shm:
        volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": format_mebibytes(shm)}})
        server.append({"name": "dshm", "mountPath": "/dev/shm"})
    data = config_files(model, spec)
    runtime_files = sorted(name for name in data if name != FETCHER_FILE)
    # One ConfigMap, two views of it: the server sees its config files, the init container only the fetcher.
    for volume, files, mounts, path in (
        ("config", runtime_files, server, CONFIG_DIR),
        ("fetcher", [FETCHER_FILE] if FETCHER_FILE in data and download else [], fetch, FETCHER_DIR),
    ):
        if files:
            items = [{"key": name, "path": name} for name in files]
            volumes.append(
                {"name": volume, "configMap": {"name": f"{model}-config", "defaultMode": 0o444, "items": items}}
            )
            mounts.append({"name": volume, "mountPath": path, "readOnly": True})
    return volumes, server, fetch


def _env(model: str, spec: ModelSpec) -> list[Manifest]:
    env: dict[str, Manifest] = {}
    for name, value in RUNTIMES[spec.runtime].env:
        env[name] = {"name": name, "value": value}
    env["MODEL_NAME"] = {"name": "MODEL_NAME", "value": model}
    env["MODEL_DIR"] = {"name": "MODEL_DIR", "value": model_dir(model)}
    for name, value in spec.env.items():
        env[name] = {"name": name, "value": value}
    for name, ref in spec.secret_env.items():
        env[name] = {"name": name, "valueFrom": {"secretKeyRef": {"name": ref.secret, "key": ref.key}}}
    return [env[name] for name in sorted(env)]


def _fetch_container(model: str, spec: ModelSpec) -> Manifest | None:
    downloader = _downloader(spec)
    if downloader is None:
        return None
    assert spec.weights.uri is not None
    command: list[str] = []
    for part in downloader.command:
        if part == "{uri}":  # the fetcher's options (filters, checksum, limit) go before the URI
            command += fetch_options(spec, weights_volume_bytes(spec))
        command.append(part.replace("{uri}", spec.weights.uri).replace("{dest}", model_dir(model)))
    container: Manifest = {
        "name": "fetch-weights",
        "image": downloader.image,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        # The fetcher's last lines (why it failed: size, checksum, HTTP status) become the container's termination
        # message, shown by `kubectl describe pod` and kube-state-metrics.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "env": [{"name": k, "value": v} for k, v in downloader.env],
        "resources": {"requests": dict(FETCH_RESOURCES), "limits": dict(FETCH_RESOURCES)},
        "securityContext": container_security_context(),
    }
    if spec.weights.credentials_secret:
        container["env"] += [
            {"name": variable, "value": f"{CREDENTIALS_DIR}/{key}"} for variable, key in downloader.credential_files
        ]
    return container


def _resources(spec: ModelSpec) -> Manifest:
    res = spec.resources
    ephemeral = byte_count(res.ephemeral_storage) + weights_volume_bytes(spec) + lora.adapters_volume_bytes(spec)
    # Guaranteed QoS: limits equal requests for cpu and memory. Inference latency suffers from CPU throttling only
    # when requests are undersized; equal limits make the pod's cost predictable, keep it last in line for
    # eviction, and let a static CPU manager pin whole cores. /dev/shm is counted inside the memory figure.
    requests = {
        "cpu": res.cpu,
        "memory": res.memory,
        "ephemeral-storage": format_mebibytes(ephemeral),
    }
    limits = dict(requests)
    if res.gpu is not None:
        limits[GPU_RESOURCE] = str(gpus_per_pod(spec))
    return {"requests": requests, "limits": limits}


def _server_container(model: str, spec: ModelSpec, image: Any, view: RuntimePreset, mounts: list[Manifest]) -> Manifest:
    startup_failures = math.ceil(startup_budget_seconds(spec) / STARTUP_PERIOD_SECONDS)
    container: Manifest = {
        "name": "server",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": p.name, "containerPort": p.number, "protocol": "TCP"} for p in view.ports],
        "env": _env(model, spec),
        "resources": _resources(spec),
        "startupProbe": _probe(
            view.startup, model, spec, periodSeconds=STARTUP_PERIOD_SECONDS, failureThreshold=startup_failures
        ),
        "readinessProbe": _probe(view.readiness, model, spec, periodSeconds=5, failureThreshold=3, successThreshold=1),
        "livenessProbe": _probe(view.liveness, model, spec, periodSeconds=15, failureThreshold=4),
        "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_SLEEP_SECONDS}}},
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
    }
    if view.command:
        container["command"] = [_fill(part, model, spec) for part in view.command]
    if view.args:
        container["args"] = [_fill(part, model, spec) for part in view.args] + lora.server_args(spec)
    return container


def _spread(model: str) -> list[Manifest]:
    selector = {"matchLabels": selector_labels(model)}
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": selector,
            "matchLabelKeys": ["pod-template-hash"],
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def _fetch_with_mounts(model: str, spec: ModelSpec, settings: StackSettings) -> Manifest | None:
    """The fetch container with its mounts and the stack's egress proxy (for the pod, or the cache's fill Job)."""
    fetch = _fetch_container(model, spec)
    if fetch is None:
        return None
    fetch["volumeMounts"] = _volumes_and_mounts(model, spec)[2]
    proxy = settings.network.weights_proxy
    if proxy is not None:
        # Only the download goes through the egress proxy; the server gets no proxy settings.
        fetch["env"] = sorted(
            [*fetch["env"], {"name": "HTTPS_PROXY", "value": proxy}, {"name": "https_proxy", "value": proxy}],
            key=lambda e: e["name"],
        )
    return fetch


def weights_cache_objects(
    model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str]
) -> list[Manifest]:
    """A cached model's claim, fill Job and the Job's NetworkPolicy (components/weights/cache.py); [] otherwise."""
    if not cache.is_cached(spec):
        return []
    fetch = _fetch_with_mounts(model, spec, settings)
    assert fetch is not None
    mounted = {m["name"] for m in fetch["volumeMounts"]}
    volumes = [v for v in _volumes_and_mounts(model, spec)[0] if v["name"] in mounted]
    return [
        cache.cache_claim(model, spec, settings, labels),
        cache.fill_job(model, spec, settings, labels, fetch, volumes, pod_security_context()),
        cache.fill_network_policy(model, settings, labels, [dict(DNS_EGRESS), weights_egress(settings)]),
    ]


def weights_egress(settings: StackSettings) -> Manifest:
    """Egress to where weights come from (the stack's weight CIDRs, on the proxy's port or 443)."""
    proxy = settings.network.weights_proxy
    port = int(proxy.rsplit(":", 1)[1]) if proxy is not None else 443
    return {"to": ip_peers(settings.network.weights_egress_cidrs), "ports": [{"protocol": "TCP", "port": port}]}


def same_node_affinity(model: str) -> Manifest:
    return {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": selector_labels(model)}}
            ]
        }
    }


def workload_annotations(spec: ModelSpec, settings: StackSettings) -> dict[str, str]:
    """Annotations every workload of the model carries: tier-rule exceptions in effect, the declared claim."""
    annotations = exceptions_annotation(spec, settings.environment.tier)
    weights = spec.weights
    if weights.access_mode is not None:
        claim = {
            "accessMode": weights.access_mode,
            "storageClass": weights.storage_class,
            "sameNode": weights.same_node,
        }
        annotations[WEIGHTS_CLAIM_ANNOTATION] = json.dumps(claim, sort_keys=True, separators=(",", ":"))
    return annotations


def pod_template(
    model: str,
    spec: ModelSpec,
    image: Any,
    settings: StackSettings,
    labels: dict[str, str],
    image_pull_secrets: Sequence[Manifest] = (),
) -> Manifest:
    view = effective_runtime(spec)
    download = not cache.is_cached(spec)
    volumes, server_mounts, _ = _volumes_and_mounts(model, spec, download)
    fetch = _fetch_with_mounts(model, spec, settings) if download else None
    pod: Manifest = {
        "serviceAccountName": model,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security_context(),
        "terminationGracePeriodSeconds": drain_seconds(spec),
        "containers": [_server_container(model, spec, image, view, server_mounts)],
        "volumes": volumes,
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "topologySpreadConstraints": _spread(model),
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": selector_labels(model)},
                        },
                    }
                ]
            }
        },
    }
    if spec.weights.same_node:
        # A ReadWriteOnce claim attaches to one node: every replica goes where the first one runs.
        pod["affinity"] = same_node_affinity(model)
        pod["topologySpreadConstraints"] = _spread(model)[:1]
    if fetch is not None:
        pod["initContainers"] = [fetch]
    if spec.adapters:
        # LoRA adapters download beside the weights, each into its own directory (components/lora.py).
        fetcher = any(v.get("name") == "fetcher" for v in volumes)
        pod["initContainers"] = pod.get("initContainers", []) + lora.fetch_containers(
            spec, settings, FETCH_RESOURCES, container_security_context(), fetcher
        )
    if image_pull_secrets:
        # Only pods whose image lives in a registry that needs credentials (components/registry.py).
        pod["imagePullSecrets"] = list(image_pull_secrets)
    gpu = spec.resources.gpu
    if gpu is not None:
        placement = gpu_placement(settings, gpu.accelerator)
        pod["nodeSelector"].update(placement.node_selector)
        pod["tolerations"] = [dict(t) for t in placement.tolerations]
    annotations = {"kubectl.kubernetes.io/default-container": "server"}
    data = config_files(model, spec)
    if data:
        # A changed config file changes the template, so the Deployment rolls its pods to pick it up.
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        annotations["ml-serving.dev/config-sha256"] = digest
    return {"metadata": {"labels": labels, "annotations": annotations}, "spec": pod}


# --- objects ----------------------------------------------------------------------------------------------------


def _metadata(name: str, namespace: str, labels: dict[str, str], annotations: dict[str, str] | None = None):
    meta: Manifest = {"name": name, "namespace": namespace, "labels": labels}
    if annotations:
        meta["annotations"] = annotations
    return meta


def deployment_timeout_seconds(spec: ModelSpec) -> int:
    """How long a rollout may take before it counts as failed (also how long `pulumi up` waits for it)."""
    download = 0
    if weights_volume_bytes(spec):
        download = math.ceil((spec.weights.size_gib or 1) * 20)  # ~50 MiB/s worst case from object storage
    node_and_pull = GPU_NODE_AND_PULL_SECONDS if spec.resources.gpu is not None else 300
    return node_and_pull + download + startup_budget_seconds(spec)


def suppression_cases(spec: ModelSpec, settings: StackSettings, built_image: bool) -> list[str]:
    """The checkov suppressions (components/suppressions.py) that hold for this model's Deployment in this stack."""
    cases = ["secret-env"] if spec.secret_env else []
    if built_image:
        local = settings.registry.type == "none"
        cases += ["local-image-tag", "local-image-pull"] if local else ["built-image-tag", "built-image-pull"]
    elif settings.environment.tier == "dev" and spec.image and spec.image.ref and "@sha256:" not in spec.image.ref:
        cases += ["dev-tagged-image", "dev-tagged-image-pull"]
    return cases


def build_model_objects(
    model: str,
    spec: ModelSpec,
    image: Any,
    settings: StackSettings,
    built_image: bool = False,
    image_pull_secrets: Sequence[Manifest] = (),
    release: dict[str, str] | None = None,
) -> ModelObjects:
    """Every object of one model, as manifest dicts. ``built_image``: the image is one this repo builds (run by
    its content-addressed tag). ``image_pull_secrets``: the pod's imagePullSecrets (``{"name": ...}`` each).
    ``release``: the instance and version labels (labels.release_labels), on every object."""
    namespace = settings.environment.namespace
    labels = model_labels(model, spec.runtime, settings.environment.labels, release)
    view = effective_runtime(spec)
    timeout = deployment_timeout_seconds(spec)
    deployment_annotations = checkov_annotations(suppression_cases(spec, settings, built_image))
    deployment_annotations.update(workload_annotations(spec, settings))
    if spec.resources.gpu is not None:
        # `pulumi up` waits for the rollout; GPU nodes, multi-GB images and model loads outlast its 10-minute default.
        deployment_annotations["pulumi.com/timeoutSeconds"] = str(timeout)
    deployment_spec: Manifest = {
        "selector": {"matchLabels": selector_labels(model)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "revisionHistoryLimit": 5,
        "progressDeadlineSeconds": timeout,
        "template": pod_template(model, spec, image, settings, labels, image_pull_secrets),
    }
    # Always stated, so server-side apply never releases the field (the API server would reset it to 1). With an
    # autoscaler it is only the count at creation: ModelService ignores later changes to it (AUTOSCALED_FIELDS), so a
    # move from a fixed size keeps the running replicas until the autoscaler, which then owns the field, acts.
    deployment_spec["replicas"] = (
        max(spec.scaling.min_replicas, 1) if has_autoscaler(spec) else spec.scaling.min_replicas
    )
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(model, namespace, labels, deployment_annotations),
        "spec": deployment_spec,
    }
    where = capacity_placement.placement(spec, settings)
    disruption_budget = pdb(model, spec, namespace, labels)
    spot = None
    if where == capacity_placement.SPOT_FALLBACK and not lws.is_multinode(spec):
        spot = capacity_placement.split_floor(model, spec, deployment, disruption_budget)
        disruption_budget = spot.floor_pdb
    elif where is not None:
        # (A multi-node spot-fallback model is refused by the catalog checks.)
        capacity_placement.place_pod(deployment_spec["template"], where)
    service_selector = selector_labels(model)
    if lws.is_multinode(spec):
        # One replica is a group of pods across nodes (components/multinode/lws.py): the Service reaches leaders.
        deployment_annotations["pulumi.com/waitFor"] = lws.WAIT_FOR_AVAILABLE
        deployment = lws.leader_worker_set(
            deployment["metadata"], deployment_spec["template"], spec, deployment_spec["replicas"]
        )
        service_selector = {**service_selector, lws.WORKER_INDEX_LABEL: "0"}
    data = config_files(model, spec)
    return ModelObjects(
        service_account=service_account(model, namespace, labels, settings),
        config_map=(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": _metadata(f"{model}-config", namespace, labels),
                "data": data,
            }
            if data
            else None
        ),
        deployment=deployment,
        service={
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _metadata(model, namespace, labels),
            "spec": {
                "type": "ClusterIP",
                "selector": service_selector,
                "ports": [
                    {"name": p.name, "port": p.number, "targetPort": p.name, "protocol": "TCP"} for p in view.ports
                ],
            },
        },
        network_policy=network_policy(model, spec, settings, labels, view),
        hpa=hpa(model, spec, namespace, labels),
        pdb=disruption_budget,
        # A vLLM model of a gateway-inference stack is public through its HTTPRoute (components/routing/).
        ingress=None if routed_by_gateway(spec, settings) else ingress(model, spec, settings, labels, view),
        spot=spot,
    )


def service_account(model: str, namespace: str, labels: dict[str, str], settings: StackSettings) -> Manifest:
    metadata = _metadata(model, namespace, labels, dict(settings.network.identity_annotations) or None)
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata, "automountServiceAccountToken": False}


def hpa(model: str, spec: ModelSpec, namespace: str, labels: dict[str, str]) -> Manifest | None:
    """A HorizontalPodAutoscaler on cpu or memory; other metrics are scaled by the monitoring stack (KEDA)."""
    if not has_autoscaler(spec) or spec.scaling.metric not in ("cpu", "memory"):
        return None
    slow_start = spec.resources.gpu is not None
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(model, namespace, labels),
        "spec": {
            "scaleTargetRef": lws.scale_target(model, spec),
            "minReplicas": spec.scaling.min_replicas,
            "maxReplicas": spec.scaling.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": spec.scaling.metric,
                        "target": {"type": "Utilization", "averageUtilization": round(scaling_target(spec))},
                    },
                }
            ],
            "behavior": scaling_behavior(slow_start),
        },
    }


def scaling_behavior(slow_start: bool) -> Manifest:
    """Scale up at once, scale down slowly: a replica that takes minutes to load is expensive to lose by mistake."""
    return {
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": 60},
                {"type": "Pods", "value": 2, "periodSeconds": 60},
            ],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": 600 if slow_start else 300,
            "selectPolicy": "Min",
            "policies": [
                {"type": "Pods", "value": 1, "periodSeconds": 120 if slow_start else 60},
                {"type": "Percent", "value": 25, "periodSeconds": 60},
            ],
        },
    }


def pdb(model: str, spec: ModelSpec, namespace: str, labels: dict[str, str]) -> Manifest | None:
    """With two or more replicas, voluntary evictions take at most one at a time (never all of them)."""
    if spec.scaling.min_replicas < 2:
        return None
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(model, namespace, labels),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": selector_labels(model)},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }


def _port_refs(view: RuntimePreset, *names: str) -> list[Manifest]:
    numbers = {p.name: p.number for p in view.ports}
    return [{"protocol": "TCP", "port": numbers[n]} for n in dict.fromkeys(names)]


def network_policy(
    model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str], view: RuntimePreset
) -> Manifest:
    """Ingress only from declared clients, the ingress controller (public) and monitoring; egress only to DNS and
    where the weights come from."""
    serving = [p.name for p in view.ports if p.name != "metrics"]
    ingress_rules: list[Manifest] = []
    for client in spec.exposure.clients:
        peer: Manifest = {
            "namespaceSelector": {
                "matchLabels": {"kubernetes.io/metadata.name": client.namespace or settings.environment.namespace}
            },
            "podSelector": {"matchLabels": dict(client.pod_labels)},
        }
        ingress_rules.append({"from": [peer], "ports": _port_refs(view, *serving)})
    if routed_by_gateway(spec, settings):
        # Requests come through the Gateway's proxies; the model's endpoint picker scrapes its metrics.
        numbers = {p.name: p.number for p in view.ports}
        ingress_rules += model_ingress_rules(model, spec, settings, view.ports[0].number, numbers[view.metrics_port])
    elif spec.exposure.type == "public":
        ingress_rules.append(
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": settings.ingress.controller_namespace}
                        },
                        "podSelector": {"matchLabels": dict(settings.ingress.controller_pod_labels)},
                    }
                ],
                "ports": _port_refs(view, view.ports[0].name),
            }
        )
    if settings.monitoring.enabled:
        # Prometheus' pods only, not every pod of the monitoring namespace (Grafana, exporters, ...).
        ingress_rules.append(
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": settings.monitoring.namespace}
                        },
                        "podSelector": {"matchLabels": dict(PROMETHEUS_POD_LABELS)},
                    }
                ],
                "ports": _port_refs(view, view.metrics_port),
            }
        )
    egress: list[Manifest] = [dict(DNS_EGRESS)]
    if lws.is_multinode(spec):
        within_group = lws.intra_group_rules(selector_labels(model))
        ingress_rules.append(within_group[0])
        egress.append(within_group[1])
    if weights_volume_bytes(spec) or spec.adapters:
        # The download's egress. NetworkPolicy selects pods, not containers: the serving container can reach these
        # destinations too, which is why prod must declare them (docs/security.md#networking).
        egress.append(weights_egress(settings))
    for rule in spec.egress:
        if rule.cidr is not None:
            peer: Manifest = {"ipBlock": {"cidr": rule.cidr}}
        else:
            peer = {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": rule.namespace}},
                "podSelector": {"matchLabels": dict(rule.pod_labels)},
            }
        egress.append({"to": [peer], "ports": [{"protocol": "TCP", "port": port} for port in rule.ports]})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata(model, settings.environment.namespace, labels),
        "spec": {
            "podSelector": {"matchLabels": selector_labels(model)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress_rules,
            "egress": egress,
        },
    }


#: On an Ingress served without a certificate: the stack's stated reason (ml-serving:ingress.plainHttpReason).
PLAIN_HTTP_ANNOTATION = "ml-serving.dev/plain-http-reason"
NGINX = "nginx.ingress.kubernetes.io/"


def nginx_size(quantity: str) -> str:
    """A byte quantity as ingress-nginx's proxy-body-size wants it (nginx units, base 1024), rounded up to a MiB."""
    return f"{math.ceil(byte_count(quantity) / 2**20)}m"


def ingress_controller_annotations(spec: ModelSpec, settings: StackSettings) -> dict[str, str]:
    """Per-model settings of the stack's ingress controller from the catalog: a request may take
    `maxRequestSeconds` (the controller's 60 s default would cut a long generation), and a body up to
    `exposure.maxBodySize` (images, audio)."""
    if settings.ingress.controller != "ingress-nginx":
        return {}
    seconds = str(spec.max_request_seconds)
    annotations = {f"{NGINX}proxy-read-timeout": seconds, f"{NGINX}proxy-send-timeout": seconds}
    if spec.exposure.max_body_size is not None:
        annotations[f"{NGINX}proxy-body-size"] = nginx_size(spec.exposure.max_body_size)
    return annotations


def ingress(
    model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str], view: RuntimePreset
) -> Manifest | None:
    exposure = spec.exposure
    if exposure.type != "public":
        return None
    assert exposure.host is not None
    annotations = {}
    ingress_spec: Manifest = {
        "ingressClassName": settings.ingress.class_name,
        "rules": [
            {
                "host": exposure.host,
                "http": {
                    "paths": [
                        {
                            "path": exposure.path,
                            "pathType": "Prefix",
                            "backend": {"service": {"name": model, "port": {"name": view.ports[0].name}}},
                        }
                    ]
                },
            }
        ],
    }
    annotations.update(ingress_controller_annotations(spec, settings))
    if settings.ingress.tls_cluster_issuer:
        annotations["cert-manager.io/cluster-issuer"] = settings.ingress.tls_cluster_issuer
        ingress_spec["tls"] = [{"hosts": [exposure.host], "secretName": f"{model}-tls"}]
    else:
        # Only with a stated reason (model_catalog/environment.py refuses a public model without either).
        assert settings.ingress.plain_http_reason is not None
        annotations[PLAIN_HTTP_ANNOTATION] = settings.ingress.plain_http_reason
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _metadata(model, settings.environment.namespace, labels, annotations or None),
        "spec": ingress_spec,
    }
