"""``--write``: the recommended bounds as per-stack overrides in the catalog, comments and layout preserved.

ruamel.yaml's round-trip mode keeps comments, key order, flow/block style and quoting. Only
``models.<m>.overrides.<stack>.scaling.{minReplicas,maxReplicas}`` are set (created where missing, in the style of
the file: a block ``overrides:``/``<stack>:`` mapping holding a flow ``scaling: {...}``). Safety:

- a catalog ruamel cannot reproduce byte for byte before any change is refused (its layout would be lost);
- the edited text is validated with the stack exactly like ``mlserve validate`` before it replaces the file (a
  sibling temporary file, then an atomic rename); on any problem the catalog is untouched.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from .errors import ForecastInputError
from .recommend import Recommendation


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def _dump(yaml: YAML, data: object) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _flow(mapping: dict) -> CommentedMap:
    node = CommentedMap(mapping)
    node.fa.set_flow_style()
    return node


def edit_catalog(text: str, shown: str, stack: str, recommendations: Iterable[Recommendation]) -> str:
    """The catalog text with the recommendations applied as ``overrides.<stack>.scaling``."""
    yaml = _yaml()
    data = yaml.load(text)
    if _dump(yaml, data) != text:
        raise ForecastInputError(
            [f"--write: {shown}: its layout cannot be kept exactly (ruamel.yaml would reformat it); nothing written"]
        )
    models = data["models"]
    for rec in recommendations:
        entry = models[rec.model]
        bounds = {"minReplicas": rec.min_replicas, "maxReplicas": rec.max_replicas}
        overrides = entry.get("overrides")
        if overrides is None:
            entry["overrides"] = CommentedMap({stack: CommentedMap({"scaling": _flow(bounds)})})
            continue
        per_stack = overrides.get(stack)
        if per_stack is None:
            overrides[stack] = CommentedMap({"scaling": _flow(bounds)})
            continue
        scaling = per_stack.get("scaling")
        if scaling is None:
            per_stack["scaling"] = _flow(bounds)
        else:
            scaling.update(bounds)
    return _dump(yaml, data)


def write_catalog(path: Path, stack: str, recommendations: list[Recommendation], validate) -> str:
    """Apply, validate with ``validate(temp_path)`` (raises ConfigurationError), then atomically replace."""
    text = path.read_text(encoding="utf-8")
    edited = edit_catalog(text, str(path), stack, recommendations)
    if edited == text:
        return text
    temp = path.with_name(f".{path.name}.forecast-{os.getpid()}.tmp")
    try:
        temp.write_text(edited, encoding="utf-8")
        validate(temp)
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()
    return edited
