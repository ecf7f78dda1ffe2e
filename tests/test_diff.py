"""`mlserve diff`: per-object changes between two renders, the flags reviewers must not miss, and the command
end to end (a temporary git worktree for the base, always removed; exit 0 / 1 / 2)."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mlserve.__main__ import main
from mlserve.diff import Item, compare, field_changes, format_path, load_side, markdown_report, text_report
from mlserve.render import render
from tests.helpers import ROOT, run_make

CATALOG = (ROOT / "models.yaml").read_text(encoding="utf-8")


def edited(tmp_path: Path, old: str, new: str, name: str = "models.yaml") -> str:
    assert old in CATALOG, old
    path = tmp_path / name
    path.write_text(CATALOG.replace(old, new, 1), encoding="utf-8")
    return str(path)


def without_model(tmp_path: Path, comment: str, next_comment: str) -> str:
    start, end = CATALOG.index(comment), CATALOG.index(next_comment)
    path = tmp_path / "models.yaml"
    path.write_text(CATALOG[:start] + CATALOG[end:], encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def prod_base(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("base") / "prod"
    render(ROOT, "prod", out)
    return out


def changes_against(prod_base: Path, tmp_path: Path, catalog: str):
    render(ROOT, "prod", tmp_path / "head", catalog)
    return compare(load_side(prod_base), load_side(tmp_path / "head"))


def test_the_same_render_has_no_changes(prod_base, tmp_path):
    render(ROOT, "prod", tmp_path / "again")
    assert compare(load_side(prod_base), load_side(tmp_path / "again")) == []


def test_max_replicas_shows_that_field_flagged_capacity(prod_base, tmp_path):
    catalog = edited(
        tmp_path, "      maxReplicas: 4\n      metric: concurrency", "      maxReplicas: 6\n      metric: concurrency"
    )
    changes = changes_against(prod_base, tmp_path, catalog)
    assert {c.item.model for c in changes} == {"llama3-70b"}
    assert all(c.status == "changed" for c in changes)
    (scaler,) = [c for c in changes if c.item.kind == "ScaledObject"]
    assert [(f.path, f.before, f.after, f.flags) for f in scaler.fields] == [
        ("spec.maxReplicaCount", 4, 6, ["capacity"])
    ]
    assert scaler.flags == ["capacity"]
    # What follows from the maximum (the "pinned at max" alert, the dashboard's max line) changes too, unflagged.
    assert {c.item.kind for c in changes} == {"ScaledObject", "PrometheusRule", "ConfigMap"}
    assert not any("deletion" in c.flags or "replacement" in c.flags for c in changes)


def test_deleting_a_model_flags_every_deletion(prod_base, tmp_path):
    catalog = without_model(tmp_path, "  # Text sentiment", "  # Our own Python service")
    changes = changes_against(prod_base, tmp_path, catalog)
    removed = [c for c in changes if c.status == "removed"]
    assert {c.item.label for c in removed} >= {
        "Deployment ml-prod/review-sentiment",
        "Service ml-prod/review-sentiment",
        "ScaledObject ml-prod/review-sentiment",
        "ConfigMap ml-prod-monitoring/dashboard-review-sentiment",
    }
    assert all(c.flags[0] == "deletion" and c.item.model == "review-sentiment" for c in removed)
    assert all(c.item.urn and c.item.urn.startswith("urn:pulumi:prod::ml-serving::") for c in removed)


def test_deleting_a_built_model_flags_its_protected_registry(prod_base, tmp_path):
    text = CATALOG[: CATALOG.index("  # Our own Python service")]
    (tmp_path / "models.yaml").write_text(text, encoding="utf-8")
    catalog = str(tmp_path / "models.yaml")
    changes = changes_against(prod_base, tmp_path, catalog)
    (repo,) = [c for c in changes if c.item.kind == "aws:ecr/repository:Repository"]
    assert repo.status == "removed" and repo.flags == ["deletion", "protected"]
    (image,) = [c for c in changes if c.item.kind == "docker:index/image:Image"]
    assert image.item.model == "churn-predictor" and "deletion" in image.flags


def test_an_image_change_is_one_flagged_field_of_one_deployment(prod_base, tmp_path):
    digest = "sha256:" + "ab" * 32
    catalog = edited(
        tmp_path,
        "    runtime: triton\n",
        f"    runtime: triton\n    image: {{ref: 'nvcr.io/nvidia/tritonserver:25.09-py3@{digest}'}}\n",
    )
    changes = changes_against(prod_base, tmp_path, catalog)
    images = [f for c in changes for f in c.fields if "image" in f.flags]
    assert len(images) == 1
    assert images[0].path == "spec.template.spec.containers[0].image"
    assert images[0].after.endswith(digest)
    (deployment,) = [c for c in changes if "image" in c.flags]
    assert deployment.item.label == "Deployment ml-prod/object-detector"


def _item(kind: str, body: dict, options: dict | None = None) -> Item:
    return Item(key=kind, label=kind, urn=f"urn:{kind}", model="m", body=body, options=options or {}, kind=kind)


@pytest.mark.parametrize(
    ("kind", "before", "after", "options"),
    [
        (
            "Deployment",
            {"spec": {"selector": {"matchLabels": {"a": "1"}}}},
            {"spec": {"selector": {"matchLabels": {"a": "2"}}}},
            {},
        ),
        ("Service", {"spec": {"type": "ClusterIP"}}, {"spec": {"type": "LoadBalancer"}}, {}),
        ("PersistentVolumeClaim", {"spec": {"storageClassName": "a"}}, {"spec": {"storageClassName": "b"}}, {}),
        ("Job", {"spec": {"template": {"spec": {"x": 1}}}}, {"spec": {"template": {"spec": {"x": 2}}}}, {}),
        ("NodePool", {"spec": {"a": 1}}, {"spec": {"a": 2}}, {"replaceOnChanges": ["spec.a"]}),
    ],
)
def test_immutable_fields_are_flagged_as_replacements(kind, before, after, options):
    (change,) = compare({"k": _item(kind, before, options)}, {"k": _item(kind, after, options)})
    assert "replacement" in change.flags


def test_a_mutable_field_is_not_a_replacement():
    before = {"spec": {"replicas": 2, "template": {"metadata": {"labels": {"a": "1"}}}}}
    after = {"spec": {"replicas": 3, "template": {"metadata": {"labels": {"a": "1"}}}}}
    (change,) = compare({"k": _item("Deployment", before)}, {"k": _item("Deployment", after)})
    assert change.flags == ["capacity"]


def test_a_change_to_a_protected_resource_is_flagged():
    options = {"protect": True}
    (change,) = compare({"k": _item("Namespace", {"a": 1}, options)}, {"k": _item("Namespace", {"a": 2}, options)})
    assert change.flags == ["protected"]


def test_paths_name_odd_keys_and_json_inside_text():
    changes = field_changes(
        {"metadata": {"labels": {"app.kubernetes.io/name": "a"}}, "data": {"d.json": '{"panels": [{"x": 1}]}'}},
        {"metadata": {"labels": {"app.kubernetes.io/name": "b"}}, "data": {"d.json": '{"panels": [{"x": 2}]}'}},
    )
    assert [format_path(p) for p, _, _ in changes] == [
        'data["d.json"]{json}.panels[0].x',
        'metadata.labels["app.kubernetes.io/name"]',
    ]


def test_reports_group_by_model_and_markdown_is_collapsible(prod_base, tmp_path):
    from mlserve.diff import StackDiff

    catalog = without_model(tmp_path, "  # Text sentiment", "  # Our own Python service")
    d = StackDiff("prod", "main (abc)", changes_against(prod_base, tmp_path, catalog), {}, {})
    text = text_report([d])
    assert text.startswith("stack 'prod': ")
    group = text.index("  model review-sentiment\n")
    assert text.index("    - Deployment ml-prod/review-sentiment  [deletion]\n") > group
    assert text.index("  (stack-wide)\n    ~ ConfigMap ml-prod-monitoring/ml-serving-overview") > group
    md = markdown_report([d])
    assert "| `prod` |" in md and "<details><summary>- removed <code>Deployment ml-prod/review-sentiment</code>" in md
    assert "**Review before merging:**" in md


# --- the command end to end: a scratch git repository with this project committed ---------------------------------


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """This checkout's tracked files (without tests/) committed into a fresh git repository."""
    if shutil.which("git") is None:
        pytest.fail("git is required for `mlserve diff`")
    target = tmp_path_factory.mktemp("repo")
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    for name in files.stdout.splitlines():
        if name.startswith("tests/") or not (ROOT / name).is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "--quiet", "-b", "main"], cwd=target, check=True)
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "base"], cwd=target, check=True)
    return target


