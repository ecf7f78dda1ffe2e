"""The standard labels app.kubernetes.io/instance and app.kubernetes.io/version on every object of a model
(selectors untouched: tests/test_selectors.py)."""

from __future__ import annotations

import json

import pytest

from components.labels import INSTANCE_LABEL, VERSION_LABEL, image_version, label_value, release_labels
from model_catalog.schema import LABEL_VALUE_PATTERN
from tests.helpers import ROOT, STACKS, problems, read_yaml

MODEL_COMPONENTS = ("ml-serving:models:ModelService", "ml-serving:monitoring:ModelMonitoring")


def model_objects(stack: str) -> dict[str, list[dict]]:
    """Model -> the Kubernetes objects its components registered, from the golden resources.json."""
    document = json.loads((ROOT / "tests" / "golden" / stack / "resources.json").read_text())
    owners = {r["urn"]: r["name"] for r in document["resources"] if r["type"] in MODEL_COMPONENTS}
    out: dict[str, list[dict]] = {}
    for r in document["resources"]:
        if r["parent"] in owners and r["type"].startswith("kubernetes:"):
            # Kubernetes objects' inputs are their manifest file (resources.json points at it).
            manifest = read_yaml(ROOT / "tests" / "golden" / stack / r["manifest"])
            out.setdefault(owners[r["parent"]], []).append({**r, "inputs": manifest})
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_of_every_model_carries_instance_and_version(stack):
    objects = model_objects(stack)
    assert len(objects) >= 3 and all(len(found) >= 5 for found in objects.values())
    for model, found in objects.items():
        versions = set()
        for resource in found:
            labels = resource["inputs"]["metadata"]["labels"]
            assert labels[INSTANCE_LABEL] == f"{model}-{stack}", resource["urn"]
            versions.add(labels[VERSION_LABEL])
            template = resource["inputs"].get("spec", {}).get("template")
            if template is not None:  # the pods too: dashboards and cost tools key on them
                assert template["metadata"]["labels"][VERSION_LABEL] == labels[VERSION_LABEL]
        assert len(versions) == 1, f"{model} has several versions in {stack}: {versions}"


def test_the_version_is_the_catalogs_else_the_images():
    prod = model_objects("prod")

    def version(model: str) -> str:
        return prod[model][0]["inputs"]["metadata"]["labels"][VERSION_LABEL]

    assert version("llama3-70b") == "3.1-instruct-fp8"  # models.yaml sets it
    assert version("churn-predictor").startswith("ctx-")  # a built image: its content tag
    # A prebuilt or runtime image: the tag of the image its Deployment runs.
    deployment = next(r for r in prod["resnet50"] if r["type"] == "kubernetes:apps/v1:Deployment")
    (server, *_) = deployment["inputs"]["spec"]["template"]["spec"]["containers"]
    assert version("resnet50") == image_version(server["image"]) != "latest"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("vllm/vllm-openai:v0.9.2@sha256:" + "a" * 64, "v0.9.2"),
        ("localhost:5000/team/model:2026.11", "2026.11"),  # a registry port is not a tag
        ("localhost:5000/team/model@sha256:0123456789abcdef" + "0" * 48, "sha256-0123456789ab"),
        ("busybox", "latest"),
    ],
)
def test_image_version(reference, expected):
    assert image_version(reference) == expected


def test_label_values_are_always_valid():
    import re

    pattern = re.compile(LABEL_VALUE_PATTERN)
    long_name = "a" * 63
    for text in ("3.1+fp8", "-x-", f"{long_name}-production", f"{long_name}-staging", "v1/2"):
        assert pattern.match(label_value(text)), text
    # Long values stay unique: they keep a hash of the whole.
    assert label_value(f"{long_name}-production") != label_value(f"{long_name}-staging")
    assert release_labels("m", "prod", "v1") == {INSTANCE_LABEL: "m-prod", VERSION_LABEL: "v1"}


def test_a_catalog_version_that_is_not_a_label_value_is_a_located_error():
    (line,) = problems(
        """
        version: 1
        models:
          m:
            runtime: tensorflow-serving
            version: "3.1 final"
            weights: {uri: "s3://b/m/"}
            resources: {cpu: "1", memory: 1Gi}
        """
    )
    assert line.startswith("models.yaml:5:14: models.m.version:") and "a Kubernetes label value" in line
