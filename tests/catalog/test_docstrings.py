"""Field descriptions attached on demand (model_catalog/docstrings.py) are the ones pydantic's own
``use_attribute_docstrings`` gives. (For the real catalog and settings models, tests/test_generated_files.py checks
the generated schemas and docs, made from these descriptions, against the committed ones.)"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from model_catalog.docstrings import document_fields
from model_catalog.schema import Catalog, CatalogModel
from model_catalog.settings import StackSettings


class _Inner(CatalogModel):
    size: int = 1
    """The size.

        Indented continuation lines are dedented."""


class _Base(CatalogModel):
    name: str = "x"
    """Its name."""
    explicit: int = Field(0, description="given explicitly")
    """A docstring the explicit description wins over."""
    undocumented: int = 0
    inner: _Inner | None = None
    """The inner part."""


class _Derived(_Base):
    extra: list[_Inner] = []
    """More parts."""
    name: str = "y"


class _PydanticConfig(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class _InnerTwin(_PydanticConfig):
    size: int = 1
    """The size.

        Indented continuation lines are dedented."""


class _BaseTwin(_PydanticConfig):
    name: str = "x"
    """Its name."""
    explicit: int = Field(0, description="given explicitly")
    """A docstring the explicit description wins over."""
    undocumented: int = 0
    inner: _InnerTwin | None = None
    """The inner part."""


class _DerivedTwin(_BaseTwin):
    extra: list[_InnerTwin] = []
    """More parts."""
    name: str = "y"


def _descriptions(model: type[BaseModel]) -> dict[str, str | None]:
    return {name: info.description for name, info in model.model_fields.items()}


def test_descriptions_match_pydantics_attribute_docstrings():
    document_fields()
    for ours, theirs in ((_Inner, _InnerTwin), (_Base, _BaseTwin), (_Derived, _DerivedTwin)):
        assert _descriptions(ours) == _descriptions(theirs)
    assert _descriptions(_Derived)["name"] is None  # redefined without a docstring, as pydantic does
    assert _descriptions(_Derived)["inner"] == "The inner part."  # inherited


def test_the_json_schema_shows_them_in_nested_models_too():
    document_fields()
    schema = _Derived.model_json_schema()
    assert schema["$defs"]["_Inner"]["properties"]["size"]["description"].startswith("The size.\n\nIndented")
    assert schema["properties"]["extra"]["description"] == "More parts."


def test_every_catalog_and_settings_field_is_described_once_documented():
    document_fields()
    assert Catalog.model_fields["models"].description
    assert all(info.description for info in StackSettings.model_fields.values())


def test_importing_the_schema_does_not_read_them():
    # A fresh process (a render) imports and validates without reading any source for descriptions.
    import subprocess
    import sys

    code = "from model_catalog.schema import ModelSpec; print(ModelSpec.model_fields['runtime'].description)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "None"
