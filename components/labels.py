"""Labels and annotations shared by every rendered object.

Selectors use only ``selector_labels`` (one label we own, fixed for a model's life). Every other label may be
added or change value (a new version, another stack) without touching what selects the pods: tests/test_selectors.py
holds every golden selector to its reviewed value.
"""

from __future__ import annotations

import hashlib
import re

PART_OF = "ml-serving"
MODEL_LABEL = "ml-serving.dev/model"
RUNTIME_LABEL = "ml-serving.dev/runtime"
INSTANCE_LABEL = "app.kubernetes.io/instance"
VERSION_LABEL = "app.kubernetes.io/version"


_LABEL_VALUE_MAX = 63
_NOT_LABEL_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def label_value(text: str) -> str:
    """``text`` as a valid label value: characters outside ``[A-Za-z0-9._-]`` become ``-``, both ends alphanumeric,
    at most 63 characters (a longer value keeps its start and a hash of the whole, so it stays unique)."""
    value = _NOT_LABEL_CHARS.sub("-", text).strip("._-")
    if len(value) > _LABEL_VALUE_MAX:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        value = value[: _LABEL_VALUE_MAX - len(digest) - 1].rstrip("._-") + "-" + digest
    return value


def image_version(reference: str) -> str:
    """The version an image reference names: its tag (``vllm/vllm-openai:v0.9.2@sha256:...`` -> ``v0.9.2``), else
    its digest shortened (``sha256-0123456789ab``), else ``latest`` (what the runtime resolves an untagged name to)."""
    name, _, digest = reference.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return label_value(last.rsplit(":", 1)[1])
    if digest:
        algorithm, _, hex_digest = digest.partition(":")
        return label_value(f"{algorithm}-{hex_digest[:12]}")
    return "latest"


def release_labels(model: str, stack: str, version: str) -> dict[str, str]:
    """``app.kubernetes.io/instance`` (this stack's release of the model, ``<model>-<stack>``) and
    ``app.kubernetes.io/version`` (the model's version): on every object of the model, never in a selector."""
    return {INSTANCE_LABEL: label_value(f"{model}-{stack}"), VERSION_LABEL: label_value(version)}


def selector_labels(model: str) -> dict[str, str]:
    """The immutable selector of a model's pods: one label we own, so nothing else can match it."""
    return {MODEL_LABEL: model}


def model_labels(
    model: str, runtime: str, extra: dict[str, str] | None = None, release: dict[str, str] | None = None
) -> dict[str, str]:
    """Labels on every object of a model (recommended app.kubernetes.io labels plus the selector); ``release``:
    the instance and version labels (``release_labels``)."""
    return {
        **(extra or {}),
        **(release or {}),
        "app.kubernetes.io/name": model,
        "app.kubernetes.io/component": "model-server",
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        RUNTIME_LABEL: runtime,
        **selector_labels(model),
    }


def platform_labels(component: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Labels on shared objects (namespace, node pools, monitoring)."""
    return {
        **(extra or {}),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }
