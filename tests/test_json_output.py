"""`--json` output: one versioned envelope per command, valid against the committed schema/cli/*.schema.json."""

from __future__ import annotations

import json

import jsonschema
import pytest

from mlserve import cli
from mlserve.__main__ import main
from tests.helpers import ROOT, STACKS


def schema(command: str) -> jsonschema.Draft202012Validator:
    document = json.loads((ROOT / "schema" / "cli" / f"{command}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)  # exactly one document: json.loads rejects anything around it


def assert_valid(command: str, document: dict) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in schema(command).iter_errors(document)]
    assert errors == [], errors
    assert list(document)[:4] == ["schemaVersion", "command", "ok", "exitCode"]
    assert document["schemaVersion"] == cli.JSON_SCHEMA_VERSION and document["command"] == command


@pytest.mark.parametrize("stack", STACKS)
def test_validate_json(stack, capsys):
    code, document = run_json(capsys, "validate", "--stack", stack)
    assert code == 0 and document["ok"] and document["exitCode"] == 0
    assert_valid("validate", document)
    assert document["stack"] == stack and document["models"] == sorted(document["models"])


@pytest.mark.parametrize("stack", STACKS)
def test_capacity_json(stack, capsys):
    code, document = run_json(capsys, "capacity", "--stack", stack)
    assert code == 0
    assert_valid("capacity", document)
    if stack == "prod":
        h100 = next(a for a in document["accelerators"] if a["accelerator"] == "nvidia-h100")
        assert h100["gpus"] == {"min": 4, "max": 8} and h100["models"][0]["model"] == "llama3-70b"
    if stack == "dev":
        assert document["accelerators"] == [] and document["provider"] == "none"


def test_invalid_input_is_a_json_document_with_located_problems(capsys):
    code = main(["validate", "--stack", "dev", "--catalog", "tests/bad_inputs/catalogs/unknown-runtime.yaml", "--json"])
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert code == 2 and document["exitCode"] == 2 and not document["ok"]
    assert_valid("validate", document)
    problem = document["problems"][0]
    assert problem["file"].endswith("unknown-runtime.yaml") and problem["line"] >= 1 and problem["message"]
    assert "1 problem found" in captured.err or "problems found" in captured.err  # the text still goes to stderr


def test_check_manifests_json(tmp_path, monkeypatch, capsys, crds):
    monkeypatch.chdir(ROOT)
    code, document = run_json(capsys, "check-manifests", "--stack", "dev", "--out", str(tmp_path / "out"))
    assert code == 0
    assert_valid("check-manifests", document)
    by_name = {c["name"]: c for c in document["checkers"]}
    assert by_name["kubernetes-schemas"]["ran"] and by_name["kubernetes-schemas"]["checked"] > 0
    assert by_name["checkov"] == {
        "name": "checkov",
        "ran": False,
        "description": by_name["checkov"]["description"],
        "skipped": "not requested: pass --checkov PATH (`make check-manifests` installs it and passes it)",
        "environmentProblem": False,
    }


def test_a_document_of_another_shape_is_rejected():
    # The schemas are closed: an undocumented or misspelt field fails, so the test above cannot pass vacuously.
    document = {"schemaVersion": 1, "command": "validate", "ok": True, "exitCode": 0, "stack": "dev"}
    document |= {
        "catalog": "models.yaml",
        "models": [],
        "disabledModels": [],
        "secrets": [],
        "problems": [],
        "extra": 1,
    }
    assert list(schema("validate").iter_errors(document))
    del document["extra"]
    assert not list(schema("validate").iter_errors(document))
    assert list(schema("validate").iter_errors({**document, "schemaVersion": 2}))


@pytest.mark.parametrize("stack", STACKS)
def test_plan_json(stack, capsys, tmp_path):
    code, document = run_json(capsys, "plan", "--stack", stack, "--out", str(tmp_path / "plan.json"))
    assert code == 0
    assert_valid("plan", document)
    assert json.loads((tmp_path / "plan.json").read_text()) == document


def test_policy_json_lists_rules_and_violations(capsys):
    code, document = run_json(capsys, "policy", "--stack", "dev")
    assert code == 0
    assert_valid("policy", document)
    assert document["tier"] == "dev" and document["mandatoryViolations"] == 0
    assert {"name": "image-pinned", "mandatory": True} in document["rules"]
    assert document["advisoryViolations"] == len(document["violations"])


def test_policy_json_on_invalid_input_has_the_located_problems(capsys):
    code, document = run_json(
        capsys, "policy", "--stack", "prod", "--catalog", "tests/bad_inputs/catalogs/billion-laughs.yaml"
    )
    assert code == 2
    assert_valid("policy", document)
    assert document["problems"][0]["line"] == 15 and "aliases expand" in document["problems"][0]["message"]
