"""A catalog entry's base definition is validated once, with the catalog (model_catalog/catalog.py _base_spec), and
an override's changes field by field (_patched): what they give is what validating the base definition again, and
the whole merged definition, gives."""

from __future__ import annotations

import yaml
from pydantic import ValidationError

from mlserve.fleet import fleet
from model_catalog.catalog import _base_spec, _patched, merge_patch
from model_catalog.schema import Catalog, ModelSpec
from tests.helpers import ROOT, sample_catalogs


def test_the_base_of_every_model_is_what_validating_it_again_gives():
    compared = 0
    for data in sample_catalogs():
        catalog = Catalog.model_validate(data)
        for name, model in catalog.models.items():
            base = {k: v for k, v in data["models"][name].items() if k != "overrides"}
            again = ModelSpec.model_validate(base)
            spec = _base_spec(model)
            assert type(spec) is ModelSpec
            assert spec == again
            assert spec.model_fields_set == again.model_fields_set
            assert spec.model_dump() == again.model_dump()
            assert repr(spec) == repr(again)
            compared += 1
    assert compared > 300


PATCHES = [
    {},
    {"enabled": False},
    {"scaling": {"minReplicas": 1}},
    {"scaling": {"minReplicas": 1, "maxReplicas": 2}, "resources": {"cpu": "500m", "memory": "1Gi"}},
    {"resources": {"gpu": None}},
    {"exposure": {"type": "internal", "host": None}},
    {"env": {"EXTRA": "1"}},
    {"description": "another"},
    {"maxRequestSeconds": 120},
    {"alerts": {"errorRatePercent": 2}},
    # Not validated field by field: the whole definition is (and reports its problems).
    {"description": None},
    {"unknown": 1},
    {"scaling": {"minReplicas": "1"}},
    {"maxRequestSeconds": 0},
]


def test_an_override_validated_field_by_field_is_what_validating_the_merged_definition_gives():
    fields_before = repr(ModelSpec.model_fields)
    catalogs = [fleet(200)] + [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in [ROOT / "models.yaml", *sorted((ROOT / "examples").glob("*/models.yaml"))]
    ]
    patched_count = 0
    for data in catalogs:
        for raw in data["models"].values():
            base = {k: v for k, v in raw.items() if k != "overrides"}
            spec = ModelSpec.model_validate(base)
            for patch in [*raw.get("overrides", {}).values(), *PATCHES]:
                merged = merge_patch(base, patch)
                patched = _patched(spec, patch, merged)
                try:
                    again = ModelSpec.model_validate(merged)
                except ValidationError:
                    assert patched is None  # its problems come from validating the whole definition
                    continue
                if patched is None:
                    assert None in patch.values() or "unknown" in patch
                    continue
                assert patched == again
                assert patched.model_fields_set == again.model_fields_set
                assert repr(patched) == repr(again)
                patched_count += 1
    assert patched_count > 1000
    assert repr(ModelSpec.model_fields) == fields_before  # the field models copied, not changed, ModelSpec's fields
