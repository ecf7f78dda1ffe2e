"""The render writes manifests with libyaml's emitter (mlserve/output.py): it must give the very bytes PyYAML's
pure-Python emitter gives (the goldens were written with it, and a machine without libyaml falls back to it)."""

from __future__ import annotations

import os

import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mlserve import output
from mlserve.mock_runtime import SECRET_MARK, SECRET_SIG, UNKNOWN, Registration

# The same examples on every run, so that CI never fails on a case a previous run did not meet; `make fuzz`
# (FUZZ_SAVE=1) explores new ones, as for tests/test_fuzz.py.
DERANDOMIZE = os.environ.get("FUZZ_SAVE") != "1"


def python_yaml(obj) -> str:
    options = {"sort_keys": False, "default_flow_style": False, "width": 1000, "allow_unicode": True}
    return yaml.dump(obj, Dumper=output._PythonDumper, **options)


def test_the_render_uses_libyaml():
    assert yaml.__with_libyaml__, "PyYAML without libyaml: renders fall back to the pure-Python emitter"
    assert issubclass(output._Dumper, yaml.CSafeDumper)


# Text with what changes a scalar's style: newlines (literal blocks), leading and trailing spaces, quotes, colons,
# '#', tabs, YAML indicators, words YAML reads as booleans or null, numbers, non-ASCII and very long lines.
_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(list("ab :#-'\"\n\t{}[],&*!|>%@`?\\é😀0.")), max_size=40),
    st.sampled_from(["", " ", "yes", "no", "null", "~", "true", "1.0", "0x1F", "- a", "a\n", "\na", " a\n b ", "é"]),
    st.text(max_size=20),
    st.integers(990, 1010).map(lambda n: ("ab " * 400)[:n]),  # around the writer's line width
)
#: Keys of Kubernetes objects are never empty and never span lines (the API validates names, label and data keys).
_KEY = _TEXT.filter(lambda key: key and not any(c in key for c in "\r\n\x85\u2028\u2029"))
_SCALAR = st.one_of(_TEXT, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEY, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None, derandomize=DERANDOMIZE)
@given(st.dictionaries(_KEY, _VALUE, min_size=1, max_size=6))
def test_libyaml_and_python_emitters_write_the_same_bytes(value):
    # A manifest is a mapping (a bare top-level scalar would end with '...' in one emitter only: never written).
    assert output.to_yaml(value) == python_yaml(value)


def test_a_character_beyond_the_basic_plane_is_written_as_it_is():
    # libyaml would escape it ("\U0001F600"); the writer hands such an object to the pure-Python emitter.
    assert output.to_yaml({"description": "fast \U0001f600"}) == "description: fast \U0001f600\n"


# Values as they come off the wire, with what the writer masks: the unknown sentinel and secrets (a secret mapping
# keeps its keys).
_WIRE = st.recursive(
    st.one_of(_SCALAR, st.just(UNKNOWN), st.floats(-1e6, 1e6).map(float).filter(float.is_integer)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(_KEY, inner, max_size=4),
        inner.map(lambda v: {SECRET_SIG: SECRET_MARK, "value": v}),
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, derandomize=DERANDOMIZE)
@given(st.fixed_dictionaries({"apiVersion": _TEXT, "kind": _TEXT, "metadata": _WIRE}, optional={"spec": _WIRE}))
def test_manifests_written_from_the_inputs_are_the_cleaned_objects_bytes(inputs):
    # The writer emits a manifest straight from the registration's inputs; the bytes are those of the cleaned
    # object (mlserve.output.manifest) dumped by PyYAML.
    reg = Registration("urn", "kubernetes:core/v1:ConfigMap", "n", None, True, None, [], {}, inputs)
    assert output.manifest_yaml(inputs) == output.to_yaml(output.manifest(reg))


def test_a_block_scalar_keeping_its_newlines_ends_the_document_as_pyyaml_does():
    # libyaml would end this document with '...' (an open-ended '|+' scalar before the end); PyYAML does not.
    value = {"0": ["\n", ""]}
    assert output.to_yaml(value) == python_yaml(value) == "'0':\n- |2+\n\n- ''\n"
    inputs = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "a\n\n", "y": ""}}
    reg = Registration("urn", "kubernetes:core/v1:ConfigMap", "n", None, True, None, [], {}, inputs)
    assert output.manifest_yaml(inputs) == python_yaml(output.manifest(reg))
    assert not output.manifest_yaml(inputs).endswith("...\n")


