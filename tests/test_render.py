"""The offline render: golden output per stack, byte-identical reruns, catalog order irrelevant."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlserve.__main__ import main
from mlserve.render import render
from tests.helpers import ROOT, STACKS, read_yaml

GOLDEN = ROOT / "tests" / "golden"


def tree(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def tree_changes(actual: Path, expected: Path) -> tuple[list[str], list[str], list[str]]:
    """Files only in ``actual`` (added), only in ``expected`` (removed), and in both with other bytes (changed)."""
    got, want = tree(actual), tree(expected)
    added = sorted(set(got) - set(want))
    removed = sorted(set(want) - set(got))
    changed = sorted(name for name in set(got) & set(want) if got[name] != want[name])
    return added, removed, changed


def changes_report(actual: Path, expected: Path, what: str, advice: str) -> str | None:
    """A short report a reviewer can act on: which files were added, removed or changed, and what to do; None when
    the trees are byte-identical. Names only (the diff itself is `git diff` after `make golden`, or `make diff`)."""
    added, removed, changed = tree_changes(actual, expected)
    if not (added or removed or changed):
        return None
    lines = [f"{what}: {len(added)} added, {len(removed)} removed, {len(changed)} changed"]
    for label, names in (("added", added), ("removed", removed), ("changed", changed)):
        lines += [f"  {label:<8}{name}" for name in names]
    lines.append(advice)
    return "\n".join(lines)


GOLDEN_ADVICE = (
    "If the change is intended: run `make golden`, review `git diff tests/golden` (or `make diff STACK=<stack> "
    "BASE=main`) and commit it with the change."
)


def assert_same_tree(actual: Path, expected: Path, stack: str) -> None:
    report = changes_report(
        actual, expected, f"the render of stack '{stack}' differs from tests/golden/{stack}", GOLDEN_ADVICE
    )
    if report:
        pytest.fail(report, pytrace=False)


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_renders_exactly_its_golden_files(stack, tmp_path):
    render(ROOT, stack, tmp_path / stack)
    assert_same_tree(tmp_path / stack, GOLDEN / stack, stack)


def test_rendering_twice_gives_identical_bytes(tmp_path):
    render(ROOT, "prod", tmp_path / "a")
    render(ROOT, "prod", tmp_path / "b")
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def shuffled(value, rng: random.Random):
    """The same YAML data with every mapping's keys in a different order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: shuffled(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


@pytest.mark.parametrize("stack", STACKS)
def test_reordering_the_catalog_changes_nothing(stack, tmp_path):
    data = read_yaml(ROOT / "models.yaml")
    data["models"] = dict(reversed(list(data["models"].items())))
    reordered = tmp_path / "models.yaml"
    reordered.write_text(yaml.safe_dump(shuffled(data, random.Random(7)), sort_keys=False), encoding="utf-8")
    assert list(read_yaml(reordered)["models"]) != list(read_yaml(ROOT / "models.yaml")["models"])
    # Two renders of this commit, not the goldens: a catalog change that is not yet in tests/golden fails the golden
    # test above, not this one.
    render(ROOT, stack, tmp_path / "original", str(ROOT / "models.yaml"))
    render(ROOT, stack, tmp_path / "reordered", str(reordered))
    report = changes_report(
        tmp_path / "reordered",
        tmp_path / "original",
        f"reordering the catalog changed the render of '{stack}'",
        "Object names and contents must not depend on catalog order (sort where the program iterates).",
    )
    assert report is None, report


def test_the_cli_writes_manifests_and_resources_json(tmp_path, capsys):
    assert main(["render", "--stack", "staging", "--out", str(tmp_path / "out")]) == 0
    assert "rendered stack 'staging':" in capsys.readouterr().out
    document = json.loads((tmp_path / "out" / "resources.json").read_text())
    assert document["stack"] == "staging"
    assert document["outputs"]["namespace"] == "ml-staging"
    by_type = {r["type"] for r in document["resources"]}
    assert {"ml-serving:models:ModelService", "kubernetes:apps/v1:Deployment", "pulumi:providers:kubernetes"} <= by_type
    deployment = next(r for r in document["resources"] if r["name"] == "resnet50-deployment")
    assert deployment["parent"] == "urn:pulumi:staging::ml-serving::ml-serving:models:ModelService::resnet50"
    assert deployment["provider"] == "urn:pulumi:staging::ml-serving::pulumi:providers:kubernetes::kubernetes"


def test_manifest_files_are_named_by_namespace_kind_and_name(tmp_path):
    render(ROOT, "dev", tmp_path)
    names = {p.name for p in (tmp_path / "manifests").iterdir()}
    assert "_cluster--namespace--ml-dev.yaml" in names
    assert "ml-dev--deployment--resnet50.yaml" in names
    for path in (tmp_path / "manifests").iterdir():
        obj = read_yaml(path)
        namespace = obj["metadata"].get("namespace", "_cluster")
        assert path.name == f"{namespace}--{obj['kind'].lower()}--{obj['metadata']['name']}.yaml"


