"""YAML documents that remember where every key and value came from, read so that no input can hang or crash us.

PyYAML's scanner and parser turn the text into nodes with positions; this module composes them with bounds and
turns them into plain Python data, keeping a map from each value's path to its line and column, so that any later
check can point at the exact spot in the file.

- **YAML 1.2 core schema** for plain scalars: ``true``/``false`` are booleans (``yes``, ``no``, ``on``, ``off`` are
  text), ``null``/``~``/empty is null, decimal integers and floats are numbers, anything else is text. Numbers that
  YAML 1.1 and 1.2 read differently, or that 1.2 reads as a number a person may not expect (``010``, ``0x1F``,
  ``0o17``, ``1_000``), are an error asking for a plain decimal or quotes; ``1:30`` is text, as in YAML 1.2 (1.1
  read it as 90).
- **No explicit tags** (``!!str``, ``!!python/...``, ``!custom``): nothing in our files needs one.
- **Bounded**: file size, nesting depth, the size of a number, and the number of values the document expands to
  (aliases count every value they repeat, so a "billion laughs" document is refused at the alias, naming its
  anchor), and an alias cannot refer to the collection it is inside.
- **Fast and exact**: libyaml's parser (C, bundled with PyYAML) feeds the same bounded composer, giving the same
  nodes at the same positions; any file it cannot read, and files with tabs or empty values (where the two parsers
  differ), are read by PyYAML's pure-Python parser, whose messages are the ones users see
  (tests/catalog/test_fast_yaml.py compares them). Documents without anchors, aliases, tags or merge keys (every
  generated catalog, most written ones) skip the nodes: built straight from libyaml's events in one pass, their
  positions read again only when a problem needs one (``_direct_build``; the same data and positions).
- Duplicate keys are an error (YAML says keys are unique; PyYAML would silently keep the last one). ``<<`` merge
  keys work (a YAML 1.1 feature many files use); keys written explicitly win over merged ones.

Why PyYAML rather than ruamel.yaml (docs/catalog-reference.md says the same): both compose recursively and expand
aliases without limits, so either needs the bounds above; ruamel's YAML 1.2 resolver reads ``0o17`` and ``0x1F``
as numbers (as the 1.2 core schema says) where we want an error; PyYAML is already a dependency of the Pulumi SDK, so the program installs nothing more.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from .errors import ConfigurationError, Path, Problem, format_path

#: Bounds far above any real catalog or stack file (a 5000-model catalog is ~3.5 MB, ~10 levels, ~300,000 values:
#: make bench's largest fleet).
MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 1_000_000
MAX_NUMBER_DIGITS = 30

_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_NULL = ("", "~", "null", "Null", "NULL")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
#: Plain scalars some YAML reader takes for a number, though not a plain YAML 1.2 decimal: octal, hex, binary,
#: leading zeros, digit separators.
#: Every number pattern here starts with one of these (a sign, a digit or a dot).
_NUMBER_START = frozenset("+-.0123456789")
_AMBIGUOUS_NUMBER = re.compile(r"[-+]?(0[0-9_]+|0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*_[0-9_]*)")

#: Internal tags the composer gives untagged nodes, so that any standard tag seen later was written explicitly.
_PLAIN = "!mlserve/plain"
_QUOTED = "!mlserve/quoted"
_SEQ = "!mlserve/seq"
_MAP = "!mlserve/map"


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


def _mark(node_or_mark: Any) -> tuple[int, int]:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return mark.line + 1, mark.column + 1


class _RefusedError(Exception):
    """A bound was hit while composing: located at ``mark``."""

    def __init__(self, mark: Any, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


class _AliasNode(Node):
    """Where an alias was written, and the anchored node it repeats (PyYAML would hand back the node itself)."""

    id = "alias"

    def __init__(self, target: Node, anchor: str, start_mark: Any, end_mark: Any):
        super().__init__(target.tag, target.value, start_mark, end_mark)
        self.target = target
        self.anchor = anchor


class _BoundedComposer:
    """PyYAML's composer with bounds and our own tag resolution (see the module docstring), over either parser."""

    depth: int
    open_anchors: list[str]

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _QUOTED
        return _SEQ if kind is SequenceNode else _MAP

    def compose_node(self, parent: Any, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self.get_event()
            if event.anchor not in self.anchors:
                raise _RefusedError(event.start_mark, f"alias '*{event.anchor}' refers to no anchor defined before it")
            if event.anchor in self.open_anchors:
                target = self.anchors[event.anchor]
                line, col = _mark(target)
                raise _RefusedError(
                    event.start_mark,
                    f"alias '*{event.anchor}' is inside the value anchored as '&{event.anchor}' (line {line}, "
                    f"column {col}): a recursive alias would repeat it forever",
                )
            return _AliasNode(self.anchors[event.anchor], event.anchor, event.start_mark, event.end_mark)
        collection = isinstance(event, (SequenceStartEvent, MappingStartEvent))
        if collection:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _RefusedError(
                    event.start_mark, f"nested more than {MAX_DEPTH} levels deep; no file here needs that"
                )
        anchor = getattr(event, "anchor", None)
        if collection and anchor is not None:
            self.open_anchors.append(anchor)
        try:
            return Composer.compose_node(self, parent, index)
        finally:
            if collection:
                self.depth -= 1
                if anchor is not None:
                    self.open_anchors.pop()


class _Loader(_BoundedComposer, yaml.SafeLoader):
    """PyYAML's pure-Python scanner and parser under the bounded composer: the reference reader, and the one that
    says what is wrong with a file."""

    def __init__(self, text: str):
        super().__init__(text)
        self.depth = 0
        self.open_anchors: list[str] = []

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        # The scanner looks ahead over every open '[' or '{' for each token (quadratic in flow depth): bound it here,
        # before the composer's depth check would ever see the collection.
        if self.flow_level >= MAX_DEPTH:
            raise _RefusedError(self.get_mark(), f"nested more than {MAX_DEPTH} levels deep; no file here needs that")
        super().fetch_flow_collection_start(token_class)


_CParser = getattr(getattr(yaml, "_yaml", None), "CParser", None) if yaml.__with_libyaml__ else None

if _CParser is not None:

    class _FastLoader(_CParser, _BoundedComposer, Composer, BaseResolver):
        """libyaml's scanner and parser (bundled with PyYAML's wheels; about ten times faster) under the same
        bounded composer: the same events, so the same nodes with the same positions. Used for valid files only:
        on any problem the file is read again by ``_Loader``, whose messages are the ones users see."""

        def __init__(self, text: str):
            _CParser.__init__(self, text)
            Composer.__init__(self)
            BaseResolver.__init__(self)
            self.depth = 0
            self.open_anchors = []

        # libyaml's own composer (C) would bypass the bounds: compose with PyYAML's, in Python.
        get_single_node = Composer.get_single_node
        compose_document = Composer.compose_document
        compose_sequence_node = Composer.compose_sequence_node
        compose_mapping_node = Composer.compose_mapping_node

        def compose_scalar_node(self, anchor: Any) -> Node:
            event = self.peek_event()
            if not event.value and event.implicit[0]:
                # An empty value (`key:`): libyaml places it elsewhere than PyYAML does, and its position is what
                # a message about it shows; the pure-Python reader reads such files.
                raise _SlowPathError
            return Composer.compose_scalar_node(self, anchor)


class _SlowPathError(Exception):
    """The fast reader leaves this file to the pure-Python one."""


class _DirectDocument(SourceDocument):
    """A document ``_direct_build`` built without positions: they are read when first asked for (a problem to
    locate, ``has``), by building the same text again with them. A valid catalog never needs them: recording the
    position of every key and value was a third of reading a large catalog."""

    def __init__(self, file: str, data: Any, text: str):  # no value_marks, key_marks: see __getattr__
        self.file = file
        self.data = data
        self._text = text

    def __getattr__(self, name: str) -> Any:
        if name not in ("value_marks", "key_marks"):
            raise AttributeError(name)
        marked = _direct_build(self._text, self.file, marks=True)
        assert marked is not None, "the same text built once already"
        self.value_marks, self.key_marks = marked.value_marks, marked.key_marks
        return getattr(self, name)


def _direct_build(text: str, file: str, marks: bool = False) -> SourceDocument | None:
    """The document built straight from libyaml's events, one pass, without nodes: the same data and positions as
    composing and building (``_Builder``), for the documents most files are, or None, and ``parse_yaml`` composes.
    ``marks``: record every position now (else they are read when first asked for, ``_DirectDocument``).

    None for anything else: an anchor, alias, explicit tag or ``<<`` merge key, an empty or refused plain scalar, a
    duplicate or non-scalar key, a document that is not a mapping or a list, more than one document, a bound reached
    (values, depth) or any parser error. Those documents, and every message about them, are left to the composing
    readers (about four times slower: a node per value, composed in Python, then walked twice)."""
    if _CParser is None or "\t" in text or "\ufeff" in text[1:] or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    # Anchors, tags and aliases need '&', '!' and '*': a text without any has none, and its events need no look.
    special = "&" in text or "!" in text or "*" in text
    parser = _CParser(text)
    get = parser.get_event
    value_marks: dict[Path, tuple[int, int]] = {}
    key_marks: dict[Path, tuple[int, int]] = {}
    # The open collections, innermost last: [container, is a mapping, key awaiting its value or next index, its
    # path (kept with marks only)].
    stack: list[list[Any]] = []
    try:
        if type(get()) is not StreamStartEvent or type(get()) is not DocumentStartEvent:
            return None
        event = get()
        kind = type(event)
        if (kind is not MappingStartEvent and kind is not SequenceStartEvent) or event.anchor or event.tag:
            return None
        mark = event.start_mark
        value_marks[()] = (mark.line + 1, mark.column + 1)
        root: Any = {} if kind is MappingStartEvent else []
        frame = [root, kind is MappingStartEvent, None if kind is MappingStartEvent else 0, ()]
        stack.append(frame)
        values = 1
        while stack:
            event = get()
            kind = type(event)
            if kind is MappingEndEvent or kind is SequenceEndEvent:
                stack.pop()
                if stack:
                    frame = stack[-1]
                continue
            scalar = kind is ScalarEvent
            if not scalar and kind is not MappingStartEvent and kind is not SequenceStartEvent:
                return None  # an alias (or anything else)
            if special and (event.anchor is not None or event.tag is not None):
                return None
            container, mapping, key, parent = frame
            if mapping:
                if key is None:  # a key: its value comes next
                    if not scalar:
                        return None
                    key = event.value
                    if key in container or (key == "<<" and event.implicit[0]):
                        return None
                    frame[2] = key
                    if marks:
                        mark = event.start_mark
                        key_marks[parent + (key,)] = (mark.line + 1, mark.column + 1)
                    continue
                frame[2] = None
            else:
                frame[2] = key + 1
            values += 1
            if values > MAX_VALUES:
                return None
            path: Path = ()
            if marks:
                path = parent + (key,)
                mark = event.start_mark
                value_marks[path] = (mark.line + 1, mark.column + 1)
            if scalar:
                value: Any = event.value
                if event.implicit[0]:
                    if not value:
                        return None  # an empty value: libyaml places it elsewhere than the reference reader
                    if value.isdigit() and value.isascii() and (value[0] != "0" or len(value) == 1):
                        if len(value) > MAX_NUMBER_DIGITS:
                            return None  # refused: the composing readers say why
                        value = int(value)  # a plain decimal integer (most numbers): what _plain_scalar gives
                    elif value[0] in _NUMBER_START or value in _NULL or value in _BOOL:  # else plain text
                        value = _plain_scalar(value)
            else:
                if len(stack) >= MAX_DEPTH - 1:
                    return None
                nested = kind is MappingStartEvent
                value = {} if nested else []
                frame = [value, nested, None if nested else 0, path]
                stack.append(frame)
            if mapping:
                container[key] = value
            else:
                container.append(value)
        if type(get()) is not DocumentEndEvent or type(get()) is not StreamEndEvent:
            return None
    except Exception:  # a parser error, a refused number: the composing readers report it
        return None
    finally:
        parser.dispose()
    if not marks:
        return _DirectDocument(file, root, text)
    return SourceDocument(file=file, data=root, value_marks=value_marks, key_marks=key_marks)


def _fast_compose(text: str) -> tuple[bool, Node | None]:
    """(True, the document's node) when libyaml reads ``text`` without any problem; (False, None) otherwise,
    including text with a character YAML does not allow (the pure-Python reader then says which and where)."""
    # Tabs (libyaml accepts some that PyYAML refuses) and byte-order marks after the start (read differently): the
    # reference reader decides.
    if _CParser is None or "\t" in text or "\ufeff" in text[1:] or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return False, None
    loader = _FastLoader(text)
    try:
        return True, loader.get_single_node()
    except Exception:  # any problem: the reference reader reads the file again and reports it
        return False, None
    finally:
        loader.dispose()


def _tag_name(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _plain_scalar(text: str) -> Any:
    """A plain scalar under the YAML 1.2 core schema; raises ValueError with the reason for refused numbers."""
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if text[0] not in _NUMBER_START:  # no number pattern below can match: text
        return text
    if _AMBIGUOUS_NUMBER.fullmatch(text):
        raise ValueError(
            f"'{text}' is read as a number by some YAML readers (octal, hex, binary or digit groups) and as text by "
            "others; write a plain decimal number, or quote it for text"
        )
    if _INT.fullmatch(text):
        digits = len(text.lstrip("+-"))
        if digits > MAX_NUMBER_DIGITS:
            raise ValueError(f"an integer of {digits} digits; numbers here have at most {MAX_NUMBER_DIGITS} digits")
        return int(text)
    if _FLOAT.fullmatch(text):
        if len(text) > MAX_NUMBER_DIGITS + 10:
            raise ValueError(f"a number written with {len(text)} characters; numbers here are shorter")
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"'{text}' is too large a number")
        return value
    if _SPECIAL_FLOAT.fullmatch(text):
        raise ValueError(f"'{text}' is not a finite number; quote it for text")
    return text


class _Builder:
    def __init__(self, doc: SourceDocument):
        self.doc = doc
        self.problems: list[Problem] = []
        self.values = 0
        self.sizes: dict[int, int] = {}
        self.merge_depth = 0

    def _problem(self, where: Any, path: Path, message: str) -> None:
        line, col = _mark(where)
        self.problems.append(Problem(self.doc.file, line, col, format_path(path), message))

    def size(self, node: Node) -> int:
        """How many values ``node`` expands to, aliases included (memoized; iterative, as chains of aliases can be
        longer than Python's recursion limit)."""
        stack = [(node.target if isinstance(node, _AliasNode) else node, False)]
        while stack:
            current, children_done = stack.pop()
            if id(current) in self.sizes:
                continue
            if isinstance(current, SequenceNode):
                children = current.value
            elif isinstance(current, MappingNode):
                children = [v for _, v in current.value]
            else:
                children = []
            children = [c.target if isinstance(c, _AliasNode) else c for c in children]
            if children_done:
                self.sizes[id(current)] = 1 + sum(self.sizes[id(c)] for c in children)
            else:
                stack.append((current, True))
                unique = {id(c): c for c in children if id(c) not in self.sizes}
                stack.extend((c, False) for c in unique.values())
        return self.sizes[id(node.target if isinstance(node, _AliasNode) else node)]

    def _check_alias(self, node: _AliasNode) -> None:
        added = self.size(node)
        if self.values + added > MAX_VALUES:
            raise self._too_big(node, added)

    def _too_big(self, alias: _AliasNode, added: int) -> _RefusedError:
        line, col = _mark(alias.target)
        return _RefusedError(
            alias.start_mark,
            f"aliases expand the document past {MAX_VALUES} values: '*{alias.anchor}' alone repeats {added} values "
            f"of the anchor '&{alias.anchor}' (line {line}, column {col}); aliases that multiply are refused",
        )

    def check_total(self, root: Node) -> None:
        """Refuse, before building anything, a document whose aliases expand it past MAX_VALUES, naming the alias
        that repeats the most (first in the file among equals)."""
        if self.size(root) <= MAX_VALUES:
            return
        aliases: list[_AliasNode] = []
        stack, seen = [root], set()
        while stack:  # the composed graph without following aliases: linear in the file
            node = stack.pop()
            if isinstance(node, _AliasNode):
                aliases.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                if isinstance(node, SequenceNode):
                    stack.extend(node.value)
                elif isinstance(node, MappingNode):
                    stack.extend(v for pair in node.value for v in pair)
        if not aliases:  # simply too many values: building stops at the first one past the bound, located
            return
        worst = max(aliases, key=lambda a: (self.size(a), -a.start_mark.index))
        raise self._too_big(worst, self.size(worst))

    def build(self, node: Node, path: Path) -> Any:
        if isinstance(node, _AliasNode):
            self._check_alias(node)
            node = node.target
        self.values += 1
        if self.values > MAX_VALUES:
            raise _RefusedError(node.start_mark, f"the document has more than {MAX_VALUES} values")
        if len(path) > MAX_DEPTH:
            raise _RefusedError(node.start_mark, f"nested more than {MAX_DEPTH} levels deep once aliases are expanded")
        self.doc.value_marks[path] = _mark(node)
        if node.tag not in (_PLAIN, _QUOTED, _SEQ, _MAP):
            self._problem(
                node,
                path,
                f"explicit tag '{_tag_name(node.tag)}' is not allowed; write the value without a tag (quote it for "
                "text)",
            )
            return None
        if isinstance(node, ScalarNode):
            if node.tag == _QUOTED:
                return node.value
            try:
                return _plain_scalar(node.value)
            except ValueError as exc:
                self._problem(node, path, str(exc))
                return None
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._mapping(node, path)

    def _merged(self, value: Node, path: Path) -> list[MappingNode]:
        """The mappings a ``<<`` key merges in, counted like aliases."""
        if isinstance(value, _AliasNode):
            self._check_alias(value)
            value = value.target
        items = value.value if isinstance(value, SequenceNode) else [value]
        result = []
        for item in items:
            if isinstance(item, _AliasNode):
                self._check_alias(item)
                item = item.target
            if isinstance(item, MappingNode):
                result.append(item)
            else:
                self._problem(item, path, "'<<' must merge a mapping or a list of mappings")
        return result

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        def is_merge(key: Node) -> bool:
            return isinstance(key, ScalarNode) and key.tag == _PLAIN and key.value == "<<"

        explicit = [(k, v) for k, v in node.value if not is_merge(k)]
        result: dict[Any, Any] = {}
        # Merge keys first, earlier merged mappings winning over later ones; explicit keys then overwrite them.
        for merge_value in (v for k, v in node.value if is_merge(k)):
            for merged in self._merged(merge_value, path):
                self.merge_depth += 1
                if self.merge_depth > MAX_DEPTH:
                    raise _RefusedError(merged.start_mark, f"merges ('<<') nested more than {MAX_DEPTH} levels deep")
                try:
                    for key, value in self._mapping(merged, path).items():
                        result.setdefault(key, value)
                finally:
                    self.merge_depth -= 1
        first_seen: dict[Any, int] = {}
        for key_node, value_node in explicit:
            line, col = _mark(key_node)
            if isinstance(key_node, _AliasNode) or not isinstance(key_node, ScalarNode):
                self._problem(key_node, path, "keys must be plain scalars")
                continue
            if key_node.tag not in (_PLAIN, _QUOTED):
                self._problem(key_node, path, f"explicit tag '{_tag_name(key_node.tag)}' is not allowed on a key")
                continue
            # Every key in our files is a name: `1: x` or `true: x` keep the text as written.
            key = key_node.value
            if key in first_seen:
                self._problem(
                    key_node,
                    path + (key,),
                    f"duplicate key '{key}' (first defined on line {first_seen[key]}); each key may appear once",
                )
                continue
            first_seen[key] = line
            self.doc.key_marks[path + (key,)] = (line, col)
            result[key] = self.build(value_node, path + (key,))
        return result


def _reader_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    """A character YAML does not allow (control characters, ...), located."""
    position = max(0, min(exc.position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return Problem(file, line, column, "", f"character U+{exc.character:04X} is not allowed in YAML ({exc.reason})")


def _compose(text: str, file: str) -> Node | None:
    """The document's node, read by PyYAML's pure-Python reader; ConfigurationError saying what is wrong."""
    try:
        loader = _Loader(text)  # checks every character first
    except yaml.reader.ReaderError as exc:
        raise ConfigurationError([_reader_problem(exc, text, file)]) from None
    try:
        return loader.get_single_node()
    except _RefusedError as exc:
        line, col = _mark(exc.mark)
        raise ConfigurationError([Problem(file, line, col, "", exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigurationError([Problem(file, line, col, "", f"YAML syntax error: {what}")]) from None
    except yaml.reader.ReaderError as exc:
        raise ConfigurationError([_reader_problem(exc, text, file)]) from None
    except yaml.YAMLError as exc:  # anything else PyYAML reports without a position
        raise ConfigurationError([Problem(file, 1, 1, "", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()


def parse_yaml(text: str, file: str) -> SourceDocument:
    """Parse one YAML document; raise ConfigurationError for syntax errors, refused input and duplicate keys."""
    doc = SourceDocument(file=file, data=None)
    if len(text) > MAX_BYTES:
        raise ConfigurationError(
            [Problem(file, 1, 1, "", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB; refused unread")]
        )
    direct = _direct_build(text, file)
    if direct is not None:
        return direct
    parsed, node = _fast_compose(text)
    if not parsed:
        node = _compose(text, file)
    if node is None:
        doc.value_marks[()] = (1, 1)
        return doc
    builder = _Builder(doc)
    try:
        builder.check_total(node)
        doc.data = builder.build(node, ())
    except _RefusedError as exc:
        line, col = _mark(exc.mark)
        raise ConfigurationError([Problem(file, line, col, "", exc.message)]) from None
    if builder.problems:
        raise ConfigurationError(builder.problems)
    return doc


def load_yaml(path: FsPath | str, shown_as: str | None = None) -> SourceDocument:
    """Read and parse a YAML file; a missing, unreadable or oversized file is a located problem too."""
    fs_path = FsPath(path)
    file = shown_as or str(path)
    try:
        if not fs_path.is_file() and fs_path.exists():
            raise ConfigurationError([Problem(file, 1, 1, "", "not a regular file")])
        with fs_path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise ConfigurationError(
                [Problem(file, 1, 1, "", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB; refused")]
            )
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigurationError([Problem(file, 1, 1, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError([Problem(file, 1, 1, "", f"cannot read file: {exc}")]) from None
    return _parse_cached(text, file)


#: The last few documents parsed from files, keyed by their text and shown name: a run reads a stack file several
#: times (its config, its settings, the other stacks' clusters) and the CLI reads the inputs once before the full
#: read (model_catalog/inputs.py). Keyed by content, so an edited file is parsed again. Callers treat a
#: SourceDocument as read-only (none changes one after parsing). Errors are not cached.
_parse_cached = functools.lru_cache(maxsize=8)(parse_yaml)
