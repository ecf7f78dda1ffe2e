"""A render split across processes (``mlserve render --jobs N``, mlserve/shards.py) writes the same bytes as one
process: a generated fleet, the project's prod catalog and a team stack, split 2 and 3 ways; shares that disagree
are a reported bug, never a silently different render; a share's failure is the render's failure, nothing
written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from mlserve import shards
from mlserve.__main__ import EXIT_INVALID, main
from mlserve.fleet import fleet
from mlserve.render import render
from tests.helpers import ROOT

FLEET_MODELS = 18


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet(FLEET_MODELS), sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def single(catalog: Path, tmp_path_factory) -> tuple[dict[str, bytes], list[str]]:
    out = tmp_path_factory.mktemp("single") / "out"
    summary = render(ROOT, "prod", out, str(catalog), progress=False)
    return tree(out), summary.lines("prod")


def test_a_split_render_writes_the_bytes_of_one_process(catalog, single, tmp_path):
    files, lines = single
    summary = render(ROOT, "prod", tmp_path / "out", str(catalog), progress=False, processes=3)
    assert tree(tmp_path / "out") == files
    # The same counts by kind and type (each shared resource once); only the output folder's line differs.
    assert [line for line in summary.lines("prod") if "->" not in line] == [line for line in lines if "->" not in line]
    assert summary.phases["shares_s"] > 0


def test_the_projects_prod_catalog_split_is_its_single_render(tmp_path):
    """The project's prod catalog with a second built model (a per-model output of the stack: built images)."""
    document = yaml.safe_load((ROOT / "models.yaml").read_text(encoding="utf-8"))
    document["models"]["churn-predictor-b"] = document["models"]["churn-predictor"]
    catalog = tmp_path / "models.yaml"
    catalog.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    render(ROOT, "prod", tmp_path / "one", str(catalog), progress=False)
    render(ROOT, "prod", tmp_path / "two", str(catalog), progress=False, processes=2)
    assert tree(tmp_path / "two") == tree(tmp_path / "one")
    outputs = json.loads((tmp_path / "one" / "resources.json").read_text(encoding="utf-8"))["outputs"]
    assert sorted(outputs["images"]) == ["churn-predictor", "churn-predictor-b"]
    models = sorted(document["models"])
    assert shards.shard_models(models, 0, 2) != shards.shard_models(models, 1, 2)
    assert {m for m in outputs["images"] if m in shards.shard_models(models, 0, 2)} == {"churn-predictor"}


def test_a_team_stack_split_is_its_single_render(tmp_path):
    example = ROOT / "examples" / "team-stacks"
    project = tmp_path / "project"
    shutil.copytree(example, project)
    shutil.copy2(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    render(project, "prod-nlp", tmp_path / "one", progress=False)
    render(project, "prod-nlp", tmp_path / "two", progress=False, processes=2)
    assert tree(tmp_path / "two") == tree(tmp_path / "one")


def test_the_cli_splits_by_jobs_into_the_bytes_of_one_process(catalog, single, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MLSERVE_PROGRESS", "0")
    timings = tmp_path / "timings.json"
    argv = ["render", "--stack", "prod", "--catalog", str(catalog), "--out", str(tmp_path / "out")]
    assert main([*argv, "--jobs", "2", "--timings", str(timings)]) == 0
    assert tree(tmp_path / "out") == single[0]
    recorded = json.loads(timings.read_text(encoding="utf-8"))
    assert recorded["processes"] == 2
    assert recorded["resources"] == json.loads(single[0]["resources.json"])["resources"].__len__()
    # Both processes' peaks together, and more than either alone would be.
    assert recorded["peak_rss_mb"] > 100
    assert "rendered stack 'prod'" in capsys.readouterr().out


def test_a_failing_share_is_the_renders_failure_and_nothing_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MLSERVE_PROGRESS", "0")
    document = fleet(4)
    name = sorted(document["models"])[1]
    document["models"][name]["scaling"]["maxReplicas"] = "many"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    argv = ["render", "--stack", "prod", "--catalog", str(bad)]
    assert main([*argv, "--out", str(tmp_path / "one"), "--jobs", "1"]) == EXIT_INVALID
    one = capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "two"), "--jobs", "2"]) == EXIT_INVALID
    two = capsys.readouterr().err
    assert "maxReplicas" in one and "Traceback" not in two
    assert two == one
    assert not (tmp_path / "one").exists() and not (tmp_path / "two").exists()


