"""Load models.yaml: parse with positions, validate the schema and the cross-field rules, apply overrides.

Every problem is collected before anything is raised, so one run shows them all. A model's base definition must be
valid on its own (any stack without an override uses it); each override is validated merged into the base, and a
problem it causes is reported at the override's line when the override set that value.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from .checks import UNCHECKED_FIELDS, candidate_paths, check_model
from .errors import ConfigurationError, Path, Problem, allowed_list, describe_value, did_you_mean
from .problems import allowed_fields
from .problems import findings as problem_findings
from .schema import Catalog, CatalogModel, Model, ModelSpec
from .yaml_source import SourceDocument, load_yaml

_ATOMIC = (str, int, float, bool)


def merge_patch(target: Any, patch: Any) -> Any:
    """JSON Merge Patch (RFC 7386): mappings merge recursively, null removes a key, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch if type(patch) in _ATOMIC else copy.deepcopy(patch)  # (deepcopy returns a scalar itself)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def null_problems(target: Any, patch: Mapping[str, Any], path: Path = ()) -> list[tuple[Path, str]]:
    """Keys an override sets to null (remove) that name nothing: a misspelt field, or a name a map of the base
    (env, labels) does not have. Merge-patch semantics would ignore them silently, and the field the author meant would stay."""
    found: list[tuple[Path, str]] = []
    target = target if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None and key not in target:
            fields = allowed_fields(ModelSpec, path)
            if fields and key not in fields:
                message = f"unknown field '{key}';{did_you_mean(key, fields)} allowed fields: {', '.join(fields)}"
                found.append(((*path, key), message))
            elif not fields:  # a map of names (env, labels): removing a name it does not have is a typo
                message = f"null removes '{key}', but the base definition does not set it; nothing to remove"
                found.append(((*path, key), message))
        elif isinstance(value, Mapping):
            found += null_problems(target.get(key), value, (*path, key))
    return found


