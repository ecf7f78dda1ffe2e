"""End-to-end checks of the golden renders: strict Kubernetes schemas for every supported minor, custom resources
against the upstream CRDs, and every checkov suppression documented. (checkov itself runs in `make check-all`:
it needs its own virtualenv.)"""

from __future__ import annotations

import pytest

from components.suppressions import SUPPRESSIONS
from mlserve.manifest_checks import validate_custom_resource, validate_manifests
from tests.helpers import ROOT, STACKS, read_yaml

GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("stack", STACKS)
def test_every_built_in_object_is_valid_for_kubernetes_1_31_to_1_35(stack):
    report = validate_manifests(GOLDEN / stack / "manifests")
    assert report.checked > 0
    assert report.errors == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_is_valid_against_its_upstream_crd(stack, crds):
    report = validate_manifests(GOLDEN / stack / "manifests")
    assert report.custom > 0 and report.unchecked_custom == [] and report.errors == []


def test_without_crd_schemas_custom_resources_are_listed_unchecked(monkeypatch, tmp_path):
    monkeypatch.setenv("ML_SERVING_CRD_DIR", str(tmp_path / "none"))
    report = validate_manifests(GOLDEN / "prod" / "manifests")
    assert report.unchecked_custom and report.errors == [] and report.custom == 0


def test_the_crd_check_rejects_a_misspelt_field(crds):
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "m", "namespace": "n"},
        "spec": {"selector": {}, "endpoints": [{"port": "http", "intervall": "30s"}]},
    }
    errors = validate_custom_resource(monitor, crds)
    assert errors and "intervall" in errors[0]


def test_a_custom_resource_without_a_crd_is_an_error(crds):
    assert validate_custom_resource({"apiVersion": "example.com/v1", "kind": "Thing"}, crds)


@pytest.mark.parametrize("stack", STACKS)
def test_every_checkov_suppression_in_a_render_is_the_documented_one(stack):
    for path in (GOLDEN / stack / "manifests").glob("*.yaml"):
        annotations = read_yaml(path)["metadata"].get("annotations", {})
        for key, value in annotations.items():
            if key.startswith("checkov.io/skip"):
                check, _, reason = value.partition("=")
                rows = [row for row in SUPPRESSIONS.values() if row.check == check and row.reason == reason]
                assert rows, f"{path.name}: {check}={reason} is not in components/suppressions.py"
                if stack != "dev":
                    assert "dev" not in reason and "local" not in reason, f"{path.name}: a dev reason in {stack}"
