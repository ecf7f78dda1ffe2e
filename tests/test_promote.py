"""`mlserve promote`: pin a stack to the image another stack runs, as a comment-preserving catalog edit that
`mlserve diff` shows as one image change; rollback with an earlier reference."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest

from mlserve.__main__ import main
from mlserve.diff import compare, load_side
from mlserve.promote import running_image, set_override_image
from mlserve.render import render
from tests.helpers import ROOT

OLD = "nvcr.io/nvidia/tritonserver:25.06-py3@sha256:75bcfa5b0043898ece3e603c17a5bbbb1c9bddc390563db24312ef59d83735e5"
NEW = "nvcr.io/nvidia/tritonserver:25.09-py3@sha256:" + "ab" * 32
STAGING_OVERRIDE = "      staging:\n        scaling: {minReplicas: 1, maxReplicas: 2}\n"


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project's stacks, catalog and build contexts, with staging running a newer Triton image."""
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy2(path, tmp_path / path.name)
    shutil.copytree(ROOT / "images", tmp_path / "images")
    text = (ROOT / "models.yaml").read_text(encoding="utf-8")
    assert STAGING_OVERRIDE in text
    text = text.replace(STAGING_OVERRIDE, STAGING_OVERRIDE + f"        image: {{ref: '{NEW}'}}\n", 1)
    (tmp_path / "models.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_promote_writes_stagings_image_into_prods_override_keeping_everything_else(project, tmp_path, capsys):
    before = (project / "models.yaml").read_text(encoding="utf-8")
    assert running_image(project, "prod", "object-detector") == OLD
    render(project, "prod", tmp_path / "before")
    args = ["promote", "object-detector", "--from", "staging", "--to", "prod", "--project-dir", str(project)]
    assert main(args) == 0
    assert f"models.object-detector.overrides.prod.image.ref = {NEW}" in capsys.readouterr().out
    after = (project / "models.yaml").read_text(encoding="utf-8")
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    # Only added lines: every comment, blank line, flow mapping and quote of the catalog is as it was.
    assert changed == ["+      prod:", "+        image:", f"+          ref: {NEW}"]
    assert running_image(project, "prod", "object-detector") == NEW
    # The review: one image change of one Deployment.
    render(project, "prod", tmp_path / "after")
    changes = compare(load_side(tmp_path / "before"), load_side(tmp_path / "after"))
    images = [(c.item.label, f.path, f.before, f.after) for c in changes for f in c.fields if "image" in f.flags]
    assert images == [("Deployment ml-prod/object-detector", "spec.template.spec.containers[0].image", OLD, NEW)]
    # Promoting again changes nothing.
    assert main(args) == 0
    assert "already runs" in capsys.readouterr().out
    assert (project / "models.yaml").read_text(encoding="utf-8") == after


def test_rollback_is_the_same_command_with_the_earlier_reference(project, capsys):
    assert main(["promote", "object-detector", "--from", "staging", "--to", "prod", "--project-dir", str(project)]) == 0
    assert main(["promote", "object-detector", "--image", OLD, "--to", "prod", "--project-dir", str(project)]) == 0
    assert running_image(project, "prod", "object-detector") == OLD
    assert f"was {NEW}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["churn-predictor", "--from", "staging", "--to", "prod"], "built from images/"),
        (
            ["object-detector", "--image", "nvcr.io/nvidia/tritonserver:25.09-py3", "--to", "prod"],
            "not pinned by digest",
        ),
        (["no-such-model", "--from", "staging", "--to", "prod"], "no model 'no-such-model'"),
        (["object-detector", "--to", "prod"], "give --from STACK"),
    ],
)
def test_bad_requests_exit_2_and_write_nothing(project, capsys, args, message):
    before = (project / "models.yaml").read_text(encoding="utf-8")
    assert main(["promote", *args, "--project-dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert message in err and "nothing was written" in err
    assert (project / "models.yaml").read_text(encoding="utf-8") == before


def test_an_override_is_created_where_none_existed():
    text = "version: 1\n# models\nmodels:\n  m:  # mine\n    runtime: vllm\n"
    out = set_override_image(text, "m", "prod", NEW)
    assert out == text + f"    overrides:\n      prod:\n        image:\n          ref: {NEW}\n"


def test_json_output_of_a_promotion_a_repeat_and_a_bad_request(project, capsys):
    from tests.test_json_output import assert_valid

    args = ["promote", "object-detector", "--to", "prod", "--project-dir", str(project), "--json"]
    assert main([*args, "--from", "staging"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert_valid("promote", document)
    assert (document["stack"], document["model"], document["from"]) == ("prod", "object-detector", "staging")
    assert (document["image"], document["previous"], document["written"]) == (NEW, OLD, True)
    assert document["field"] == "models.object-detector.overrides.prod.image.ref"
    assert main([*args, "--image", NEW]) == 0
    document = json.loads(capsys.readouterr().out)
    assert_valid("promote", document)
    assert (document["previous"], document["written"]) == (None, False)
    assert main([*args, "--image", "nvcr.io/nvidia/tritonserver:25.09-py3"]) == 2
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert_valid("promote", document)
    assert (document["exitCode"], document["problems"]) == (2, [])
    assert "not pinned by digest" in document["error"] and "nothing was written" in captured.err
