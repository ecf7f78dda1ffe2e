"""The weight fetcher's command line (components/scripts/fetch_weights.py) for one model: hf:// filters with the
runtime's defaults, the https:// checksum, and the limit of what the volume may hold."""

from __future__ import annotations

from model_catalog.schema import ModelSpec
from platform_data.downloaders import DOWNLOADERS, HF_PREFER_SAFETENSORS, hf_default_exclude


def hf_filters(spec: ModelSpec) -> tuple[list[str], list[str]]:
    """(include, exclude) patterns of an hf:// model: the catalog's, else every file minus the runtime's defaults."""
    weights = spec.weights
    include = list(weights.include or [])
    exclude = list(weights.exclude) if weights.exclude is not None else list(hf_default_exclude(spec.runtime))
    return include, exclude


def fetch_options(spec: ModelSpec, max_bytes: int) -> list[str]:
    """Options before the URI: filters and checksum where the scheme has them, and the volume's limit."""
    uri = spec.weights.uri or ""
    scheme = uri.split("://", 1)[0]
    if not DOWNLOADERS[scheme].uses_fetcher:
        return []
    options: list[str] = []
    if scheme == "hf":
        include, exclude = hf_filters(spec)
        options += [f"--include={p}" for p in include] + [f"--exclude={p}" for p in exclude]
        if spec.runtime in HF_PREFER_SAFETENSORS:
            options.append("--prefer-safetensors")
    if spec.weights.sha256 is not None:
        options.append(f"--sha256={spec.weights.sha256}")
    options.append(f"--max-bytes={max_bytes}")
    if spec.weights.size_gib is not None:
        options.append(f"--size-gib={spec.weights.size_gib:g}")
    return options
