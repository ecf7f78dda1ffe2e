"""The dev path: the committed kind cluster, `make dev-cluster`, `make dev-images`, the README's steps in that order,
and a dev profile that fits the laptop budget. Docker and kind do not run here: the tests check what the targets
would run, never a faked result."""

from __future__ import annotations

import re
import subprocess

import yaml

from mlserve.__main__ import main
from mlserve.dev_images import image_commands
from mlserve.render import validate
from model_catalog.quantities import byte_count, cpu_millicores
from platform_data import pins
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
KIND = yaml.safe_load((ROOT / "dev" / "kind-cluster.yaml").read_text(encoding="utf-8"))


def test_the_kind_cluster_is_the_one_the_dev_stack_deploys_to():
    env = validate(ROOT, "dev")
    assert env.settings.cluster.context == f"kind-{KIND['name']}"
    (node,) = KIND["nodes"]
    assert node["image"] == pins.KIND_NODE_IMAGE
    assert pins.KIND_NODE_IMAGE.startswith(f"kindest/node:v{env.settings.cluster.kubernetes_version}.")


def test_make_targets_run_the_committed_script_and_the_cli():
    dry = subprocess.run(["make", "-n", "dev-cluster", "dev-images"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "bash dev/cluster.sh" in dry.stdout
    assert "mlserve dev-images --stack dev" in dry.stdout
    script = (ROOT / "dev" / "cluster.sh").read_text(encoding="utf-8")
    assert "kind create cluster --config dev/kind-cluster.yaml" in script
    assert f"METRICS_SERVER_VERSION={pins.METRICS_SERVER_VERSION}" in script
    assert subprocess.run(["bash", "-n", str(ROOT / "dev" / "cluster.sh")]).returncode == 0


def test_dev_images_builds_exactly_the_references_the_stack_renders(capsys):
    env = validate(ROOT, "dev")
    commands = image_commands(env)
    built = {m for m, s in env.models.items() if s.image is not None and s.image.build is not None}
    assert len(commands) == 2 * len(built) > 0
    from mlserve.render import run_stack

    rendered = run_stack(ROOT, "dev").outputs["images"]
    for model in built:
        ref = rendered[model]
        assert ["kind", "load", "docker-image", ref, "--name", "ml-dev"] in commands
        (build,) = [c for c in commands if c[:2] == ["docker", "build"] and ref in c]
        assert build[-1] == env.models[model].image.build.context
    assert main(["dev-images", "--stack", "dev", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [" ".join(c) for c in commands]


def test_dev_images_refuses_a_stack_that_is_not_on_kind(capsys):
    assert main(["dev-images", "--stack", "prod", "--dry-run"]) == 2
    assert "dev-images loads images into a kind cluster" in capsys.readouterr().err


def test_the_readme_dev_path_is_what_the_targets_run_in_order():
    section = README[README.index("**dev, on your machine") :]
    section = section[: section.index("**staging and prod")]
    steps = re.findall(r"^(make dev-cluster|make dev-images|pulumi up -s dev)\b", section, re.MULTILINE)
    assert steps == ["make dev-cluster", "make dev-images", "pulumi up -s dev"]


def test_the_dev_profile_fits_the_laptop_budget():
    env = validate(ROOT, "dev")
    capacity = env.settings.cluster.capacity
    assert (capacity.cpu, capacity.memory) == ("3", "6Gi")
    cpu = sum(cpu_millicores(s.resources.cpu) * s.scaling.max_replicas for s in env.models.values())
    memory = sum(byte_count(s.resources.memory) * s.scaling.max_replicas for s in env.models.values())
    assert cpu <= 3000 and memory <= 6 * 2**30


def test_dev_images_without_docker_or_kind_says_so_and_builds_nothing(capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["dev-images", "--stack", "dev"]) == 3
    assert "needs docker and kind on PATH (docs/dev.md); nothing was built" in capsys.readouterr().err
