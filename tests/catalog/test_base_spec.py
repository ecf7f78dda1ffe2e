"""A catalog entry's base definition is validated once, with the catalog (model_catalog/catalog.py _base_spec):
what it gives is what validating the base definition again gives."""

from __future__ import annotations

import yaml

from mlserve.fleet import fleet
from model_catalog.catalog import _base_spec
from model_catalog.schema import Catalog, ModelSpec
from tests.helpers import ROOT


def test_the_base_of_every_model_is_what_validating_it_again_gives():
    catalogs = [fleet(300)] + [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in [ROOT / "models.yaml", *sorted((ROOT / "examples").glob("*/models.yaml"))]
    ]
    compared = 0
    for data in catalogs:
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
