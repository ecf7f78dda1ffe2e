"""The shared weights cache: one ReadWriteMany volume per cached model, filled once by a Job, mounted read-only.

Why this design (docs/big-models.md#a-shared-weights-cache): it is portable (every cloud and most on-premises
clusters offer a ReadWriteMany class: EFS, Filestore, Azure Files, CephFS, NFS), it works for every scheme the
fetchers handle, and a scale-up or a replaced pod mounts the filled volume at once: no download, whatever node it
lands on. Node-local caching (hostPath, a DaemonSet) would break Pod Security "restricted" and still download once
per node; OCI image volumes need weights published as OCI artifacts and Kubernetes 1.35 (beta).

The cache is keyed by what decides its content (URI, filters, checksum): a change of any of them fills a new
directory (``<key>``) through a new Job, and the Deployment switches to it in the same rollout; the old directory
stays until removed by hand (docs/big-models.md says how), so a rollback is warm too.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings

from ..labels import MODEL_LABEL

Manifest = dict[str, Any]

#: Where the fill Job mounts the cache volume (the fetcher writes under ``<CACHE_MOUNT>/<key>``).
CACHE_MOUNT = "/cache"
#: Pod label of the fill Job's pods (its NetworkPolicy selects them).
FILL_LABEL = "ml-serving.dev/weights-fill"
#: Worst-case download rate the rollout timeouts assume (~50 MiB/s from object storage): seconds per GiB.
DOWNLOAD_SECONDS_PER_GIB = 20
#: Headroom of the cache volume over the declared size (as for the per-pod download volume).
CACHE_HEADROOM = 1.25
FILL_BACKOFF_LIMIT = 4
#: What one replica reads from a ReadWriteMany volume, MiB/s (EFS elastic throughput per client, Filestore basic
#: tiers and Azure Files standard shares all manage this or more).
READ_MIB_PER_SECOND = 200


def is_cached(spec: ModelSpec) -> bool:
    return spec.weights.cache and spec.weights.uri is not None and not spec.weights.uri.startswith("pvc://")


def cache_key(spec: ModelSpec) -> str:
    """Short hash of what decides the cache's content: the URI, the fetcher's filters and checksum."""
    weights = spec.weights
    what = {
        "uri": weights.uri,
        "include": weights.include,
        "exclude": weights.exclude,
        "sha256": weights.sha256,
        "runtime": spec.runtime,  # the runtime's default filters
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:10]


def cache_bytes(spec: ModelSpec) -> int:
    return math.ceil((spec.weights.size_gib or 1) * CACHE_HEADROOM * 2**30)


def claim_name(model: str) -> str:
    return f"{model}-weights"


def fill_job_name(model: str, spec: ModelSpec) -> str:
    return f"{model}-weights-{cache_key(spec)}"


def download_seconds(spec: ModelSpec) -> int:
    return math.ceil((spec.weights.size_gib or 1) * DOWNLOAD_SECONDS_PER_GIB)


def warm_read_seconds(spec: ModelSpec) -> int:
    """Reading the weights over the network from the shared volume rather than from a local disk: added to the
    start-up budget of a cached model (at a conservative READ_MIB_PER_SECOND per reader)."""
    return math.ceil((spec.weights.size_gib or 1) * 1024 / READ_MIB_PER_SECOND)


def cache_volume(model: str, spec: ModelSpec) -> tuple[Manifest, Manifest]:
    """The server's volume and mount: the cache claim, read-only, at the model's directory (its key's sub-path)."""
    volume = {"name": "models", "persistentVolumeClaim": {"claimName": claim_name(model), "readOnly": True}}
    mount = {"name": "models", "mountPath": f"/models/{model}", "readOnly": True, "subPath": cache_key(spec)}
    return volume, mount


def cache_claim(model: str, spec: ModelSpec, settings: StackSettings, labels: dict[str, str]) -> Manifest:
    cache = settings.weights_cache
    assert cache.storage_class is not None
    size_mib = math.ceil(cache_bytes(spec) / 2**20)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": claim_name(model), "namespace": settings.environment.namespace, "labels": labels},
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": cache.storage_class,
            "resources": {"requests": {"storage": f"{size_mib}Mi"}},
        },
    }


def fill_job(
    model: str,
    spec: ModelSpec,
    settings: StackSettings,
    labels: dict[str, str],
    fetch_container: Manifest,
    fetch_volumes: list[Manifest],
    pod_security_context: Manifest,
) -> Manifest:
    """The Job that fills the cache once: the model's own fetch container (same image, fetcher, credentials and
    proxy), writing into the claim under the cache key instead of into a per-pod volume."""
    container = dict(fetch_container)
    dest = f"{CACHE_MOUNT}/{cache_key(spec)}"
    command = [part for part in container["command"] if not part.startswith("--max-bytes=")]
    command[-1] = dest
    command.insert(-2, f"--max-bytes={cache_bytes(spec)}")
    container["command"] = command
    mounts = [m for m in container.get("volumeMounts", []) if m["name"] != "models"]
    container["volumeMounts"] = [*mounts, {"name": "cache", "mountPath": CACHE_MOUNT}]
    volumes = [v for v in fetch_volumes if v["name"] != "models"]
    volumes.append({"name": "cache", "persistentVolumeClaim": {"claimName": claim_name(model)}})
    # Not the model's selector label: the model's Service, PodDisruptionBudget, NetworkPolicy and PodMonitor must not
    # select the fill pod.
    pod_labels = {k: v for k, v in labels.items() if k != MODEL_LABEL}
    pod_labels.update({"app.kubernetes.io/component": "weights-fill", FILL_LABEL: model})
    deadline = 600 + 2 * download_seconds(spec)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": fill_job_name(model, spec),
            "namespace": settings.environment.namespace,
            "labels": labels,
            # `pulumi up` waits for the fill (cold cache) before it rolls the Deployment onto it.
            "annotations": {"pulumi.com/timeoutSeconds": str(deadline + 60)},
        },
        "spec": {
            "backoffLimit": FILL_BACKOFF_LIMIT,
            "activeDeadlineSeconds": deadline,
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "serviceAccountName": model,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "restartPolicy": "OnFailure",
                    "securityContext": pod_security_context,
                    "containers": [container],
                    "volumes": volumes,
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                },
            },
        },
    }


def fill_network_policy(
    model: str, settings: StackSettings, labels: dict[str, str], egress: list[Manifest]
) -> Manifest:
    """The fill Job's pods: no ingress at all, egress to DNS and where the weights come from (``egress``)."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"{model}-weights-fill", "namespace": settings.environment.namespace, "labels": labels},
        "spec": {
            "podSelector": {"matchLabels": {FILL_LABEL: model}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": egress,
        },
    }
