"""ModelImage under mocks: the Deployment runs exactly the built image, whose reference changes exactly when the
build context or a build input does."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from components.build_context import content_tag
from model_catalog.schema import ImageBuild
from tests.helpers import ROOT, render_objects, run_catalog

CONTEXT = "images/churn-predictor"
CATALOG = """
models:
  churn:
    runtime: custom
    image:
      build:
        context: images/churn-predictor
        args: {MODEL_VERSION: "%s"}
    weights: {baked: true}
    server: {port: 8080}
    resources: {cpu: 500m, memory: 512Mi}
"""


def project(tmp_path: Path) -> Path:
    """A project directory holding a copy of the churn-predictor build context."""
    root = tmp_path / "project"
    shutil.copytree(ROOT / CONTEXT, root / CONTEXT)
    return root


def image_ref(tmp_path: Path, root: Path, version: str = "1") -> str:
    run = run_catalog(tmp_path, CATALOG % version, project_dir=root)
    return render_objects(run)[("Deployment", "churn")]["spec"]["template"]["spec"]["containers"][0]["image"]


def registration(run, name: str):
    (reg,) = [r for r in run.registrations if r.name == name]
    return reg


def test_the_deployment_runs_the_image_the_program_builds(tmp_path):
    run = run_catalog(tmp_path, CATALOG % "1")
    image = registration(run, "churn-image")
    container = render_objects(run)[("Deployment", "churn")]["spec"]["template"]["spec"]["containers"][0]
    tag = content_tag(ROOT, ImageBuild.model_validate({"context": CONTEXT, "args": {"MODEL_VERSION": "1"}}))
    assert container["image"] == image.inputs["imageName"] == f"ml-serving.local/churn:{tag}"
    assert image.urn in registration(run, "churn-deployment").dependencies


def test_the_build_uses_the_catalogs_context_dockerfile_and_arguments_and_never_runs_on_preview(tmp_path):
    inputs = registration(run_catalog(tmp_path, CATALOG % "2026.11"), "churn-image").inputs
    assert inputs["build"] == {
        "context": CONTEXT,
        "dockerfile": f"{CONTEXT}/Dockerfile",
        "args": {"MODEL_VERSION": "2026.11"},
        "platform": "linux/amd64",
    }
    assert inputs["buildOnPreview"] is False


def test_touching_nothing_keeps_the_reference(tmp_path):
    root = project(tmp_path)
    before = image_ref(tmp_path, root)
    for path in (root / CONTEXT).iterdir():
        os.utime(path, (1, 1))  # new mtimes, same content: still the same image
    assert image_ref(tmp_path, root) == before


def test_changing_a_file_in_the_build_context_changes_the_reference(tmp_path):
    root = project(tmp_path)
    before = image_ref(tmp_path, root)
    model = root / CONTEXT / "model.json"
    model.write_text(model.read_text().replace('"intercept"', '"intercept" ', 1))
    after = image_ref(tmp_path, root)
    assert after != before and after.startswith("ml-serving.local/churn:ctx-")


def test_a_file_the_dockerignore_excludes_does_not_change_the_reference(tmp_path):
    root = project(tmp_path)
    before = image_ref(tmp_path, root)
    (root / CONTEXT / "NOTES.md").write_text("not sent to the builder\n")
    assert image_ref(tmp_path, root) == before


def test_changing_a_build_argument_changes_the_reference(tmp_path):
    root = project(tmp_path)
    assert image_ref(tmp_path, root, "1") != image_ref(tmp_path, root, "2")
