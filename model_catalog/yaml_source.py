"""YAML documents that remember where every key and value came from.

PyYAML's composer gives nodes with positions; this module turns them into plain Python data and keeps a map from
each value's path to its line and column, so that any later check can point at the exact spot in the file.
Duplicate keys are an error (YAML says keys are unique; PyYAML silently keeps the last one). Anchors, aliases and
``<<`` merge keys work as in YAML 1.1; keys written explicitly win over merged ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import ConfigurationError, Path, Problem, format_path

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class SourceDocument:
    """Parsed YAML data plus the position of every key and value, addressed by path tuples."""

    file: str
    data: Any
    value_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def has(self, path: Path) -> bool:
        return path in self.value_marks

    def value_at(self, path: Path) -> Any:
        value = self.data
        for element in path:
            value = value[element]
        return value

    def locate(self, path: Path, *, at_key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) for ``path``: its key or value, else the nearest enclosing value."""
        if at_key and path in self.key_marks:
            return self.key_marks[path]
        probe = tuple(path)
        while probe:
            if probe in self.value_marks:
                return self.value_marks[probe]
            probe = probe[:-1]
        return self.value_marks.get((), (1, 1))

    def problem(self, path: Path, message: str, *, at_key: bool = False, shown_path: str | None = None) -> Problem:
        line, column = self.locate(path, at_key=at_key)
        return Problem(self.file, line, column, format_path(path) if shown_path is None else shown_path, message)


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self, doc: SourceDocument):
        self.doc = doc
        self.constructor = yaml.SafeLoader("")  # only its scalar construction is used
        self.problems: list[Problem] = []

    def build(self, node: Node, path: Path) -> Any:
        self.doc.value_marks[path] = _mark(node)
        if isinstance(node, ScalarNode):
            return self.constructor.construct_object(node, deep=True)
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover - composer yields only these

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        explicit = [(k, v) for k, v in node.value if k.tag != _MERGE_TAG]
        merges = [v for k, v in node.value if k.tag == _MERGE_TAG]
        result: dict[Any, Any] = {}
        # Merge keys first, earlier merged mappings winning over later ones; explicit keys then overwrite them.
        for merge_value in merges:
            for merged in merge_value.value if isinstance(merge_value, SequenceNode) else [merge_value]:
                if not isinstance(merged, MappingNode):
                    line, col = _mark(merged)
                    message = "'<<' must merge a mapping or a list of mappings"
                    self.problems.append(Problem(self.doc.file, line, col, format_path(path), message))
                    continue
                for key, value in self._mapping(merged, path).items():
                    result.setdefault(key, value)
        first_seen: dict[Any, int] = {}
        for key_node, value_node in explicit:
            line, col = _mark(key_node)
            if not isinstance(key_node, ScalarNode):
                self.problems.append(Problem(self.doc.file, line, col, format_path(path), "keys must be plain scalars"))
                continue
            # Every key in our files is a name: `1: x` or `true: x` keep the text as written.
            key = key_node.value
            if key in first_seen:
                self.problems.append(
                    Problem(
                        self.doc.file,
                        line,
                        col,
                        format_path(path + (key,)),
                        f"duplicate key '{key}' (first defined on line {first_seen[key]}); each key may appear once",
                    )
                )
                continue
            first_seen[key] = line
            self.doc.key_marks[path + (key,)] = (line, col)
            result[key] = self.build(value_node, path + (key,))
        return result


def parse_yaml(text: str, file: str) -> SourceDocument:
    """Parse one YAML document; raise ConfigurationError for syntax errors and duplicate keys."""
    doc = SourceDocument(file=file, data=None)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigurationError([Problem(file, line, col, "", f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:  # e.g. more than one document in the file
        raise ConfigurationError([Problem(file, 1, 1, "", f"YAML error: {exc}")]) from None
    if node is None:
        doc.value_marks[()] = (1, 1)
        return doc
    builder = _Builder(doc)
    doc.data = builder.build(node, ())
    if builder.problems:
        raise ConfigurationError(builder.problems)
    return doc


def load_yaml(path: FsPath | str, shown_as: str | None = None) -> SourceDocument:
    """Read and parse a YAML file; a missing or unreadable file is a located problem too."""
    fs_path = FsPath(path)
    file = shown_as or str(path)
    try:
        text = fs_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError([Problem(file, 1, 1, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError([Problem(file, 1, 1, "", f"cannot read file: {exc}")]) from None
    return parse_yaml(text, file)