@dataclass(frozen=True)
class LoadedCatalog:
    """A valid catalog and each model's effective definition per stack."""

    source: SourceDocument
    catalog: Catalog
    effective: dict[str, dict[str, ModelSpec]]
    """stack name -> model name -> spec, for every stack named in some override; '' holds the base definitions."""
    _models_for: dict[str, dict[str, ModelSpec]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def models_for(self, stack: str) -> dict[str, ModelSpec]:
        """Effective definitions in ``stack`` (overrides applied), sorted by name, disabled models included (worked
        out once per stack: validation asks for them several times)."""
        if stack not in self._models_for:
            per_stack = self.effective.get(stack, {})
            base = self.effective[""]
            self._models_for[stack] = {name: per_stack.get(name, base[name]) for name in sorted(self.catalog.models)}
        return dict(self._models_for[stack])

    def problem(self, model: str, stack: str, path: Path, message: str) -> Problem:
        """A problem with a field of ``model`` as effective in ``stack``, located where that value was set."""
        doc_path, in_override = locate_field(self.source, model, stack, _blame(self.source, model, stack, path))
        suffix = (
            ""
            if in_override or not stack or not self.source.has(("models", model, "overrides", stack))
            else (f" (in stack '{stack}', with its overrides)")
        )
        return self.source.problem(doc_path, message + suffix)


def locate_field(doc: SourceDocument, model: str, stack: str, path: Path) -> tuple[Path, bool]:
    """Document path of a model field in ``stack``, and whether the stack's override set it.

    Under merge-patch semantics the override set the value if it writes that path itself, or replaces an
    enclosing value wholesale (a list, a scalar or null); a mapping it writes only merges into the base."""
    override = ("models", model, "overrides", stack)
    if stack and doc.has(override):
        for cut in range(len(path), 0, -1):
            probe = override + tuple(path[:cut])
            if doc.has(probe):
                if cut == len(path) or not isinstance(doc.value_at(probe), dict):
                    return override + tuple(path), True
                break
    return ("models", model) + tuple(path), False


def _blame(doc: SourceDocument, model: str, stack: str, paths) -> Path:
    """Of the fields a rule is about, the first one the stack's override wrote, else the default one."""
    candidates = candidate_paths(paths)
    return next((p for p in candidates if locate_field(doc, model, stack, p)[1]), candidates[0])


def _model_problems(
    doc: SourceDocument,
    name: str,
    stack: str,
    raw: Mapping[str, Any],
    reported: set[str],
    validated: ModelSpec | None = None,
) -> tuple[ModelSpec | None, list[Problem]]:
    """Validate one model's effective definition in ``stack`` ('' = base) and run its cross-field checks;
    ``validated``: ``raw`` already validated (the base of a model the catalog's validation accepted).

    A problem located in the base definition that ``reported`` already holds is not repeated for each stack."""
    try:
        spec: ModelSpec | None = validated if validated is not None else ModelSpec.model_validate(raw)
        found = [(_blame(doc, name, stack, path), False, message) for path, message in check_model(spec)]
    except ValidationError as exc:
        spec, found = None, problem_findings(exc, ModelSpec)
    suffix = f" (in stack '{stack}', with its overrides)" if stack else ""
    problems = []
    for path, at_key, message in found:
        doc_path, in_override = locate_field(doc, name, stack, path)
        problem = doc.problem(doc_path, message if in_override else message + suffix, at_key=at_key)
        if not in_override and problem.path in reported:
            continue  # the catalog-level validation, or the base definition, already reported this field
        problems.append(problem)
    return spec, problems


def _base_spec(model: Model) -> ModelSpec:
    """A catalog entry's base definition, as validating it again would give it (a ``Model`` is a ``ModelSpec``
    plus its ``overrides``, with the same fields, rules and values): validated once, with the catalog, not twice."""
    fields_set = model.model_fields_set - {"overrides"}
    if not _PLAIN_SPEC:
        return ModelSpec.model_construct(fields_set, **{name: getattr(model, name) for name in ModelSpec.model_fields})
    # What model_construct builds from every field given (the same __dict__, fields set, no extra, no private
    # attributes), without its per-field alias and default look-ups: a third of this function's cost at 5000 models.
    values = dict(model.__dict__)
    del values["overrides"]
    return _plain_spec(values, fields_set)


def _plain_spec(values: dict[str, Any], fields_set: set[str]) -> ModelSpec:
    """A ModelSpec of already validated ``values``, as ``model_construct`` builds one when ``_PLAIN_SPEC`` holds."""
    spec = ModelSpec.__new__(ModelSpec)
    object.__setattr__(spec, "__dict__", values)
    object.__setattr__(spec, "__pydantic_fields_set__", fields_set)
    object.__setattr__(spec, "__pydantic_extra__", None)
    object.__setattr__(spec, "__pydantic_private__", None)
    return spec


#: ModelSpec is built by ``_base_spec`` as model_construct would: no extra fields kept, no post-init, no private
#: attributes, and a ``Model``'s fields are ModelSpec's plus ``overrides``, in the same order.
_PLAIN_SPEC = (
    ModelSpec.model_config.get("extra") != "allow"
    and not ModelSpec.__pydantic_post_init__
    and not ModelSpec.__private_attributes__
    and list(Model.model_fields) == [*ModelSpec.model_fields, "overrides"]
)


@functools.cache
def _field_model(name: str) -> type[BaseModel]:
    """A model of ``ModelSpec``'s field ``name`` alone: the same annotation, constraints and configuration, so it
    validates a value of that field exactly as ``ModelSpec`` does."""
    info = ModelSpec.model_fields[name]
    return create_model(f"ModelSpec_{name}", __base__=CatalogModel, **{name: (info.annotation, info)})


_FIELDS_BY_ALIAS = {info.alias or name: name for name, info in ModelSpec.model_fields.items()}


def _patched(spec: ModelSpec, patch: Mapping[str, Any], merged: Mapping[str, Any]) -> ModelSpec | None:
    """``spec`` (a valid base definition) with an override's changes, validated field by field: what validating the
    whole merged definition gives (``ModelSpec`` has no rule across its fields: those are ``check_model``'s), for
    the fields the override changes only. None when the override removes a top-level field, names an unknown one or
    sets an invalid value: then the whole definition is validated, and its problems reported as always."""
    if ModelSpec.__pydantic_decorators__.model_validators:  # (a rule across fields would need the whole definition)
        return None
    update = {}
    for alias, value in patch.items():
        name = _FIELDS_BY_ALIAS.get(alias)
        if name is None or value is None:
            return None
        try:
            update[name] = getattr(_field_model(name).model_validate({alias: merged[alias]}), name)
        except ValidationError:
            return None
    if not _PLAIN_SPEC:
        return spec.model_copy(update=update)
    # What model_copy(update=...) builds for a plain model (see _base_spec), without its generic copy steps.
    return _plain_spec({**spec.__dict__, **update}, spec.model_fields_set | update.keys())


def validate_catalog(doc: SourceDocument, known_stacks: Iterable[str] | None = None) -> LoadedCatalog:
    """Validate a parsed catalog; raise ConfigurationError with every problem found."""
    data = doc.data
    if data is None:
        raise ConfigurationError([doc.problem((), "the catalog is empty; it needs a 'models' mapping")])
    if not isinstance(data, dict):
        raise ConfigurationError(
            [doc.problem((), f"the catalog must be a mapping with a 'models' key, got {describe_value(data)}")]
        )
    problems: list[Problem] = []
    catalog: Catalog | None = None
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        problems.extend(doc.problem(path, msg, at_key=at_key) for path, at_key, msg in problem_findings(exc, Catalog))

    models = data.get("models") if isinstance(data.get("models"), dict) else {}
    stacks = sorted(set(known_stacks)) if known_stacks is not None else None
    effective: dict[str, dict[str, ModelSpec]] = {"": {}}
    reported = {p.path for p in problems}
    for name in sorted(models):
        raw_model = models[name]
        if not isinstance(raw_model, dict):
            continue  # reported by the schema
        base = {k: v for k, v in raw_model.items() if k != "overrides"}
        validated = _base_spec(catalog.models[name]) if catalog is not None else None
        spec, found = _model_problems(doc, name, "", base, reported, validated)
        problems.extend(found)
        reported |= {p.path for p in found}
        if spec is not None:
            effective[""][name] = spec
        overrides = raw_model.get("overrides")
        if not isinstance(overrides, dict):
            continue
        for stack in sorted(overrides):
            patch = overrides[stack]
            if stacks is not None and stack not in stacks:
                problems.append(
                    doc.problem(
                        ("models", name, "overrides", stack),
                        f"no stack named '{stack}' (this project has: {allowed_list(stacks)});"
                        f"{did_you_mean(stack, stacks)} overrides are keyed by stack name",
                        at_key=True,
                    )
                )
                continue
            if not isinstance(patch, dict):
                continue  # reported by the schema
            problems += [
                doc.problem(("models", name, "overrides", stack, *path), message, at_key=True)
                for path, message in null_problems(base, patch)
            ]
            merged = merge_patch(base, patch)
            patched = _patched(spec, patch, merged) if spec is not None else None
            if patched is not None and patch.keys() <= UNCHECKED_FIELDS:
                # check_model reads none of the fields this override sets: its findings are the base definition's,
                # located there and reported with it (a stack's problem in the base is not repeated per stack).
                spec_for_stack, found = patched, []
            else:
                spec_for_stack, found = _model_problems(doc, name, stack, merged, reported, patched)
            problems.extend(found)
            if spec_for_stack is not None:
                effective.setdefault(stack, {})[name] = spec_for_stack
    for name in sorted(models):
        old = models[name].get("renamedFrom") if isinstance(models[name], dict) else None
        if isinstance(old, str) and old in models:
            problems.append(
                doc.problem(
                    ("models", name, "renamedFrom"),
                    f"'{old}' is still a model of this catalog; renamedFrom names a model's previous name, which no "
                    "current model may use (its resources would be claimed twice)",
                )
            )
    if problems or catalog is None:
        raise ConfigurationError(problems)
    return LoadedCatalog(source=doc, catalog=catalog, effective=effective)


def load_catalog(path: FsPath | str, *, known_stacks: Iterable[str] | None = None, shown_as: str | None = None):
    """Parse and validate a catalog file."""
    return validate_catalog(load_yaml(path, shown_as=shown_as), known_stacks)
