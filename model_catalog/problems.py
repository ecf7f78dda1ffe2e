"""Turn pydantic validation errors into located, readable Problems."""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from . import schema
from .errors import HIDDEN, Path, allowed_list, describe_value, did_you_mean
from .formats import FORMAT_DESCRIPTIONS
from .quantities import BYTES_PATTERN, CPU_PATTERN

#: Plain-language descriptions of the patterns used in the schema, so messages never show a regex.
PATTERN_DESCRIPTIONS: dict[str, str] = {
    schema.MODEL_NAME_PATTERN: (
        "a DNS-1035 label: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"
    ),
    schema.ENV_NAME_PATTERN: "an environment variable name: letters, digits and '_', not starting with a digit",
    schema.IMAGE_REF_PATTERN: "an image reference 'registry/repository[:tag][@sha256:<64 hex>]', lowercase",
    schema.DNS_SUBDOMAIN_PATTERN: "a DNS-1123 name: lowercase letters, digits, '-' and '.'",
    schema.METRIC_NAME_PATTERN: "a Prometheus metric name: letters, digits, '_' and ':', not starting with a digit",
    schema.LABEL_NAME_PATTERN: "a Prometheus label name: letters, digits and '_', not starting with a digit",
    schema.STATUS_REGEX_PATTERN: "a status regular expression of letters, digits and . | ( ) [ ] * + ? -",
    schema.LABEL_VALUE_PATTERN: (
        "a Kubernetes label value: up to 63 letters, digits, '.', '_' and '-', starting and ending with a letter or digit"
    ),
    CPU_PATTERN: 'a cpu quantity as a quoted string, e.g. "2", "0.5" or "500m"',
    BYTES_PATTERN: 'a byte quantity as a quoted string, e.g. "8Gi", "512Mi" or "1G"',
    **FORMAT_DESCRIPTIONS,
}

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "list_type": "a list",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _looks_numeric(text: str) -> bool:
    return text.strip().lstrip("+-").replace(".", "", 1).isdigit()


def _candidates(tp: Any) -> list[Any]:
    """The concrete types behind an annotation: unwrap Annotated, Optional and unions."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _candidates(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [c for arg in typing.get_args(tp) for c in _candidates(arg)]
    return [tp]


def allowed_fields(root: type[BaseModel], loc: Iterable[Any]) -> list[str]:
    """YAML field names allowed at ``loc`` below ``root`` (empty if ``loc`` is not a mapping of fields)."""
    return list(_allowed_fields(root, tuple(loc)))


@functools.lru_cache(maxsize=4096)
def _allowed_fields(root: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, ...]:
    """allowed_fields, memoized: the same places come up once per model, override and problem."""
    current: list[Any] = [root]
    for element in loc:
        following: list[Any] = []
        for tp in (c for t in current for c in _candidates(t)):
            origin = typing.get_origin(tp)
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                for name, info in tp.model_fields.items():
                    if (info.alias or name) == element:
                        following.append(info.annotation)
            elif origin is dict:
                following.append(typing.get_args(tp)[1])
            elif origin is list and isinstance(element, int):
                following.append(typing.get_args(tp)[0])
        current = following
    names: list[str] = []
    for tp in (c for t in current for c in _candidates(t)):
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            names.extend(info.alias or name for name, info in tp.model_fields.items())
    return tuple(names)


def _message(error: dict[str, Any], root: type[BaseModel]) -> str:
    kind = error["type"]
    loc = error["loc"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = allowed_fields(root, loc[:-1])
        return f"unknown field '{loc[-1]}';{did_you_mean(loc[-1], allowed)} allowed fields: {', '.join(allowed)}"
    if kind == "missing":
        return f"required field '{loc[-1]}' is missing"
    if kind == "literal_error":
        expected = [e.strip().strip("'") for e in ctx.get("expected", "").replace(" or ", ", ").split(",")]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if str(value) in expected:
                return f'got {describe_value(value)}; write it quoted, "{value}" (YAML reads it as a number)'
            return (
                f"got {describe_value(value)}; allowed: {allowed_list(expected)}, quoted (YAML reads unquoted "
                "digits as a number and drops trailing zeros: 1.30 becomes 1.3)"
            )
        hint = "" if value is HIDDEN else did_you_mean(value, expected)
        return f"got {describe_value(value)}; allowed: {allowed_list(expected)}.{hint}"
    if kind in ("model_type", "model_attributes_type", "dict_type") and (fields := allowed_fields(root, loc)):
        shape = "{" + ", ".join(f"{name}: ..." for name in fields) + "}"
        return f"must be a mapping {shape}, got {describe_value(value)}"
    if kind in _TYPE_NAMES:
        hint = ""
        if kind in ("int_type", "float_type") and isinstance(value, str) and _looks_numeric(value):
            hint = " (write the number without quotes)"
        elif kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
            hint = " (put it in quotes)"
        elif kind == "string_type" and isinstance(value, bool):
            hint = " (YAML reads true and false as booleans; put it in quotes)"
        return f"must be {_TYPE_NAMES[kind]}, got {describe_value(value)}{hint}"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        wanted = PATTERN_DESCRIPTIONS.get(pattern, f"a string matching {pattern}")
        return f"got {describe_value(value)}; must be {wanted}"
    if kind in ("string_too_long", "too_long"):
        return f"got {describe_value(value)}; must be at most {ctx.get('max_length')} characters long"
    if kind in ("string_too_short", "too_short"):
        return f"must have at least {ctx.get('min_length')} {'character' if kind.startswith('string') else 'entry'}"
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"got {describe_value(value)}; must be {bounds[kind]} {limit}"
    if kind == "value_error":
        reason = str(ctx.get("error", error["msg"]))
        return reason if isinstance(value, (dict, list)) else f"got {describe_value(value)}; {reason}"
    return f"{error['msg']} (got {describe_value(value)})"


def findings(
    exc: ValidationError, root: type[BaseModel], hidden: Callable[[Path], bool] | None = None
) -> list[tuple[Path, bool, str]]:
    """``(path, at_key, message)`` per pydantic error; ``at_key`` points at the key rather than its value.
    ``hidden(path)``: the value there is a secret, so messages say what is wrong without quoting it."""
    result = []
    for error in exc.errors(include_url=False):
        loc: tuple[Any, ...] = tuple(error["loc"])
        if hidden is not None and hidden(tuple(e for e in loc if e != "[key]")):
            error = {**error, "input": HIDDEN}
        message = _message(error, root)
        at_key = error["type"] == "extra_forbidden"
        if loc and loc[-1] == "[key]":
            loc, at_key = loc[:-1], True
            message = f"name {message.removeprefix('got ').replace(' (a string);', '')}"
        result.append((loc, at_key, message))
    return result
