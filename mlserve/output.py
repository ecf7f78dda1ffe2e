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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pulumi.output import Unknown

from components.cluster_guard import identity_note

from .mock_runtime import SECRET_MARK, SECRET_SIG, UNKNOWN, MockRun, Registration
from .output_dir import replace_owned_directory

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
        if not text.isascii() and _ASTRAL.search(text):
            raise _NotDirectError
        style = "|" if "\n" in text else None
        event = yaml.ScalarEvent(None, _STR_TAG, (_detected(text) is None, True), text, style=style)
        if len(_STRING_EVENTS) < _STRING_EVENTS_MAX:
            _STRING_EVENTS[text] = event
    return event


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
            raise _NotDirectError
        emit(yaml.ScalarEvent(None, tag, (_detected(text) == tag, False), text))


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


def manifest_yaml(inputs: dict[str, Any]) -> str:
    """``to_yaml(manifest(...))`` of a Kubernetes object's inputs, the same bytes, written by libyaml straight
    from the inputs."""
    if _DIRECT:
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


@dataclass(frozen=True)
class RenderSummary:
    out_dir: Path
    resources: int
    objects: Counter
    others: Counter = field(default_factory=Counter)
    """Resources outside Kubernetes (image builds, registry repositories, ...), by type."""
    notes: tuple[str, ...] = ()
    """What the render could not check offline (the cluster guard), said on the summary."""
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase (validate_s, program_s, registrations_s, record_s, write_s): ``mlserve render --timings``."""

    def lines(self, stack: str) -> list[str]:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(self.objects.items()))
        lines = [
            f"rendered stack '{stack}': {self.resources} resources, {sum(self.objects.values())} Kubernetes objects",
            f"  {kinds}",
        ]
        if self.others:
            lines.append("  and " + ", ".join(f"{count} {kind}" for kind, count in sorted(self.others.items())))
        lines.append(f"  -> {self.out_dir}/manifests/, {self.out_dir}/resources.json")
        lines.extend(f"  {note}" for note in self.notes)
        return lines


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
    notes = (identity_note(run.environment.settings), *exception_notes(run.environment)) if run.environment else ()
    return RenderSummary(out_dir=out_dir, resources=len(run.registrations), objects=kinds, others=others, notes=notes)
