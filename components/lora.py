"""LoRA adapters of a vLLM model (catalog ``adapters``): fetched beside the weights, registered with vLLM by name.

Each adapter is downloaded before the server starts by an init container of its own (``fetch-adapter-<name>``,
the weights' downloader for its URI scheme, so the same pinned images and fetcher), into a volume of its own
mounted read-only at ``/adapters`` in the server; an adapter whose scheme is the weights' uses the weights'
``credentialsSecret``. vLLM runs with ``--enable-lora`` and ``--lora-modules <name>=/adapters/<name>``: a request
whose ``model`` is an adapter's name is served by the base model with that adapter. Routing by name:
components/routing/ (the pool serves every name; internal routes match each). Pure functions, no Pulumi.
"""

from __future__ import annotations

import math
from typing import Any

from model_catalog.quantities import format_mebibytes
from model_catalog.schema import ModelSpec
from model_catalog.settings import StackSettings
from platform_data.downloaders import CREDENTIALS_DIR, DOWNLOADERS, FETCHER_DIR

Manifest = dict[str, Any]

ADAPTER_ROOT = "/adapters"
VOLUME = "adapters"
#: Headroom on the adapters' volume over their declared sizes (as for the weights).
HEADROOM = 1.25
#: vLLM batches at most this many different adapters at once (--max-loras); more stay loaded on the CPU side.
MAX_LORAS_IN_BATCH = 8


def adapter_dir(name: str) -> str:
    return f"{ADAPTER_ROOT}/{name}"


def adapters_volume_bytes(spec: ModelSpec) -> int:
    """Size of the adapters' download volume (0 without adapters)."""
    if not spec.adapters:
        return 0
    return math.ceil(sum(a.size_gib for a in spec.adapters.values()) * HEADROOM * 2**30)


def needs_fetcher(spec: ModelSpec) -> bool:
    """Whether an adapter downloads with this repo's fetcher script (hf://, https://)."""
    return any(DOWNLOADERS[a.uri.split("://", 1)[0]].uses_fetcher for a in spec.adapters.values())


def server_args(spec: ModelSpec) -> list[str]:
    """vLLM's LoRA arguments: enabled, each adapter under its name, room for all of them."""
    if not spec.adapters:
        return []
    modules = [f"{name}={adapter_dir(name)}" for name in sorted(spec.adapters)]
    count = len(spec.adapters)
    return [
        "--enable-lora",
        f"--max-loras={min(count, MAX_LORAS_IN_BATCH)}",
        f"--max-cpu-loras={count}",
        f"--max-lora-rank={max(a.rank for a in spec.adapters.values())}",
        "--lora-modules",
        *modules,
    ]


def volume(spec: ModelSpec) -> tuple[Manifest, Manifest] | None:
    """The adapters' volume and the server's read-only mount of it."""
    size = adapters_volume_bytes(spec)
    if not size:
        return None
    return (
        {"name": VOLUME, "emptyDir": {"sizeLimit": format_mebibytes(size)}},
        {"name": VOLUME, "mountPath": ADAPTER_ROOT, "readOnly": True},
    )


def fetch_containers(
    spec: ModelSpec, settings: StackSettings, resources: Manifest, security_context: Manifest, fetcher_mounted: bool
) -> list[Manifest]:
    """One init container per adapter (sorted by name), each writing only its own directory."""
    containers: list[Manifest] = []
    weights_scheme = spec.weights.uri.split("://", 1)[0] if spec.weights.uri else None
    proxy = settings.network.weights_proxy
    for name in sorted(spec.adapters):
        adapter = spec.adapters[name]
        scheme = adapter.uri.split("://", 1)[0]
        downloader = DOWNLOADERS[scheme]
        command = [
            part.replace("{uri}", adapter.uri).replace("{dest}", adapter_dir(name)) for part in downloader.command
        ]
        env = [{"name": k, "value": v} for k, v in downloader.env]
        mounts: list[Manifest] = [{"name": "tmp", "mountPath": "/tmp"}, {"name": VOLUME, "mountPath": ADAPTER_ROOT}]
        if downloader.uses_fetcher:
            assert fetcher_mounted, "config_files ships the fetcher when an adapter needs it"
            mounts.append({"name": "fetcher", "mountPath": FETCHER_DIR, "readOnly": True})
        if spec.weights.credentials_secret and scheme == weights_scheme:
            mounts.append({"name": "weights-credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True})
            env += [{"name": var, "value": f"{CREDENTIALS_DIR}/{key}"} for var, key in downloader.credential_files]
        if proxy is not None:
            env += [{"name": "HTTPS_PROXY", "value": proxy}, {"name": "https_proxy", "value": proxy}]
        containers.append(
            {
                "name": f"fetch-adapter-{name}",
                "image": downloader.image,
                "imagePullPolicy": "IfNotPresent",
                "command": command,
                "env": sorted(env, key=lambda e: e["name"]),
                "resources": {"requests": dict(resources), "limits": dict(resources)},
                "securityContext": dict(security_context),
                "volumeMounts": mounts,
            }
        )
    return containers
