"""check-manifests: checkov results on an image the render cannot know are reported, not failed."""

from __future__ import annotations

import json
import stat
import sys

from mlserve.manifest_checks import run_checkov
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
