"""Field descriptions from attribute docstrings, attached on demand: for the JSON Schemas and reference docs.

Every catalog and settings field is documented by the docstring under it (``schema.py``, ``settings.py``); the
generated schemas and docs (``make schema``) show it as the field's description. Validation never needs it, so it is
not read when a model class is created: pydantic's ``use_attribute_docstrings`` would, at a cost of about 0.1 s in
every process that imports the schema (it walks the interpreter's frames and resolves each one's module, per class).
``document_fields()`` reads each module's source once and gives every field the description pydantic would have
given it (the same rules: the string right after an annotated attribute of the class body, ``inspect.cleandoc``ed;
an explicit ``Field(description=...)`` wins; an inherited field keeps its defining class's docstring).
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
import typing
from typing import Any

from pydantic import BaseModel

from .schema import CatalogModel


@functools.cache
def _module_docstrings(module_name: str) -> dict[str, dict[str, str]]:
    """Qualified class name -> attribute -> docstring, for every class in a module's source."""
    try:
        tree = ast.parse(inspect.getsource(sys.modules[module_name]))
    except (KeyError, OSError, TypeError):  # no source (a frozen or interactive module): no descriptions
        return {}
    found: dict[str, dict[str, str]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                qualname = f"{prefix}{node.name}"
                attrs: dict[str, str] = {}
                previous: ast.stmt | None = None
                for stmt in node.body:
                    if (
                        isinstance(stmt, ast.Expr)
                        and isinstance(stmt.value, ast.Constant)
                        and isinstance(stmt.value.value, str)
                        and isinstance(previous, ast.AnnAssign)
                        and isinstance(previous.target, ast.Name)
                    ):
                        attrs[previous.target.id] = inspect.cleandoc(stmt.value.value)
                    previous = stmt
                found[qualname] = attrs
                visit(node.body, f"{qualname}.")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(node.body, f"{prefix}{node.name}.<locals>.")
            elif hasattr(node, "body"):  # if/with/try blocks at this level
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(node, block, []), prefix)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body, prefix)

    visit(tree.body, "")
    return found


def _docstring(cls: type[BaseModel], field: str) -> str | None:
    """The docstring of ``field`` in the class that defines it (the first in the MRO that annotates it)."""
    for klass in cls.__mro__:
        if field in klass.__dict__.get("__annotations__", {}):
            return _module_docstrings(klass.__module__).get(klass.__qualname__, {}).get(field)
    return None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation refers to (through unions, containers and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _subclasses(cls: type) -> list[type]:
    return [cls, *(sub for direct in cls.__subclasses__() for sub in _subclasses(direct))]


_documented: set[type[BaseModel]] = set()


def document_fields() -> None:
    """Give every field of every catalog and settings model (``CatalogModel`` subclasses) its docstring as its
    description, and rebuild the models so their JSON Schemas show it; nested models before the models that contain
    them. Idempotent; models defined later are documented by a later call."""
    order: list[type[BaseModel]] = []
    seen: set[type[BaseModel]] = set()

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for info in model.model_fields.values():
            for nested in _models_in(info.annotation):
                visit(nested)
        order.append(model)

    for model in _subclasses(CatalogModel):
        visit(model)
    changed: set[type[BaseModel]] = set()
    for model in order:
        if model in _documented or not issubclass(model, CatalogModel):
            continue
        for name, info in model.model_fields.items():
            if info.description is None:
                info.description = _docstring(model, name)
        changed.add(model)
    for model in order:  # a model that contains a changed one is rebuilt after it, so its schema sees the change
        if model in changed or any(n in changed for i in model.model_fields.values() for n in _models_in(i.annotation)):
            model.model_rebuild(force=True)
            changed.add(model)
            _documented.add(model)
