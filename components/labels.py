"""Labels and annotations shared by every rendered object."""

from __future__ import annotations

PART_OF = "ml-serving"
MODEL_LABEL = "ml-serving.dev/model"
RUNTIME_LABEL = "ml-serving.dev/runtime"


def selector_labels(model: str) -> dict[str, str]:
    """The immutable selector of a model's pods: one label we own, so nothing else can match it."""
    return {MODEL_LABEL: model}


def model_labels(model: str, runtime: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Labels on every object of a model (recommended app.kubernetes.io labels plus the selector)."""
    return {
        **(extra or {}),
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
