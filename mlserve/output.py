"""Write a mock run as reviewable files: one YAML per Kubernetes object, and resources.json.

Output is canonical, so the same inputs give the same bytes: keys sorted (apiVersion, kind, metadata first in
manifests), integral floats written as integers (values cross a protobuf Struct and come back as floats), secret
values replaced by ``[secret]`` (a secret mapping keeps its keys) and values unknown until deploy time by
``[unknown]``.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pulumi.output import Unknown

from components.cluster_guard import identity_note

from .mock_runtime import SECRET_MARK, SECRET_SIG, UNKNOWN, MockRun, Registration
from .output_dir import replace_owned_directory
from .summary import RenderSummary

SECRET_TEXT = "[secret]"
UNKNOWN_TEXT = "[unknown]"
MANIFEST_HEAD = ("apiVersion", "kind", "metadata")


def clean(value: Any) -> Any:
    """Canonical plain data: secrets masked, unknowns marked, integral floats as ints, mapping keys sorted."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_MARK:
            return masked(value.get("value"))
        return {k: clean(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    # Unknowns arrive as the wire sentinel or, once deserialized with keep_unknowns, as pulumi's Unknown object.
    if isinstance(value, Unknown) or value == UNKNOWN:
        return UNKNOWN_TEXT
    return value


def masked(secret: Any) -> Any:
    """A secret's shape without its content: mapping keys stay (a Secret's keys are not secret, and the manifest
    keeps its schema), every value becomes ``[secret]``."""
    if isinstance(secret, dict) and secret.get(SECRET_SIG) != SECRET_MARK:
        return {k: masked(secret[k]) for k in sorted(secret)}
    return SECRET_TEXT


def is_kubernetes_object(reg: Registration) -> bool:
    inputs = reg.inputs
    return (
        reg.custom
        and reg.type.startswith("kubernetes:")
        and isinstance(inputs.get("apiVersion"), str)
        and isinstance(inputs.get("kind"), str)
        and isinstance(inputs.get("metadata"), dict)
    )


def _head_first(obj: dict[str, Any]) -> dict[str, Any]:
    return {**{k: obj[k] for k in MANIFEST_HEAD}, **{k: v for k, v in obj.items() if k not in MANIFEST_HEAD}}


def manifest(reg: Registration) -> dict[str, Any]:
    return _head_first(clean(reg.inputs))


def manifest_file_name(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    namespace = meta.get("namespace") or "_cluster"
    return f"{namespace}--{obj['kind'].lower()}--{meta['name']}.yaml"


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _PythonDumper(yaml.SafeDumper):
    """PyYAML's pure-Python emitter: what the goldens were first written with."""


_PythonDumper.add_representer(str, _str)


class _BeyondLibyamlError(Exception):
    """A string with a character outside Unicode's Basic Multilingual Plane (an emoji, say): libyaml escapes those
    (``"\\U0001F600"``) where PyYAML's emitter writes them as they are."""


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _c_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if not value.isascii() and _ASTRAL.search(value):
        raise _BeyondLibyamlError
    return _str(dumper, value)


_LIBYAML = getattr(yaml, "CSafeDumper", None)


class _Dumper(_LIBYAML or yaml.SafeDumper):
    """PyYAML's safe dumper on libyaml's emitter (bundled with PyYAML's wheels; several times faster than the
    pure-Python one): both write the same bytes for every object a render writes (tests/test_output_emitter.py),
    except for characters beyond the Basic Multilingual Plane, so an object with one is written by the pure-Python
    emitter, as is everything on a machine without libyaml."""


_Dumper.add_representer(str, _c_str)


class _NotDirectError(Exception):
    """A value the direct writer leaves to PyYAML's representer: a string beyond the Basic Multilingual Plane, or
    a type the wire never carries."""


_FLOAT_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_IMPLICIT = _Dumper.yaml_implicit_resolvers
_DIRECT = _LIBYAML is not None and None not in _IMPLICIT and not _Dumper.yaml_path_resolvers


def _detected(text: str) -> str | None:
    """The tag YAML reads plain ``text`` as (PyYAML's resolver for a scalar; None: a string)."""
    for tag, regexp in _IMPLICIT.get(text[0] if text else "", ()):
        if regexp.match(text):
            return tag
    return None


#: The scalar event of each string written so far (``_string_event``), up to ``_STRING_EVENTS_MAX`` strings.
_STRING_EVENTS: dict[str, Any] = {}
_STRING_EVENTS_MAX = 200_000


def _string_event(text: str) -> Any:
    """The YAML event of string ``text``, made once per distinct text: a render writes the same keys, labels and
    values in thousands of objects, and an event depends on its text alone (libyaml's emitter only reads it).
    Raises _NotDirectError for a string beyond the Basic Multilingual Plane."""
    event = _STRING_EVENTS.get(text)
    if event is None:
        event = _new_string_event(text)
        if event is None:
            raise _NotDirectError
        if len(_STRING_EVENTS) < _STRING_EVENTS_MAX:
            _STRING_EVENTS[text] = event
    return event


def _new_string_event(text: str) -> Any:
    """The YAML event of string ``text`` (as ``_c_str`` represents it), or None beyond the Basic Multilingual
    Plane."""
    if not text.isascii() and _ASTRAL.search(text):
        return None
    style = "|" if "\n" in text else None
    return yaml.ScalarEvent(None, _STR_TAG, (_detected(text) is None, True), text, style=style)


def _float_text(value: float) -> str:
    """PyYAML's SafeRepresenter.represent_float."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text


def _events(value: Any, emit: Callable[[Any], None], head: bool = False) -> None:
    """Emit the YAML events of ``clean(value)`` (the manifest's key order when ``head``), as PyYAML's safe dumper
    would serialize it with the writer's options (no aliases: ``clean`` never shares a mapping or list), without
    building the cleaned copy, the representer's nodes or the serializer's resolver calls: those were most of the
    cost of writing manifests."""
    kind = type(value)
    if kind is str:
        emit(_string_event(UNKNOWN_TEXT if value == UNKNOWN else value))
    elif kind is dict:
        if value.get(SECRET_SIG) == SECRET_MARK:
            _events(masked(value.get("value")), emit)
            return
        emit(yaml.MappingStartEvent(None, _MAP_TAG, True, flow_style=False))
        keys = sorted(value)
        if head:
            keys = [*MANIFEST_HEAD, *(k for k in keys if k not in MANIFEST_HEAD)]
        for key in keys:
            if type(key) is not str:
                raise _NotDirectError
            emit(_string_event(key))
            _events(value[key], emit)
        emit(yaml.MappingEndEvent())
    elif kind is list:
        emit(yaml.SequenceStartEvent(None, _SEQ_TAG, True, flow_style=False))
        for item in value:
            _events(item, emit)
        emit(yaml.SequenceEndEvent())
    else:
        event = _other_event(value)
        if event is None:
            raise _NotDirectError
        emit(event)


def _other_event(value: Any) -> Any:
    """The YAML event of a number, boolean or null (an integral float as an integer); None for another type."""
    kind = type(value)
    if kind is float and value.is_integer():
        value, kind = int(value), int
    if kind is bool:
        tag, text = "tag:yaml.org,2002:bool", "true" if value else "false"
    elif kind is int:
        tag, text = "tag:yaml.org,2002:int", str(value)
    elif value is None:
        tag, text = "tag:yaml.org,2002:null", "null"
    elif kind is float:
        tag, text = _FLOAT_TAG, _float_text(value)
    else:
        return None
    return yaml.ScalarEvent(None, tag, (_detected(text) == tag, False), text)


#: libyaml ends a document with this marker after a block scalar that keeps its trailing newlines (``|+``) where
#: PyYAML's emitter does not: such an object is written by the pure-Python emitter.
_OPEN_ENDED = "\n...\n"


def to_yaml(obj: Any) -> str:
    options = {"sort_keys": False, "default_flow_style": False, "width": 1000, "allow_unicode": True}
    try:
        text = yaml.dump(obj, Dumper=_Dumper, **options)
    except _BeyondLibyamlError:
        text = _OPEN_ENDED
    return yaml.dump(obj, Dumper=_PythonDumper, **options) if text.endswith(_OPEN_ENDED) else text


class _NotTextError(Exception):
    """What the text writer (``_text_manifest``) leaves to the event path: a string libyaml does not write on one
    line (or as a literal block), a key that is not a one-line simple key, a line that could reach the width, a
    type the wire never carries."""


_WIDTH = 1000
#: Characters YAML reads as line breaks besides ``\n``: a string with one is left to the event path.
_BREAKS = re.compile("[\r\x85\u2028\u2029]")


def _breaks(text: str) -> bool:
    """Whether ``text`` has a line break other than ``\\n``."""
    return "\r" in text if text.isascii() else _BREAKS.search(text) is not None


#: The text writer's caches hold at most this many characters per render (bounded memory).
_TEXTS_MAX = 64_000_000
#: A line of a literal block at indent 2 that does not start with its indentation (an empty one does not need it).
_OUTDENTED = re.compile(r"\n(?!  |\n|\Z)")
_DOCUMENT_START = yaml.DocumentStartEvent(explicit=False)
_DOCUMENT_END = yaml.DocumentEndEvent(explicit=False)
_SEQUENCE_START = yaml.SequenceStartEvent(None, _SEQ_TAG, True, flow_style=False)
_SEQUENCE_END = yaml.SequenceEndEvent()
_MAPPING_START = yaml.MappingStartEvent(None, _MAP_TAG, True, flow_style=False)
_MAPPING_END = yaml.MappingEndEvent()
_NULL = yaml.ScalarEvent(None, "tag:yaml.org,2002:null", (True, False), "null")


class _Texts:
    """libyaml's text for each scalar a render writes, made once per distinct scalar (per render) by emitting it,
    with the event path's events and the writer's options, in a small document of its own: styles, quoting and
    escaping are libyaml's. The documents go through one emitter (a document costs microseconds, a new emitter
    tens of them); the strings a manifest misses are emitted together, one sequence item each."""

    def __init__(self) -> None:
        #: string -> its text as a one-line value (after ``key: `` or ``- ``); (type, value) for other scalars.
        self.values: dict[Any, str] = {}
        #: scalars that are not written on one line (they send their objects to the event path)
        self.not_one_line: set[Any] = set()
        #: key -> its text before ``:`` (None: not a one-line simple key)
        self.keys: dict[str, str | None] = {}
        #: string -> a literal block scalar whose lines are at indent 2, from its ``|`` header on (None: not one)
        self.blocks: dict[str, str | None] = {}
        self.size = 0
        self._stream = io.StringIO()
        self._dumper: Any = None

    def clear(self) -> None:
        self.values.clear()
        self.not_one_line.clear()
        self.keys.clear()
        self.blocks.clear()
        self.size = 0
        self._dumper = None

    def _document(self, events: list[Any]) -> str | None:
        """The text of one document of ``events`` (without the ``---`` libyaml starts every document but the
        first with); None, and a fresh emitter for the next one, if it wrote anything else around it."""
        first = self._dumper is None
        if first:
            self._stream = io.StringIO()
            self._dumper = _Dumper(self._stream, default_flow_style=False, width=_WIDTH, allow_unicode=True)
            self._dumper.open()
        emit = self._dumper.emit
        emit(_DOCUMENT_START)
        for event in events:
            emit(event)
        emit(_DOCUMENT_END)
        stream = self._stream
        text = stream.getvalue()
        stream.seek(0)
        stream.truncate()
        if not first:
            if not text.startswith("---\n"):
                self._dumper = None
                return None
            text = text[4:]
        if text.endswith(_OPEN_ENDED):
            self._dumper = None  # the next document would begin with '...'
            return None
        return text

    def _fits(self, extra: int) -> bool:
        self.size += extra
        return self.size < _TEXTS_MAX

    def _items(self, events: list[Any]) -> list[str] | None:
        """The one-line texts of scalar ``events`` as items of a block sequence, or None if one is not one line."""
        document = self._document([_SEQUENCE_START, *events, _SEQUENCE_END])
        if document is None:
            return None
        lines = document.split("\n")
        if len(lines) != len(events) + 1 or lines.pop() != "":
            return None
        items = []
        for line in lines:
            if not line.startswith("- ") or _breaks(line):
                return None
            items.append(line[2:])
        return items

    def learn(self, strings: list[str]) -> dict[str, str | None]:
        """The one-line texts of ``strings`` as values (None: not one line), made together for those not known
        yet (the unknown sentinel is written as ``[unknown]``)."""
        found: dict[str, str | None] = {}
        todo, events = [], []
        for text in strings:
            if text in found:
                continue
            line = self.values.get(text)
            if line is not None or text in self.not_one_line:
                found[text] = line
                continue
            shown = UNKNOWN_TEXT if text == UNKNOWN else text
            event = None if len(shown) > _WIDTH or "\n" in shown or _breaks(shown) else _new_string_event(shown)
            found[text] = None
            if event is not None:
                todo.append(text)
                events.append(event)
        if todo:
            items = self._items(events)
            if items is None:  # one of them is not one line: each on its own
                items = [(self._items([event]) or [None])[0] for event in events]
            for text, item in zip(todo, items, strict=True):
                found[text] = item
                if self._fits(len(item or "") + 64):
                    if item is None:
                        self.not_one_line.add(text)
                    else:
                        self.values[text] = text if item == text else item
        return found

    def other(self, value: Any) -> str:
        """A number, boolean or null as a one-line value (what ``_events`` emits for it)."""
        kind = type(value)
        if kind is float and value.is_integer():
            value, kind = int(value), int
        key = (kind, value)
        text = self.values.get(key)
        if text is not None:
            return text
        event = _other_event(value)
        items = self._items([event]) if event is not None else None
        if items is None:
            raise _NotTextError
        if self._fits(64):
            self.values[key] = items[0]
        return items[0]

    def key(self, key: Any) -> str:
        """``key`` as a simple mapping key (written before ``:``)."""
        if type(key) is not str:
            raise _NotTextError
        if key in self.keys:
            text = self.keys[key]
        else:
            text = None
            event = None if "\n" in key or _breaks(key) else _new_string_event(key)
            document = self._document([_MAPPING_START, event, _NULL, _MAPPING_END]) if event else None
            if document is not None and document.endswith(": null\n") and not document.startswith("? "):
                text = document[: -len(": null\n")]
                if "\n" in text or _breaks(text):
                    text = None
            if self._fits(len(key) + 64):
                self.keys[key] = text
        if text is None:
            raise _NotTextError
        return text

    def block(self, text: str, indent: int) -> str:
        """Multi-line ``text`` as a literal block scalar whose lines are at ``indent`` (> 0, even): from its ``|``
        header on. Raises _NotTextError if libyaml writes it in another style, or keeps its final newlines (``|+``:
        the open end of the document differs)."""
        block = self.blocks.get(text)
        if block is None:
            if text in self.blocks:
                raise _NotTextError
            block = self._block(text)
            if self._fits(len(block or "") + 64):
                self.blocks[text] = block
            if block is None:
                raise _NotTextError
        if indent == 2:
            return block
        # libyaml writes each line of a literal block (but the empty ones) after the indentation, and nothing else
        # depends on it: the block at indent 2, each line moved (kept once, at indent 2: the larger texts of a
        # render are its blocks).
        header, _, body = block.partition("\n")
        return header + ("\n" + body).replace("\n  ", "\n" + " " * indent)

    def _block(self, text: str) -> str | None:
        """``block(text, 2)`` made by libyaml, or None."""
        event = None if _breaks(text) else _new_string_event(text)
        document = self._document([_MAPPING_START, _string_event("k"), event, _MAPPING_END]) if event else None
        if document is None or not document.startswith("k: |"):
            return None
        header, _, body = document.partition("\n")
        if "+" in header or _OUTDENTED.search("\n" + body):
            return None
        return document[len("k: ") :]


_TEXTS = _Texts()


def _text_mapping(
    value: dict[str, Any], indent: str, out: list[Any], pending: list[Any], first: str, head: bool = False
) -> None:
    """Append the block mapping ``value`` (not empty, not a secret) with its keys at column ``len(indent)``; the
    first key's line starts with ``first`` (nothing after the ``- `` of a sequence item). A string without its
    text yet is appended as None and listed in ``pending`` (index in ``out``, string, column)."""
    keys = sorted(value)
    if head:
        keys = [*MANIFEST_HEAD, *(k for k in keys if k not in MANIFEST_HEAD)]
    column = len(indent)
    room = _WIDTH - column - 2  # for a key and its value on the key's line, after ': '
    texts = _TEXTS
    key_texts = texts.keys
    values = texts.values
    append = out.append
    for key in keys:
        text = key_texts.get(key)
        if text is None or type(key) is not str:
            text = texts.key(key)
        item = value[key]
        kind = type(item)
        if kind is str:
            line = values.get(item)
            if line is not None:
                if len(text) + len(line) > room:
                    raise _NotTextError
                append(f"{first}{text}: {line}\n")
            else:
                _text_string(item, f"{first}{text}: ", column, column + len(text) + 2, out, pending)
        elif kind is dict:
            if item.get(SECRET_SIG) == SECRET_MARK:
                _text_mapping({key: masked(item.get("value"))}, indent, out, pending, first)
            elif item:
                inner = indent + "  "
                append(f"{first}{text}:\n")
                _text_mapping(item, inner, out, pending, inner)
            else:
                append(f"{first}{text}: {{}}\n")
        elif kind is list:
            if item:
                append(f"{first}{text}:\n")
                _text_sequence(item, indent, out, pending, indent)  # libyaml's indentless sequence in a mapping
            else:
                append(f"{first}{text}: []\n")
        else:
            line = texts.other(item)
            if len(text) + len(line) > room:
                raise _NotTextError
            append(f"{first}{text}: {line}\n")
        first = indent


def _text_sequence(value: list[Any], indent: str, out: list[Any], pending: list[Any], first: str) -> None:
    """Append the block sequence ``value`` (not empty) with its ``- `` at column ``len(indent)``, the first item's
    line starting with ``first`` (as ``_text_mapping``)."""
    column = len(indent)
    room = _WIDTH - column - 2  # for an item after its '- '
    texts = _TEXTS
    values = texts.values
    append = out.append
    for item in value:
        kind = type(item)
        if kind is dict and item.get(SECRET_SIG) == SECRET_MARK:
            item = masked(item.get("value"))
            kind = type(item)
        if kind is str:
            line = values.get(item)
            if line is not None:
                if len(line) > room:
                    raise _NotTextError
                append(f"{first}- {line}\n")
            else:
                _text_string(item, f"{first}- ", column, column + 2, out, pending)
        elif kind is dict:
            if item:
                inner = indent + "  "
                append(f"{first}- ")
                _text_mapping(item, inner, out, pending, "")
            else:
                append(f"{first}- {{}}\n")
        elif kind is list:
            if item:
                append(f"{first}- ")
                _text_sequence(item, indent + "  ", out, pending, "")
            else:
                append(f"{first}- []\n")
        else:
            line = texts.other(item)
            if len(line) > room:
                raise _NotTextError
            append(f"{first}- {line}\n")
        first = indent


def _text_string(item: str, lead: str, column: int, at: int, out: list[Any], pending: list[Any]) -> None:
    """Append ``lead`` and a string without its one-line text yet, of a mapping or sequence at ``column``: a
    multi-line one as a literal block, another as a None listed in ``pending`` (made with the object's others), to
    be written at column ``at``."""
    out.append(lead)
    if "\n" in item:
        out.append(_TEXTS.block(item, column + 2))
    else:
        pending.append((len(out), item, at))
        out.append(None)
        out.append("\n")


def _text_manifest(inputs: dict[str, Any]) -> str | None:
    """``to_yaml(manifest(...))`` of a Kubernetes object's inputs, written as text: the scalars' texts libyaml
    gave (``_Texts``), laid out as libyaml lays out block collections (a mapping's keys at its column; a sequence
    in a mapping at the mapping's column, its ``- `` items; a collection in a sequence item after its ``- ``;
    ``{}`` and ``[]`` for empty ones). None for an object with anything else (``_NotTextError``)."""
    if inputs.get(SECRET_SIG) == SECRET_MARK:
        return None
    out: list[Any] = []
    pending: list[Any] = []
    try:
        _text_mapping(inputs, "", out, pending, "", head=True)
    except _NotTextError:
        return None
    if pending:
        found = _TEXTS.learn([text for _, text, _ in pending])
        for index, text, column in pending:
            line = found[text]
            if line is None or column + len(line) > _WIDTH:
                return None
            out[index] = line
    return "".join(out)


def manifest_yaml(inputs: dict[str, Any]) -> str:
    """``to_yaml(manifest(...))`` of a Kubernetes object's inputs, the same bytes: written as text from the scalars'
    texts libyaml gave (``_text_manifest``), else by libyaml straight from the inputs' events."""
    if _DIRECT:
        text = _text_manifest(inputs)
        if text is not None:
            return text
        stream = io.StringIO()
        dumper = _Dumper(stream, default_flow_style=False, width=1000, allow_unicode=True, sort_keys=False)
        try:
            dumper.open()
            dumper.emit(yaml.DocumentStartEvent(explicit=False))
            _events(inputs, dumper.emit, head=True)
            dumper.emit(yaml.DocumentEndEvent(explicit=False))
            dumper.close()
        except _NotDirectError:
            pass
        else:
            if not stream.getvalue().endswith(_OPEN_ENDED):
                return stream.getvalue()
    return to_yaml(_head_first(clean(inputs)))


def resource_entry(reg: Registration, manifest_name: str | None = None) -> dict[str, Any]:
    """What only resources.json knows about a resource: URN, parent, provider, dependencies and options. A Kubernetes
    object's inputs are its manifest, so it names that file instead of repeating it (a new model's golden diff is
    its manifests); every other resource (cloud resources, image builds, Helm charts, providers) keeps its inputs."""
    entry: dict[str, Any] = {
        "urn": reg.urn,
        "type": reg.type,
        "name": reg.name,
        "parent": reg.parent,
        "custom": reg.custom,
    }
    if reg.provider:
        entry["provider"] = reg.provider
    if reg.dependencies:
        entry["dependencies"] = reg.dependencies
    if reg.options:
        entry["options"] = clean(reg.options)
    if manifest_name is not None:
        entry["manifest"] = f"manifests/{manifest_name}"
    else:
        entry["inputs"] = clean(reg.inputs)
    return entry


def exception_notes(env: Any) -> list[str]:
    """One line per tier rule a model waives in this stack (model_catalog/tier_rules.py), with its reason."""
    from model_catalog.tier_rules import exceptions_in_effect

    tier = env.settings.environment.tier
    return [
        f"policy exception: model '{model}' waives '{rule}': {reason}"
        for model, spec in env.models.items()
        for rule, reason in exceptions_in_effect(spec, tier)
    ]


def _outside_manifests(reg: Registration) -> bool:
    """Resources whose content is not in manifests/: cloud resources, image builds, and Helm charts (a chart is
    one resource offline; its objects are only known when Helm renders it at deploy time)."""
    if reg.type.startswith("kubernetes:helm.sh/"):
        return True
    return reg.custom and not reg.type.startswith(("kubernetes:", "pulumi:providers:"))


class _Manifests(Mapping[str, str]):
    """``manifests/<name>`` -> YAML text, each written when it is read: the writer holds one object's text at a
    time instead of every manifest of the stack (the largest transient allocation of a render)."""

    def __init__(self, registrations: dict[str, Registration]):
        self._registrations = registrations

    def __getitem__(self, key: str) -> str:
        return manifest_yaml(self._registrations[key].inputs)

    def __contains__(self, key: object) -> bool:  # without making the manifest (Mapping's would)
        return key in self._registrations

    def __iter__(self) -> Iterator[str]:
        return iter(self._registrations)

    def __len__(self) -> int:
        return len(self._registrations)


class _Files(Mapping[str, str]):
    def __init__(self, *parts: Mapping[str, str]):
        self._parts = parts

    def _part(self, key: str) -> Mapping[str, str]:
        for part in self._parts:
            if key in part:
                return part
        raise KeyError(key)

    def __getitem__(self, key: str) -> str:
        return self._part(key)[key]

    def __iter__(self) -> Iterator[str]:
        for part in self._parts:
            yield from part

    def __len__(self) -> int:
        return sum(len(part) for part in self._parts)


def write_render(
    run: MockRun,
    out_dir: Path,
    project_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RenderSummary:
    """Write manifests/ and resources.json into ``out_dir``, replacing a previous render there (and nothing else:
    mlserve/output_dir.py); ``progress(written, total)`` after each file. One pass over the registrations; each
    manifest is made and serialized only when it is written."""
    objects: dict[str, Registration] = {}
    files: dict[str, str] = {}
    kinds: Counter = Counter()
    others: Counter = Counter()
    entries = []
    for reg in run.registrations:
        name = None
        if is_kubernetes_object(reg):
            kind = reg.inputs["kind"]
            name = manifest_file_name({"kind": kind, "metadata": clean(reg.inputs["metadata"])})
            if name in objects:
                raise RuntimeError(f"two objects render to {name}; object names must be unique per kind")
            objects[name] = reg
            files[reg.urn] = name
            kinds[kind] += 1
        if _outside_manifests(reg):
            others[reg.type] += 1
        entries.append(resource_entry(reg, name))
    document = {"stack": run.stack, "outputs": clean(run.outputs), "resources": entries}
    manifests = _Manifests({f"manifests/{name}": objects[name] for name in sorted(objects)})
    resources = {"resources.json": json.dumps(document, indent=2, sort_keys=False) + "\n"}
    del document, entries
    try:
        replace_owned_directory(out_dir, _Files(manifests, resources), project_dir, progress)
    finally:
        _STRING_EVENTS.clear()
        _TEXTS.clear()
    notes = (identity_note(run.environment.settings), *exception_notes(run.environment)) if run.environment else ()
    return RenderSummary(out_dir=out_dir, resources=len(run.registrations), objects=kinds, others=others, notes=notes)