# The text writer (output._text_manifest) writes a manifest as lines from the texts libyaml gives each scalar, and
# leaves every object it cannot write that way to the event path. Both must give the bytes of the reference: the
# cleaned object dumped by to_yaml.
_LONG = st.integers(985, 1100).map(lambda n: ("word " * 300)[:n])  # lines near and past the writer's width
_WORDS = st.sampled_from(
    [
        *(" a", "a ", "a: b", "a #b", "#a", "'a'", '"a"', "- a", "-", "?", "? a", ":", "a:", "@a", "`a", "%a", "|"),
        *("yes", "No", "on", "OFF", "null", "Null", "~", "0x1F", "0o17", "1e3", "1_000", ".5", "-.inf", ".NaN", ">"),
        *("2001-12-14", "1:30", "=", "<<", "é", "日本語", "\u00a0", "a\tb", "\t", "\x07", "\ufeff", "{a}", "*a"),
        *("", "[unknown]", "[secret]", "&a", "!a", "a,b", "a[0]", "\\", "don't", "x" * 128, "é" * 65),
    ]
)
_LINE = st.text(alphabet=st.sampled_from(list("ab :#-'\"\t{}[],&*!|>%@`?\\é日\u00a0\x070.")), max_size=30)
_BLOCK_LINE = st.text(alphabet=st.sampled_from(list("ab :#-'\"{}[],&*!|>%@`?\\é日0.")), max_size=30).map(str.rstrip)
#: Multi-line strings: literal blocks at the depth they are found, or (_SPECIAL_BLOCK: a space before a break, a
#: tab, a control character, final newlines kept) a style the text writer leaves to the event path.
_BLOCK = st.one_of(
    st.sampled_from(["a\nb", "a\n", " a\nb", "a\n b\n", "a\n\nb\n", "# x\ny", "é\n日本\n", "\n\na", "- a\n- b"]),
    st.sampled_from(['#!/bin/sh\nexec "$@"\n', '{\n  "a": 1\n}\n', "a: 1\nb: |\n  c\n", "'a'\n\"b\""]),
    st.lists(_BLOCK_LINE, min_size=2, max_size=5).map("\n".join),
    st.lists(_BLOCK_LINE, min_size=1, max_size=5).map(lambda lines: "\n".join(lines).rstrip("\n") + "\n"),
    _LONG.map(lambda text: text.replace(" ", "\n", 3).rstrip()),  # long lines in a literal block
)
_SPECIAL_BLOCK = st.sampled_from(["\n", "a \nb", "\ta\nb", "a\nb\t", "a\x07\nb", "a\n\n", "a\n\n\n", "\n\n"])
#: What only the event path writes: beyond the Basic Multilingual Plane, breaks other than \n.
_ODD = st.sampled_from(["\U0001f600", "a\x85b", "a\u2028b", "a\u2029", "a\rb", "a\r\nb"])
#: Mostly what real manifests hold, some of what sends an object to the event path (each is in a few objects).
_AWKWARD = st.one_of(*[_WORDS, _LINE, _BLOCK] * 5, _LONG, _TEXT, _ODD, _SPECIAL_BLOCK)
_AWKWARD_KEY = st.one_of(*[_WORDS, _LINE] * 5, st.text(max_size=10), _ODD).filter(bool)
_LEAF = st.one_of(
    _AWKWARD,
    st.just(UNKNOWN),
    st.integers(),
    st.floats(),  # nan and infinities too
    st.floats(-1e15, 1e15).map(round).map(float),  # integral: written as integers
    st.booleans(),
    st.none(),
)
_EMPTY = st.sampled_from([{}, []])
_NODE = st.recursive(
    st.one_of(_LEAF, _EMPTY),
    lambda inner: st.one_of(
        *[st.lists(st.one_of(inner, _EMPTY), max_size=4), st.dictionaries(_AWKWARD_KEY, inner, max_size=4)] * 2,
        inner.map(lambda v: {SECRET_SIG: SECRET_MARK, "value": v}),
    ),
    max_leaves=20,
)


def reference(inputs) -> str:
    return output.to_yaml(output._head_first(output.clean(inputs)))


