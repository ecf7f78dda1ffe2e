"""Editor support: every file a user edits names its JSON Schema, and the committed files validate against it."""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest
import yaml

from tests.helpers import ROOT

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.M)


def declared_schema(path) -> jsonschema.Draft202012Validator:
    (relative,) = SCHEMA_LINE.findall(path.read_text(encoding="utf-8"))
    schema = json.loads((path.parent / relative).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(validator, document) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_there_are_stack_files():
    assert {p.name for p in STACK_FILES} >= {"Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"}


@pytest.mark.parametrize("path", [*STACK_FILES, ROOT / "models.yaml"], ids=lambda p: p.name)
def test_each_file_names_its_schema_and_validates_against_it(path):
    validator = declared_schema(path)
    expected = "pulumi-stack.schema.json" if path.name.startswith("Pulumi.") else "models.schema.json"
    assert validator.schema["$id"] == expected
    assert errors(validator, yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_the_vscode_settings_map_the_same_schemas():
    mapping = json.loads((ROOT / ".vscode" / "settings.json").read_text())["yaml.schemas"]
    assert mapping == {
        "./schema/models.schema.json": ["models.yaml"],
        "./schema/pulumi-stack.schema.json": ["Pulumi.*.yaml"],
    }
    assert all((ROOT / schema).is_file() for schema in mapping)


@pytest.fixture(scope="module")
def stack_schema():
    return declared_schema(ROOT / "Pulumi.prod.yaml")


@pytest.fixture
def prod():
    return copy.deepcopy(yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text()))


def test_the_stack_schema_describes_the_file_not_the_settings_object(stack_schema, prod):
    assert errors(stack_schema, prod["config"]) != []  # the settings without `config:` are not a stack file
    del prod["config"]["ml-serving:cluster"]
    assert errors(stack_schema, prod) == ["config: 'ml-serving:cluster' is a required property"]


def test_unknown_project_keys_are_rejected_and_other_namespaces_left_alone(stack_schema, prod):
    prod["config"]["aws:region"] = "eu-west-1"
    prod["secretsprovider"] = "awskms://alias/ml-prod-pulumi"
    assert errors(stack_schema, prod) == []
    prod["config"]["ml-serving:monitring"] = {"enabled": True}
    assert [e.split(":")[0] for e in errors(stack_schema, prod)] == ["config.ml-serving"]


def test_settings_are_typed_and_closed(stack_schema, prod):
    prod["config"]["ml-serving:cluster"]["kubernetesVersion"] = 1.33
    prod["config"]["ml-serving:gpuNodePool"]["headroom"] = 25
    found = errors(stack_schema, prod)
    assert any(e.startswith("config.ml-serving:cluster.kubernetesVersion:") for e in found)
    assert any("headroom" in e for e in found)


def test_secrets_are_secure_values_where_the_settings_allow_or_require_them(stack_schema, prod):
    prod["config"]["ml-serving:registryPassword"] = {"secure": "v1:CIPHERTEXT"}
    assert errors(stack_schema, prod) == []
    prod["config"]["ml-serving:registryPassword"] = "hunter2"  # a secret key in plain text
    assert [e.split(":")[0] for e in errors(stack_schema, prod)] == ["config.ml-serving"]
    del prod["config"]["ml-serving:registryPassword"]
    prod["config"]["ml-serving:registry"]["username"] = {"secure": "v1:CIPHERTEXT"}  # may be secret
    assert errors(stack_schema, prod) == []
    prod["config"]["ml-serving:environment"]["namespace"] = {"secure": "v1:CIPHERTEXT"}  # not secret-capable
    assert errors(stack_schema, prod) != []
