"""The catalog fields no cross-field rule reads (model_catalog/checks.py UNCHECKED_FIELDS): a stack's override that
changes only those is not checked again (model_catalog/catalog.py validate_catalog), which must change nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mlserve.fleet import fleet
from model_catalog import catalog as catalog_module
from model_catalog import checks
from model_catalog.catalog import _base_spec, validate_catalog
from model_catalog.errors import ConfigurationError
from model_catalog.schema import Catalog, ModelSpec
from model_catalog.yaml_source import parse_yaml
from tests.helpers import ROOT

BY_ALIAS = {info.alias or name: name for name, info in ModelSpec.model_fields.items()}


def test_the_rules_name_none_of_the_unchecked_fields():
    # Every read of a model's field in checks.py names it (spec.<field>, or the alias in a finding's path).
    source = Path(checks.__file__).read_text(encoding="utf-8")
    source = re.sub(r"UNCHECKED_FIELDS = frozenset\(.*?\n\)\n", "", source, flags=re.DOTALL)  # the list itself
    source = re.sub(r"#.*", "", source)  # and what comments say
    for alias in checks.UNCHECKED_FIELDS:
        assert alias in BY_ALIAS, f"'{alias}' is not a catalog field"
        for word in {alias, BY_ALIAS[alias]}:
            assert not re.search(rf"\b{word}\b", source), f"checks.py reads '{word}': remove it from UNCHECKED_FIELDS"


CHANGED = {
    "description": "another description",
    "version": "9.9.9",
    "enabled": None,  # flipped
    "renamedFrom": "some-old-name",
    "maxRequestSeconds": 1234,
    "capacity": None,  # every choice
    "alerts": None,  # another error rate
}


def _variants(spec: ModelSpec, alias: str) -> list[ModelSpec]:
    name = BY_ALIAS[alias]
    if alias == "enabled":
        values = [not spec.enabled]
    elif alias == "capacity":
        values = ["on-demand", "spot", "spot-fallback", None]
    elif alias == "alerts":
        values = [spec.alerts.model_copy(update={"error_rate_percent": 42.0, "latency_seconds": 0.5})]
    else:
        values = [CHANGED[alias]]
    return [spec.model_copy(update={name: value}) for value in values]


def test_changing_an_unchecked_field_changes_no_finding():
    catalogs = [fleet(300)] + [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in [ROOT / "models.yaml", *sorted((ROOT / "examples").glob("*/models.yaml"))]
    ]
    compared = 0
    for data in catalogs:
        for model in Catalog.model_validate(data).models.values():
            spec = _base_spec(model)
            for alias in checks.UNCHECKED_FIELDS:
                for variant in _variants(spec, alias):
                    assert checks.check_model(variant) == checks.check_model(spec)
                    compared += 1
    assert compared > 2000


BAD_BASE = """\
models:
  llm:
    runtime: vllm
    weights: {uri: "s3://bucket/llm/", sizeGiB: 300}
    resources:
      cpu: "32"
      memory: 512Gi
      gpu: {accelerator: nvidia-h100, count: 8, tensorParallelism: 2}
    scaling: {minReplicas: 3, maxReplicas: 2}
    overrides:
      dev: {enabled: false, description: disabled here}
      staging: {maxRequestSeconds: 300, capacity: spot}
      prod: {scaling: {maxReplicas: 1}}
"""


@pytest.mark.parametrize("text", [BAD_BASE, *(ROOT / "tests/bad_inputs/catalogs").glob("override*.yaml")])
def test_the_problems_are_those_of_checking_every_override(text, monkeypatch):
    text = text.read_text(encoding="utf-8") if isinstance(text, Path) else text

    def problems() -> list[str]:
        with pytest.raises(ConfigurationError) as caught:
            validate_catalog(parse_yaml(text, "models.yaml"), ["dev", "staging", "prod"])
        return [str(p) for p in caught.value.problems]

    skipping = problems()
    monkeypatch.setattr(catalog_module, "UNCHECKED_FIELDS", frozenset())
    assert skipping == problems()
    assert skipping
