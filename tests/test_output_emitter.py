"""The render writes manifests with libyaml's emitter (mlserve/output.py): it must give the very bytes PyYAML's
pure-Python emitter gives (the goldens were written with it, and a machine without libyaml falls back to it)."""

from __future__ import annotations

import os

import yaml
from hypothesis import given, settings
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
