"""Field descriptions attached on demand (model_catalog/docstrings.py) are the ones pydantic's own
``use_attribute_docstrings`` gives. (For the real catalog and settings models, tests/test_generated_files.py checks
the generated schemas and docs, made from these descriptions, against the committed ones.)"""

from __future__ import annotations

import importlib.util
import sys

from pydantic import BaseModel

from model_catalog.docstrings import document_fields
from model_catalog.schema import Catalog
from model_catalog.settings import StackSettings

#: The same models twice: on CatalogModel (descriptions from document_fields) and on a base with pydantic's
#: use_attribute_docstrings (descriptions at class creation).
MODELS = '''
from pydantic import BaseModel, ConfigDict, Field

from model_catalog.schema import CatalogModel


class PydanticDocstrings(BaseModel):
    model_config = ConfigDict(**CatalogModel.model_config, use_attribute_docstrings=True)


class Inner(BASE):
    size: int = 1
    """The size.

        Indented continuation lines are dedented."""


class Outer(BASE):
    name: str = "x"
    """Its name."""
    explicit: int = Field(0, description="given explicitly")
    """A docstring the explicit description wins over."""
    undocumented: int = 0
    inner: Inner | None = None
    """The inner part."""


class Derived(Outer):
    extra: list[Inner] = []
    """More parts."""
    name: str = "y"
'''


def _module(tmp_path, name: str, base: str):
    path = tmp_path / f"{name}.py"
    path.write_text(MODELS.replace("BASE", base), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as an import would: the source is found through the module
    spec.loader.exec_module(module)
    return module


def _descriptions(model: type[BaseModel]) -> dict[str, str | None]:
    return {name: info.description for name, info in model.model_fields.items()}


def test_descriptions_match_pydantics_attribute_docstrings(tmp_path):
    ours = _module(tmp_path, "docstrings_ours", "CatalogModel")
    theirs = _module(tmp_path, "docstrings_pydantic", "PydanticDocstrings")
    assert _descriptions(ours.Outer)["name"] is None  # nothing read at import
    document_fields()
    for name in ("Inner", "Outer", "Derived"):
        assert _descriptions(getattr(ours, name)) == _descriptions(getattr(theirs, name)), name
    assert _descriptions(ours.Derived)["name"] is None  # redefined without a docstring, as pydantic does
    assert _descriptions(ours.Derived)["inner"] == "The inner part."  # inherited
    assert _descriptions(ours.Outer)["explicit"] == "given explicitly"
    # ... and the JSON Schema shows them, in nested models too.
    schema = ours.Derived.model_json_schema()
    assert schema["$defs"]["Inner"]["properties"]["size"]["description"].startswith("The size.\n\nIndented")
    assert schema["properties"]["extra"]["description"] == "More parts."
    assert schema == theirs.Derived.model_json_schema()


def test_every_catalog_and_settings_field_is_described_once_documented():
    document_fields()
    assert Catalog.model_fields["models"].description
    assert all(info.description for info in StackSettings.model_fields.values())


def test_importing_the_schema_does_not_read_them():
    # A fresh process (a render) imports and validates without reading any source for descriptions.
    import subprocess

    code = "from model_catalog.schema import ModelSpec; print(ModelSpec.model_fields['runtime'].description)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "None"