@settings(max_examples=400, deadline=None, derandomize=DERANDOMIZE)
@given(
    st.fixed_dictionaries(
        {"apiVersion": _AWKWARD, "kind": _AWKWARD, "metadata": _NODE},
        optional={"spec": _NODE, "data": st.dictionaries(_AWKWARD_KEY, _AWKWARD, max_size=5), "z": _NODE},
    )
)
def test_the_text_writer_writes_the_reference_bytes(inputs):
    text = output._text_manifest(inputs)
    event("text writer" if text is not None else "event path")
    if text is not None:
        assert text == reference(inputs)
    assert output.manifest_yaml(inputs) == reference(inputs)


#: Leaves the text writer always writes itself: the layout of nested collections is what varies.
_PLAIN_LEAF = st.one_of(
    st.sampled_from(["a", "yes", "", " a", "a: b", "- a", "é", "[unknown]", UNKNOWN, "a\nb", "a\n", " a\n\nb\n"]),
    st.integers(-(10**6), 10**6),
    st.sampled_from([0.5, -2.0, 1e20, 1e-7, float("inf"), float("nan"), True, False, None]),
    _EMPTY,
)
_LAYOUT = st.recursive(
    _PLAIN_LEAF,
    lambda inner: st.one_of(
        *[st.lists(inner, min_size=1, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "c d", "'e'"]), inner)]
        * 3,
        inner.map(lambda v: {SECRET_SIG: SECRET_MARK, "value": v}),
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None, derandomize=DERANDOMIZE)
@given(st.fixed_dictionaries({"apiVersion": st.just("v1"), "kind": st.just("K"), "metadata": _LAYOUT, "spec": _LAYOUT}))
def test_the_text_writer_lays_out_nested_collections_as_libyaml(inputs):
    assert output._text_manifest(inputs) == reference(inputs)


def _deep(value, depth: int):
    for _ in range(depth):
        value = {"k": [value, {"x": value}]}
    return value


#: Objects the text writer writes itself (not the event path): the shapes and scalars of real manifests.
_WRITTEN = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": {}}, "data": {}},
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "m", "namespace": "ml-prod", "annotations": {"a/b": "yes", "c": "1e3", "d": ""}},
        "spec": {
            "replicas": 2.0,
            "ratio": 0.25,
            "limit": float("inf"),
            "none": None,
            "paused": False,
            "template": {"spec": {"containers": [{"args": ["--port", "8080", " x", "a: b", "#c"], "ports": []}]}},
            "nested": [[["a", {"b": [[]]}], []], {}],
            "password": {SECRET_SIG: SECRET_MARK, "value": {"user": "u", "pass": "p"}},
            "token": {SECRET_SIG: SECRET_MARK, "value": "t"},
            "uid": UNKNOWN,
            "unicode": "日本語 é",
            "quoted": 'it\'s "quoted"',
            "escaped": "bell\x07 tab\t",
        },
    },
    *(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}, "data": _deep(text, depth)}
        for text in ("a\nb\n", "a\nb", "  indented\nfirst\n", "x\n\ny\n", '{\n  "a": 1\n}\n')
        for depth in (0, 1, 3)
    ),
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"long": ("word " * 196)[:980]}},
]


def test_the_text_writer_writes_the_shapes_of_manifests_itself():
    for inputs in _WRITTEN:
        text = output._text_manifest(inputs)
        assert text is not None, inputs
        assert text == reference(inputs)


#: Objects left to the event path: what the text writer does not place itself.
_LEFT = {
    "a character beyond the Basic Multilingual Plane": {"x": "fast \U0001f600"},
    "a block keeping its final newlines": {"x": "a\n\n"},
    "a break other than \\n": {"x": "a\u2028b"},
    "a block libyaml writes double-quoted": {"x": "a \nb"},
    "a key too long for a simple key": {"k" * 129: 1},
    "a multi-line key": {"a\nb": 1},
    "a line past the width": {"x": ("word " * 300)[:998]},
    "a non-string key": {1: "a"},
    "a type the wire never carries": {"x": (1, 2)},
}


def test_the_text_writer_leaves_the_rest_to_the_event_path():
    for why, data in _LEFT.items():
        inputs = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": data}
        assert output._text_manifest(inputs) is None, why
        if why != "a type the wire never carries":  # which PyYAML's safe dumper refuses (as before)
            assert output.manifest_yaml(inputs) == reference(inputs), why