def worktrees(repo: Path) -> list[str]:
    out = subprocess.run(
        ["git", "worktree", "list", "--porcelain"], cwd=repo, capture_output=True, text=True, check=True
    )
    return [line for line in out.stdout.splitlines() if line.startswith("worktree ")]


@contextlib.contextmanager
def catalog_edited(repo: Path, old: str, new: str):
    """The scratch repository's working-tree catalog with one edit, restored afterwards."""
    catalog = repo / "models.yaml"
    original = catalog.read_text(encoding="utf-8")
    try:
        catalog.write_text(original.replace(old, new), encoding="utf-8")
        yield
    finally:
        catalog.write_text(original, encoding="utf-8")


def make_diff(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return run_make(repo, "diff", *args)


def test_the_command_exits_0_without_changes(repo, capsys):
    assert main(["diff", "--project-dir", str(repo), "--stack", "dev", "--base", "HEAD"]) == 0
    assert "stack 'dev': no changes against" in capsys.readouterr().out
    result = make_diff(repo, "STACK=prod", "BASE=HEAD")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [f"stack 'prod': no changes against HEAD ({head(repo)[:12]})"]
    assert len(worktrees(repo)) == 1, "the base worktree was not removed"


def head(repo: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()


def test_make_diff_shows_a_max_replicas_change_with_its_capacity_and_flags_a_deleted_model(repo):
    """The issue's acceptance through `make diff STACK=prod BASE=HEAD`: one model's maximum raised (exactly that
    field flagged, and the GPU plan before and after), another model deleted (every object flagged). mlserve diff
    exits 1; GNU make reports any failing command as its own exit 2, so the last line names mlserve's status."""
    catalog = repo / "models.yaml"
    original = catalog.read_text(encoding="utf-8")
    scaling = "      minReplicas: 2\n      maxReplicas: 4\n      metric: concurrency"
    start, end = original.index("  # Text sentiment"), original.index("  # Our own Python service")
    assert scaling in original
    try:
        catalog.write_text((original[:start] + original[end:]).replace(scaling, scaling.replace(": 4", ": 6")))
        result = make_diff(repo, "STACK=prod", "BASE=HEAD")
    finally:
        catalog.write_text(original, encoding="utf-8")
    assert (result.returncode, result.stderr.splitlines()[0]) == (2, "make diff: changes found (mlserve diff exit 1)")
    out = result.stdout
    summary = out.splitlines()[1]
    assert summary.startswith("stack 'prod': 4 changed, 0 added, 10 removed against HEAD (")
    assert summary.endswith("[review: deletion 10, capacity 1]")
    llama = out[out.index("  model llama3-70b\n") : out.index("  model review-sentiment\n")]
    flagged = [line.strip() for line in llama.splitlines() if "[capacity]" in line]
    assert flagged == ["~ ScaledObject ml-prod/llama3-70b  [capacity]", "spec.maxReplicaCount: 4 -> 6  [capacity]"]
    assert "    nvidia-h100: GPUs at max replicas *: 8 -> 12\n" in out
    group = out[out.index("  model review-sentiment\n") :].split("\n  (stack-wide)\n")[0].splitlines()[1:]
    objects = [line for line in group if line.startswith("    ") and not line.startswith("     ")]
    assert "    - Deployment ml-prod/review-sentiment  [deletion]" in objects
    assert "    - Service ml-prod/review-sentiment  [deletion]" in objects
    assert all(line.startswith("    - ") and line.endswith("[deletion]") for line in objects), objects
    assert len(worktrees(repo)) == 1, "the base worktree was not removed"


def test_the_command_exits_2_on_a_bad_ref_or_stack_or_invalid_catalog(repo, capsys):
    assert main(["diff", "--project-dir", str(repo), "--stack", "dev", "--base", "no-such-ref"]) == 2
    assert "unknown git ref 'no-such-ref'" in capsys.readouterr().err
    assert main(["diff", "--project-dir", str(repo), "--stack", "qa", "--base", "HEAD"]) == 2
    assert "no stack 'qa'" in capsys.readouterr().err
    with catalog_edited(repo, "maxReplicas: 10", "maxReplicas: ten"):
        assert main(["diff", "--project-dir", str(repo), "--stack", "dev", "--base", "HEAD"]) == 2
        err = capsys.readouterr().err
        assert "in the working tree: the stack does not render" in err and "maxReplicas" in err
    assert len(worktrees(repo)) == 1


def test_json_output_without_and_with_changes_and_on_a_bad_ref(repo, capsys):
    from tests.test_json_output import assert_valid

    args = ["diff", "--project-dir", str(repo), "--stack", "dev", "--json"]
    assert main([*args, "--base", "HEAD"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert_valid("diff", document)
    assert document["stacks"] == ["dev"] and document["diffs"][0]["changed"] is False
    with catalog_edited(repo, "      target: 40\n", "      target: 50\n"):
        assert main([*args, "--base", "main"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert_valid("diff", document)
    (dev,) = document["diffs"]
    fields = [(c["object"], f["path"], f["before"], f["after"]) for c in dev["changes"] for f in c["fields"]]
    assert fields == [
        (
            "ConfigMap ml-dev-monitoring/dashboard-review-sentiment",
            'data["review-sentiment.json"]{json}.panels[4].targets[1].expr',
            "vector(40)",
            "vector(50)",
        ),
        ("ScaledObject ml-dev/review-sentiment", "spec.triggers[0].metadata.threshold", "40", "50"),
    ]
    assert dev["counts"]["changed"] == 2 and {c["model"] for c in dev["changes"]} == {"review-sentiment"}
    assert main([*args, "--base", "no-such-ref"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert_valid("diff", document)
    assert "unknown git ref 'no-such-ref'" in document["error"]
