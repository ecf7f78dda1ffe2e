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


#: Rows keyed by case: one check may be suppressed for different objects, each with the reason that holds there
#: (a prod object never carries a reason that talks about a local dev cluster).
SUPPRESSIONS: dict[str, Suppression] = {
    "secret-env": Suppression(
        "CKV_K8S_35",
        "Prefer using secrets as files over secrets as environment variables",
        "Deployments of models whose catalog entry uses `secretEnv`",
        "the model server reads these settings only from environment variables (catalog secretEnv); "
        "the values stay in Kubernetes Secrets and never appear in manifests or state",
    ),
    "built-image-tag": Suppression(
        "CKV_K8S_43",
        "Image should use digest",
        "Deployments running an image built from this repository and pushed to its `ecr` registry (images in an "
        "`external` registry run by digest and need no suppression)",
        "built images run by a content-addressed tag (ctx- plus the sha256 of the build context and inputs), "
        "known before the build so previews are exact; the ECR repository is IMMUTABLE, so a pushed tag never "
        "changes content",
    ),
    "built-image-pull": Suppression(
        "CKV_K8S_15",
        "Image Pull Policy should be Always",
        "Deployments running an image built from this repository and pushed to its `ecr` registry",
        "a content-addressed tag never changes content, so IfNotPresent is exact and spares a registry "
        "round-trip per pod start",
    ),
    "local-image-tag": Suppression(
        "CKV_K8S_43",
        "Image should use digest",
        "dev stacks without a registry (`registry.type: none`): Deployments running an image built from this "
        "repository into the local cluster",
        "the image is built into the local dev cluster under a content-addressed tag (ctx- plus the sha256 of the "
        "build context and inputs); there is no registry to report a digest",
    ),
    "local-image-pull": Suppression(
        "CKV_K8S_15",
        "Image Pull Policy should be Always",
        "as `local-image-tag`",
        "the image exists only in the local dev cluster, under a content-addressed tag: there is no registry to "
        "pull from, so IfNotPresent",
    ),
    "dev-tagged-image": Suppression(
        "CKV_K8S_43",
        "Image should use digest",
        "dev stacks: Deployments running a prebuilt `image.ref` given by tag",
        "dev policy runs a prebuilt image by tag; staging and prod stacks require a digest "
        "(model_catalog/environment.py)",
    ),
    "dev-tagged-image-pull": Suppression(
        "CKV_K8S_15",
        "Image Pull Policy should be Always",
        "as `dev-tagged-image`",
        "dev policy runs a prebuilt image by tag; IfNotPresent lets a local cluster start it without a registry "
        "round-trip (staging and prod run images by digest)",
    ),
    "epp-api-token": Suppression(
        "CKV_K8S_38",
        "Ensure that Service Account Tokens are only mounted where necessary",
        "the endpoint picker Deployments of gateway-inference routing (`<model>-epp`)",
        "the endpoint picker watches its InferencePool, the pool's pods and InferenceObjectives through the API "
        "server, so it needs its token; its Role grants only get/list/watch on those, in the models' namespace",
    ),
}


def checkov_annotations(cases: Iterable[str]) -> dict[str, str]:
    """``checkov.io/skipN: CHECK=reason`` annotations for the given cases (keys of SUPPRESSIONS)."""
    rows = sorted({SUPPRESSIONS[case] for case in cases}, key=lambda row: row.check)
    return {f"checkov.io/skip{i}": f"{row.check}={row.reason}" for i, row in enumerate(rows, start=1)}
