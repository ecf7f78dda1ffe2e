"""Versions the platform supports or pins, in one place."""

from __future__ import annotations

#: Kubernetes minors the rendered manifests are validated against (kubernetes-validate --strict).
SUPPORTED_KUBERNETES_MINORS: tuple[str, ...] = ("1.31", "1.32", "1.33", "1.34", "1.35")
