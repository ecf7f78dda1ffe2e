"""Images in the real stacks' renders: one build and one repository per built model, Deployments running exactly
those images, dev without any cloud account, and no registry secret anywhere under the output directory."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from components.build_context import content_tag
from components.registry import PULL_SECRET_NAME, repository_address
from mlserve.__main__ import main
from mlserve.mock_runtime import SECRET_PLACEHOLDER
from mlserve.render import run_stack
from tests.helpers import ROOT, render_objects

CIPHERTEXT = "v1:Zm9vYmFyYmF6cXV4:dGhpcyBpcyBub3QgYSByZWFsIGNpcGhlcnRleHQ="


def built_models(run):
    env = run.environment
    return {name: spec for name, spec in env.models.items() if spec.image is not None and spec.image.build is not None}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_each_built_model_gets_one_image_build_and_one_repository_and_its_deployment_runs_it(stack):
    """The stack output `images` names the same reference (what `kind load` or a scanner needs)."""
    run = run_stack(ROOT, stack)
    built = built_models(run)
    assert built, "the catalog builds at least one model"
    settings = run.environment.settings
    images = {r.name: r for r in run.registrations if r.type == "docker:index/image:Image"}
    repositories = {r.inputs["name"] for r in run.registrations if r.type == "aws:ecr/repository:Repository"}
    assert sorted(images) == sorted(f"{model}-image" for model in built)
    assert repositories == {f"{settings.environment.namespace}/{model}" for model in built}
    objects = render_objects(run)
    for model, spec in built.items():
        expected = f"{repository_address(settings, model)}:{content_tag(ROOT, spec.image.build)}"
        assert images[f"{model}-image"].inputs["imageName"] == expected
        assert objects[("Deployment", model)]["spec"]["template"]["spec"]["containers"][0]["image"] == expected
        assert run.outputs["images"][model] == expected


def test_dev_renders_without_a_cloud_account_or_registry_credentials():
    run = run_stack(ROOT, "dev")
    types = {r.type for r in run.registrations}
    assert not {t for t in types if t.startswith(("aws:", "pulumi:providers:aws"))}
    for image in (r for r in run.registrations if r.type == "docker:index/image:Image"):
        assert image.inputs["skipPush"] is True and "registry" not in image.inputs


def test_no_registry_secret_appears_anywhere_under_the_output_directory(tmp_path, capsys):
    """A staging stack on an external registry with its password set the way `pulumi config set --secret` does."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("models.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.e2e.yaml"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "images", project / "images")
    stack = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())
    stack["config"]["ml-serving:registry"] = {
        "type": "external",
        "address": "registry.example.com/ml",
        "username": "robot-ml",
    }
    stack["config"]["ml-serving:registryPassword"] = {"secure": CIPHERTEXT}
    (project / "Pulumi.staging.yaml").write_text(yaml.safe_dump(stack))
    out = tmp_path / "out"
    assert main(["render", "--stack", "staging", "--out", str(out), "--project-dir", str(project)]) == 0
    assert f"ml-staging--secret--{PULL_SECRET_NAME}.yaml" in {p.name for p in (out / "manifests").iterdir()}
    document = json.loads((out / "resources.json").read_text())
    (image,) = [r for r in document["resources"] if r["type"] == "docker:index/image:Image"]
    assert image["inputs"]["registry"]["password"] == "[secret]"
    for path in (p for p in out.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        assert CIPHERTEXT not in text and SECRET_PLACEHOLDER not in text, path
    assert CIPHERTEXT not in capsys.readouterr().out


def test_the_render_summary_counts_what_is_not_in_the_manifests(tmp_path, capsys):
    assert main(["render", "--stack", "prod", "--out", str(tmp_path / "out")]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  and ")]
    counted = dict(reversed(item.split(" ", 1)) for item in line.removeprefix("  and ").split(", "))
    assert counted["aws:ecr/repository:Repository"] == "1" and counted["docker:index/image:Image"] == "1"
    assert counted["aws:ecr/lifecyclePolicy:LifecyclePolicy"] == "1"
    assert counted["kubernetes:helm.sh/v4:Chart"] == "4"  # device plugin, kube-prometheus-stack, KEDA, DCGM exporter
