"""The offline validator: what it leaves out, and that it still catches what it must."""

from __future__ import annotations

from mlserve.manifest_checks import validate_manifests, without_deploy_time_fields
from mlserve.output import to_yaml

SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "grafana-admin", "namespace": "monitoring"},
    "type": "Opaque",
    "stringData": "[secret]",
}


def test_a_field_the_render_could_only_mark_secret_or_unknown_is_left_out_of_validation():
    assert without_deploy_time_fields(SECRET) == {k: v for k, v in SECRET.items() if k != "stringData"}
    assert without_deploy_time_fields({**SECRET, "stringData": "[unknown]"}) == without_deploy_time_fields(SECRET)


def test_everything_else_of_that_object_is_still_validated(tmp_path):
    (tmp_path / "ok.yaml").write_text(to_yaml(SECRET))
    (tmp_path / "bad.yaml").write_text(to_yaml({**SECRET, "metadata": {**SECRET["metadata"], "name": "b"}, "typo": 1}))
    report = validate_manifests(tmp_path, minors=("1.33",))
    assert report.checked == 2
    assert len(report.errors) == 1 and report.errors[0].startswith("bad.yaml (Kubernetes 1.33):")