def test_numbers_come_out_as_integers_not_floats(tmp_path):
    render(ROOT, "dev", tmp_path)
    text = (tmp_path / "manifests" / "ml-dev--deployment--resnet50.yaml").read_text()
    assert "containerPort: 8501\n" in text and "8501.0" not in text


def test_a_rerender_removes_objects_that_no_longer_exist(tmp_path):
    out = tmp_path / "out"
    render(ROOT, "staging", out)
    stale = out / "manifests" / "ml-staging--deployment--gone.yaml"
    stale.write_text("kind: Deployment\n")
    render(ROOT, "staging", out)
    assert not stale.exists()


@pytest.fixture(scope="module")
def fresh_render_all(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """`python -m mlserve render --all`, run once for the two tests below: in a new process, in a new directory
    holding the repository's files alone (no build/, no caches, no state); every stack renders in its own child
    process (`mlserve render --stack`). Returns the finished process and the output directory. (The two tests are
    neighbours: pytest-xdist's load scheduling hands neighbouring tests to the same worker, as a rule.)"""
    base = tmp_path_factory.mktemp("fresh")
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    checkout = base / "checkout"
    for name in files.stdout.splitlines():
        if name.startswith("tests/") or not (ROOT / name).is_file():
            continue
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, checkout / name)
    out = base / "out"
    result = subprocess.run(
        [sys.executable, "-m", "mlserve", "render", "--all", "--out", str(out)],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout), "MLSERVE_PROGRESS": "0"},
        capture_output=True,
        text=True,
        check=False,
    )
    return result, out


def test_a_fresh_checkout_renders_exactly_the_golden_files(fresh_render_all):
    """The rebuild reproduces the environment: the repository's files alone (no build/, no caches, no state), in a
    new directory and new processes, render every stack to exactly the committed goldens."""
    result, out = fresh_render_all
    assert result.returncode == 0, result.stderr
    for stack in STACKS:
        assert_same_tree(out / stack, GOLDEN / stack, stack)


def test_render_all_renders_every_stack_in_parallel_as_the_goldens(fresh_render_all):
    result, directory = fresh_render_all
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for stack in ("dev", "staging", "prod"):
        assert f"rendered stack '{stack}'" in out
        golden = ROOT / "tests" / "golden" / stack
        rendered = directory / stack
        names = sorted(p.relative_to(golden) for p in golden.rglob("*") if p.is_file())
        assert names == sorted(p.relative_to(rendered) for p in rendered.rglob("*") if p.is_file())
        assert all((rendered / n).read_bytes() == (golden / n).read_bytes() for n in names)


NEW_MODEL = """
  # A second image classifier, internal only.
  resnet101:
    runtime: tensorflow-serving
    weights:
      uri: s3://acme-ml-models/resnet101/savedmodel/
      sizeGiB: 0.3
    resources:
      cpu: "2"
      memory: 4Gi
    scaling: {minReplicas: 2, maxReplicas: 4}
"""


def test_adding_a_model_changes_its_manifests_and_only_its_entries_in_resources_json(tmp_path):
    catalog = tmp_path / "models.yaml"
    catalog.write_text((ROOT / "models.yaml").read_text(encoding="utf-8") + NEW_MODEL, encoding="utf-8")
    render(ROOT, "prod", tmp_path / "out", str(catalog))
    report = changes_report(tmp_path / "out", GOLDEN / "prod", "prod", GOLDEN_ADVICE)
    assert report is not None and "`make golden`" in report
    added, removed, changed = tree_changes(tmp_path / "out", GOLDEN / "prod")
    assert "manifests/ml-prod--deployment--resnet101.yaml" in added and removed == []
    assert all("resnet101" in name for name in added)
    assert [n for n in changed if "resnet101" not in n] == [
        "manifests/ml-prod-monitoring--configmap--ml-serving-overview.yaml",  # the fleet dashboard lists every model
        "resources.json",
    ]
    assert "  added   manifests/ml-prod--deployment--resnet101.yaml" in report
    # resources.json: the model's Kubernetes objects name their manifest instead of repeating it.
    old = {r["urn"] for r in json.loads((GOLDEN / "prod" / "resources.json").read_text())["resources"]}
    new = [r for r in json.loads((tmp_path / "out" / "resources.json").read_text())["resources"] if r["urn"] not in old]
    kubernetes = [r for r in new if r["custom"]]
    assert kubernetes and all("inputs" not in r and r["manifest"].startswith("manifests/") for r in kubernetes)
    assert {r["manifest"] for r in kubernetes} == {f"manifests/{n.split('/', 1)[1]}" for n in added}


def test_render_all_takes_no_single_stack_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["render", "--all", "--stack", "prod"])
    assert info.value.code == 2
    assert "drop --stack" in capsys.readouterr().err
