"""Pulumi.yaml declares every stack setting (types, required or not) exactly as model_catalog/settings.py reads it,
and the committed stacks' values have the declared types (what the Pulumi CLI checks before running the program)."""

from __future__ import annotations

import typing

import yaml
from pydantic import BaseModel

from mlserve.mock_runtime import engine_config
from model_catalog.docstrings import document_fields
from model_catalog.settings import PROJECT, SECRET_KEYS, StackSettings, parse_settings
from tests.helpers import ROOT, STACKS

DECLARED = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]


def pulumi_type(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin is dict or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return "object"
    assert annotation is str, annotation
    return "string"


def test_every_setting_is_declared_with_its_type_and_whether_it_is_required():
    document_fields()  # descriptions are attached for the generated docs, not at import
    fields = {info.alias or name: info for name, info in StackSettings.model_fields.items()}
    assert set(DECLARED) == set(fields)
    for key, info in fields.items():
        declared = DECLARED[key]
        assert declared["type"] == pulumi_type(info.annotation), key
        assert ("default" not in declared) == info.is_required(), key
        assert declared["description"] == info.description.split("\n")[0], key
    assert not set(DECLARED) & set(SECRET_KEYS)  # a declared key without default is required in every stack


def test_the_declared_defaults_mean_the_same_as_leaving_a_key_out():
    for stack in STACKS:
        config, secret_keys = engine_config(ROOT, stack)
        with_defaults = dict(config)
        for key, declared in DECLARED.items():
            if "default" in declared:
                value = declared["default"]
                with_defaults.setdefault(f"{PROJECT}:{key}", value if isinstance(value, str) else "{}")
        plain = parse_settings(config, set(secret_keys), stack, None)
        defaulted = parse_settings(with_defaults, set(secret_keys), stack, None)
        assert plain == defaulted, stack


def test_the_committed_stacks_values_have_the_declared_types():
    for stack in STACKS:
        raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]
        for full_key, value in raw.items():
            key = full_key.removeprefix(f"{PROJECT}:")
            if key in SECRET_KEYS:
                continue
            expected = {"object": dict, "string": str}[DECLARED[key]["type"]]
            assert isinstance(value, expected), (stack, full_key)
        for key, declared in DECLARED.items():
            assert "default" in declared or f"{PROJECT}:{key}" in raw, (stack, key)
