"""check-manifests: what the offline validator leaves out and still catches, and checkov results on an image the
render cannot know (reported, not failed)."""

from __future__ import annotations

import json
import stat
import sys

import kubernetes_validate
import pytest
from kubernetes_validate.utils import SchemaNotFoundError

from mlserve.manifest_checks import run_checkov, validate_builtin, validate_manifests
from mlserve.output import to_yaml


def deployment(image: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "m", "namespace": "ns"},
        "spec": {"template": {"spec": {"containers": [{"name": "server", "image": image}]}}},
    }


def fake_checkov(tmp_path, failed: list[tuple[str, str]]):
    """An executable that prints checkov's JSON report with the given (check, file) failures."""
    report = {
        "results": {
            "failed_checks": [
                {
                    "check_id": check,
                    "check_name": check.lower(),
                    "resource": f"Deployment.ns.{file}",
                    "file_path": f"/{file}",
                }
                for check, file in failed
            ]
        },
        "summary": {"passed": 7},
    }
    script = tmp_path / "checkov"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nsys.stdout.write({json.dumps(json.dumps(report))})\nsys.exit(1)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_image_checks_on_an_image_known_only_after_the_push_are_not_evaluable_offline(tmp_path):
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "unknown.yaml").write_text(to_yaml(deployment("[unknown]")))
    (manifests / "tagged.yaml").write_text(to_yaml(deployment("r.example.com/m:1.0")))
    checkov = fake_checkov(
        tmp_path, [("CKV_K8S_43", "unknown.yaml"), ("CKV_K8S_20", "unknown.yaml"), ("CKV_K8S_43", "tagged.yaml")]
    )
    report = run_checkov(manifests, checkov)
    assert report.failed == [
        "CKV_K8S_20 Deployment.ns.unknown.yaml: ckv_k8s_20",
        "CKV_K8S_43 Deployment.ns.tagged.yaml: ckv_k8s_43",
    ]
    assert report.unknown == ["CKV_K8S_43 Deployment.ns.unknown.yaml: ckv_k8s_43 (image known only after the push)"]
    assert report.passed == 7


SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "grafana-admin", "namespace": "monitoring"},
    "type": "Opaque",
    "stringData": {"admin-password": "[secret]", "admin-user": "[secret]"},
}


def test_a_masked_secret_is_validated_whole_and_a_masked_string_in_place_of_its_map_is_an_error(tmp_path):
    (tmp_path / "ok.yaml").write_text(to_yaml(SECRET))
    (tmp_path / "flat.yaml").write_text(to_yaml({**SECRET, "stringData": "[secret]"}))
    report = validate_manifests(tmp_path, minors=("1.33",))
    assert report.checked == 2
    assert len(report.errors) == 1 and report.errors[0].startswith("flat.yaml (Kubernetes 1.33): stringData:")


def test_every_field_of_a_secret_is_validated(tmp_path):
    (tmp_path / "ok.yaml").write_text(to_yaml(SECRET))
    (tmp_path / "bad.yaml").write_text(to_yaml({**SECRET, "metadata": {**SECRET["metadata"], "name": "b"}, "typo": 1}))
    report = validate_manifests(tmp_path, minors=("1.33",))
    assert report.checked == 2
    assert len(report.errors) == 1 and report.errors[0].startswith("bad.yaml (Kubernetes 1.33):")


def outcome(check, *args):
    """What a strict check says about an object: valid, no schema (and the message), or the error's path, message
    and the minor of the schemas it used."""
    try:
        check(*args)
    except SchemaNotFoundError as exc:
        return ("no schema", exc.message)
    except kubernetes_validate.ValidationError as exc:
        return ("invalid", list(exc.absolute_path), exc.message, exc.version)
    return "valid"


@pytest.mark.parametrize(
    "obj",
    [
        SECRET,
        {**SECRET, "stringData": "[secret]"},
        {**SECRET, "typo": 1},
        deployment("r.example.com/m:1.0"),
        {**deployment("r.example.com/m:1.0"), "spec": {"replicas": "two", "template": {}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "n"}, "spec": {}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": 1}, "spec": {"x": 1}},
        {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "s"}},
    ],
)
@pytest.mark.parametrize("minor", ["1.31", "1.35"])
def test_the_reused_validator_judges_as_kubernetes_validate_does(obj, minor):
    """validate_builtin builds each (minor, apiVersion, kind) validator once per process; it must say what a fresh
    `kubernetes_validate.validate(..., strict=True)` says: the same verdict, error path, message and version."""
    expected = outcome(kubernetes_validate.validate, obj, f"{minor}.0", True)
    assert outcome(validate_builtin, obj, minor) == expected
    assert outcome(validate_builtin, obj, minor) == expected  # again, from the cached validator
