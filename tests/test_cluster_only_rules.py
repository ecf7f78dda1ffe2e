"""Mistakes that used to pass every offline check and fail only in the cluster (the rest are bad-input cases under
tests/bad_inputs/: duplicate public routes, time zones, cron schedules, null typos in overrides)."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from mlserve.__main__ import EXIT_INVALID, main
from mlserve.manifest_checks import api_server_rules
from model_catalog.schema import MODEL_NAME_MAX
from tests.helpers import ROOT, read_yaml


def project_with_long_names(tmp_path):
    """The real project with every model renamed to a name of the longest length allowed."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml", "Pulumi.e2e.yaml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "images", project / "images")
    text = (ROOT / "models.yaml").read_text(encoding="utf-8")
    for name in yaml.safe_load(text)["models"]:
        long_name = (name + "-" + "x" * MODEL_NAME_MAX)[:MODEL_NAME_MAX]
        text = re.sub(rf"(?m)^  {re.escape(name)}:", f"  {long_name}:", text)
    (project / "models.yaml").write_text(text, encoding="utf-8")
    return project


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_derived_name_fits_its_kubernetes_limit_for_the_longest_model_name(stack, tmp_path):
    project = project_with_long_names(tmp_path)
    out = tmp_path / "out"
    assert main(["render", "--stack", stack, "--project-dir", str(project), "--out", str(out)]) == 0
    objects = [read_yaml(p) for p in sorted((out / "manifests").glob("*.yaml"))]
    longest = max(len(o["metadata"]["name"]) for o in objects)
    assert longest >= MODEL_NAME_MAX  # the long names did reach the objects
    assert [(o["kind"], e) for o in objects for e in api_server_rules(o)] == []


def test_validate_and_render_read_the_ambient_pulumi_config_alike(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PULUMI_CONFIG", '{"ml-serving:netwrok": "{}"}')
    expected = "$PULUMI_CONFIG:1:1: ml-serving:netwrok: unknown setting 'ml-serving:netwrok'; did you mean 'network'?"
    assert main(["validate", "--stack", "dev"]) == EXIT_INVALID
    assert capsys.readouterr().err.startswith(expected)
    assert main(["render", "--stack", "dev", "--out", str(tmp_path / "out")]) == EXIT_INVALID
    assert capsys.readouterr().err.startswith(expected)
    assert not (tmp_path / "out").exists()


def test_a_malformed_ambient_pulumi_config_is_a_located_error(monkeypatch, capsys):
    monkeypatch.setenv("PULUMI_CONFIG", "[" * 100000)
    assert main(["validate", "--stack", "dev"]) == EXIT_INVALID
    assert capsys.readouterr().err.startswith("$PULUMI_CONFIG:1:1: not valid JSON")
