"""Generated files (JSON Schemas, reference docs) are committed and current."""

import jsonschema
import yaml

from mlserve.reference import generated_files
from tests.helpers import ROOT


def test_committed_generated_files_match_the_models_and_tables():
    stale = [
        path for path, content in generated_files().items() if (ROOT / path).read_text(encoding="utf-8") != content
    ]
    assert stale == [], f"stale: {stale}; run `make schema`"


def test_the_catalog_json_schema_accepts_the_real_catalog():
    import json

    schema = json.loads((ROOT / "schema" / "models.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load((ROOT / "models.yaml").read_text()))


def test_the_catalog_json_schema_rejects_an_unknown_field():
    import json

    schema = json.loads((ROOT / "schema" / "models.schema.json").read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors({"models": {"m": {"runtme": "vllm"}}}))
    assert any("runtme" in e.message for e in errors)


def test_every_field_of_the_catalog_is_documented():
    reference = (ROOT / "docs" / "catalog-reference.md").read_text()
    from model_catalog.docstrings import document_fields
    from model_catalog.schema import Catalog

    document_fields()

    def fields(model, seen):
        for name, info in model.model_fields.items():
            yield info.alias or name, info.description
            for arg in getattr(info.annotation, "__args__", ()) + (info.annotation,):
                if isinstance(arg, type) and hasattr(arg, "model_fields") and arg not in seen:
                    seen.add(arg)
                    yield from fields(arg, seen)

    for alias, description in fields(Catalog, set()):
        assert description, f"{alias} has no description"
        assert f"| `{alias}` |" in reference, f"{alias} missing from docs/catalog-reference.md"
