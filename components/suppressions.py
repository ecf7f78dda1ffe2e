"""The only checkov checks the platform ever suppresses, when, and why: one table, applied per object as
``checkov.io/skipN`` annotations and listed in docs/suppressions.md (generated from this table)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Suppression:
    check: str
    title: str
    applies_to: str
    reason: str


SUPPRESSIONS: dict[str, Suppression] = {
    row.check: row
    for row in (
        Suppression(
            "CKV_K8S_35",
            "Prefer using secrets as files over secrets as environment variables",
            "Deployments of models whose catalog entry uses `secretEnv`",
            "the model server reads these settings only from environment variables (catalog secretEnv); "
            "the values stay in Kubernetes Secrets and never appear in manifests or state",
        ),
        Suppression(
            "CKV_K8S_43",
            "Image should use digest",
            "Deployments running an image built from this repository by its content-addressed tag (registry "
            "`ecr` or `none`; images in an `external` registry run by digest and need no suppression)",
            "built images run by a content-addressed tag (ctx- plus the sha256 of the build context and inputs), "
            "known before the build so previews are exact; ECR repositories are IMMUTABLE, so a pushed tag never "
            "changes content, and without a registry (dev) the tag exists only on the local cluster",
        ),
        Suppression(
            "CKV_K8S_15",
            "Image Pull Policy should be Always",
            "Deployments running an image built from this repository by its content-addressed tag (as CKV_K8S_43)",
            "a content-addressed tag never changes content, so IfNotPresent is exact and spares a registry "
            "round-trip per pod start (with a local dev cluster there is no registry to ask)",
        ),
    )
}


def checkov_annotations(checks: Iterable[str]) -> dict[str, str]:
    """``checkov.io/skipN: CHECK=reason`` annotations for the given checks (each must be in the table)."""
    return {
        f"checkov.io/skip{i}": f"{check}={SUPPRESSIONS[check].reason}"
        for i, check in enumerate(sorted(set(checks)), start=1)
    }