def test_the_shard_option_is_checked(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["render", "--stack", "prod", "--shard", "2/2"])
    assert exc.value.code == EXIT_INVALID
    assert "--shard must be K/N with 0 <= K < N, not '2/2'" in capsys.readouterr().err


def test_processes_by_default_are_the_cpus_at_most_one_per_250_models(monkeypatch):
    monkeypatch.setattr(shards.os, "cpu_count", lambda: 2)
    assert shards.shard_count(10, None) == 1
    assert shards.shard_count(499, None) == 1
    assert shards.shard_count(500, None) == 2
    assert shards.shard_count(5000, None) == 2
    assert shards.shard_count(5000, 1) == 1
    assert shards.shard_count(3, 8) == 3
    monkeypatch.setattr(shards.os, "cpu_count", lambda: 8)
    assert shards.shard_count(1000, None) == 4


def test_every_model_is_in_exactly_one_share():
    models = [f"m{i:03}" for i in range(101)]
    parts = [shards.shard_models(models, k, 3) for k in range(3)]
    assert set().union(*parts) == set(models)
    assert sum(len(p) for p in parts) == len(models)
    assert sorted(len(p) for p in parts) == [33, 34, 34]


def write_share(folder: Path, entries: list[dict], outputs: dict, manifests: dict[str, str]) -> Path:
    (folder / "manifests").mkdir(parents=True)
    document = {"stack": "prod", "outputs": outputs, "resources": entries}
    (folder / "resources.json").write_text(json.dumps(document), encoding="utf-8")
    for name, text in manifests.items():
        (folder / name).write_text(text, encoding="utf-8")
    objects = {e["urn"]: "ConfigMap" for e in entries if "manifest" in e}
    (folder / shards.SHARD_FILE).write_text(json.dumps({"objects": objects, "others": {}, "notes": []}))
    return folder


def entry(urn: str, manifest: str | None = None, **fields) -> dict:
    found = {"urn": urn, "type": "kubernetes:core/v1:ConfigMap", "name": urn, "parent": None, "custom": True}
    return {**found, **fields, **({"manifest": manifest} if manifest else {})}


def test_shares_merge_sorted_by_urn_with_shared_resources_once(tmp_path):
    shared = entry("urn:b", "manifests/b.yaml")
    a = write_share(
        tmp_path / "0",
        [entry("urn:a", "manifests/a.yaml"), shared],
        {"images": {"m1": "x"}, "models": ["m1", "m2"]},
        {"manifests/a.yaml": "a\n", "manifests/b.yaml": "b\n"},
    )
    c = write_share(
        tmp_path / "1",
        [shared, entry("urn:c", "manifests/c.yaml")],
        {"images": {"m2": "y"}, "models": ["m1", "m2"]},
        {"manifests/b.yaml": "b\n", "manifests/c.yaml": "c\n"},
    )
    merged = shards.merge("prod", [a, c])
    document = json.loads(merged.resources_json)
    assert [e["urn"] for e in document["resources"]] == ["urn:a", "urn:b", "urn:c"]
    assert document["outputs"] == {"images": {"m1": "x", "m2": "y"}, "models": ["m1", "m2"]}
    assert list(merged.manifests) == ["manifests/a.yaml", "manifests/b.yaml", "manifests/c.yaml"]
    assert merged.resources == 3 and merged.objects == {"ConfigMap": 3}
    assert merged.manifests["manifests/b.yaml"] == a / "manifests/b.yaml"


@pytest.mark.parametrize(
    ("second_entries", "second_outputs", "second_files", "message"),
    [
        ([entry("urn:b", "manifests/b.yaml", parent="urn:x")], {}, {"manifests/b.yaml": "b\n"}, "recorded urn:b"),
        ([entry("urn:b", "manifests/b.yaml")], {}, {"manifests/b.yaml": "B\n"}, "wrote different manifests/b.yaml"),
        ([entry("urn:z", "manifests/b.yaml")], {}, {"manifests/b.yaml": "b\n"}, "two objects render to"),
        ([], {"namespace": "other"}, {}, "disagree on outputs.namespace"),
    ],
)
def test_shares_that_disagree_are_a_reported_bug(tmp_path, second_entries, second_outputs, second_files, message):
    first = write_share(
        tmp_path / "0", [entry("urn:b", "manifests/b.yaml")], {"namespace": "ml"}, {"manifests/b.yaml": "b\n"}
    )
    second = write_share(tmp_path / "1", second_entries, {"namespace": "ml", **second_outputs}, second_files)
    with pytest.raises(RuntimeError, match=message):
        shards.merge("prod", [first, second])
