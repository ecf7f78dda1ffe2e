"""The reader's fast paths give what the pure-Python reader gives: libyaml's parser under our bounded composer
(model_catalog/yaml_source.py) the very nodes, positions included, and the direct build from libyaml's events the
very data and positions that composing and building give; any file they cannot read goes to the pure-Python
reader, whose messages are pinned by test_hostile_yaml.py and tests/bad_inputs/."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlserve.fleet import fleet
from model_catalog import yaml_source
from model_catalog.errors import ConfigurationError
from tests.helpers import ROOT


def assert_same(fast, slow) -> None:
    if fast is None or slow is None:
        assert fast is slow
        return
    assert type(fast) is type(slow)
    assert fast.tag == slow.tag
    assert (fast.start_mark.line, fast.start_mark.column) == (slow.start_mark.line, slow.start_mark.column)
    if isinstance(fast, yaml_source._AliasNode):
        assert fast.anchor == slow.anchor
        assert fast.target.start_mark.line == slow.target.start_mark.line
    elif isinstance(fast, yaml.ScalarNode):
        assert fast.value == slow.value
    elif isinstance(fast, yaml.SequenceNode):
        for a, b in zip(fast.value, slow.value, strict=True):
            assert_same(a, b)
    else:
        for (ka, va), (kb, vb) in zip(fast.value, slow.value, strict=True):
            assert_same(ka, kb)
            assert_same(va, vb)


def slow_node(text: str):
    loader = yaml_source._Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def test_libyaml_is_there():
    assert yaml_source._CParser is not None, "PyYAML without libyaml: catalogs are read by the pure-Python reader"


def project_texts() -> list[str]:
    texts = [yaml.safe_dump(fleet(50), sort_keys=False)]
    for pattern in ("models.yaml", "Pulumi.*.yaml", "examples/**/*.yaml", "tests/**/*.yaml"):
        texts += [
            p.read_text(encoding="utf-8", errors="replace") for p in ROOT.glob(pattern) if "golden" not in p.parts
        ]
    return texts


def composed(text: str) -> yaml_source.SourceDocument:
    """What parse_yaml gives without the direct build: compose (libyaml's parser, else the pure-Python one), then
    build; ConfigurationError for what it refuses."""
    doc = yaml_source.SourceDocument(file="f.yaml", data=None)
    parsed, node = yaml_source._fast_compose(text)
    if not parsed:
        node = yaml_source._compose(text, "f.yaml")
    if node is None:
        doc.value_marks[()] = (1, 1)
        return doc
    builder = yaml_source._Builder(doc)
    try:
        builder.check_total(node)
        doc.data = builder.build(node, ())
    except yaml_source._RefusedError as exc:
        raise ConfigurationError([]) from exc
    if builder.problems:
        raise ConfigurationError(builder.problems)
    return doc


def assert_same_document(direct: yaml_source.SourceDocument, reference: yaml_source.SourceDocument) -> None:
    assert direct.data == reference.data
    assert repr(direct.data) == repr(reference.data)  # types too (1 is not 1.0, nor True)
    assert list(direct.value_marks.items()) == list(reference.value_marks.items())
    assert list(direct.key_marks.items()) == list(reference.key_marks.items())


def test_the_direct_build_gives_the_same_document_for_every_yaml_file_of_the_project_and_a_fleet():
    built = 0
    for text in project_texts():
        direct = yaml_source._direct_build(text, "f.yaml")
        if direct is not None:
            assert_same_document(direct, composed(text))
            built += 1
    assert built > 10


def test_every_yaml_file_of_the_project_and_a_fleet_read_the_same_both_ways():
    compared = 0
    for text in project_texts():
        parsed, node = yaml_source._fast_compose(text)
        if parsed:
            assert_same(node, slow_node(text))
            compared += 1
    assert compared > 10


_PIECES = [
    "a",
    "b: ",
    "- ",
    "  ",
    "\n",
    ": ",
    "'x'",
    '"y"',
    "&a ",
    "*a",
    "<<: ",
    "{",
    "}",
    "[",
    "]",
    ", ",
    "#c",
    "|",
    ">",
]
_PIECES += ["!!str ", "? ", "---", "...", "\t", "1", "0x1", "~", "é", "%YAML 1.1\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_whatever_both_readers_read_they_read_the_same(text):
    # libyaml accepts a few spellings PyYAML refuses (a comment right after a block indicator, '|#c'); tabs and
    # stray byte-order marks, where they differ more, go to the pure-Python reader.
    parsed, node = yaml_source._fast_compose(text)
    try:
        slow = slow_node(text)
    except (yaml.YAMLError, yaml_source._RefusedError):
        return  # parse_yaml then reports what the pure-Python reader says (test_hostile_yaml.py)
    if parsed:
        assert_same(node, slow)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_whatever_the_direct_build_reads_composing_reads_the_same(text):
    check_direct_build(text)


def check_direct_build(text: str) -> None:
    """The direct build builds only what composing and building accept, and builds it the same; the rest it leaves
    to them."""
    direct = yaml_source._direct_build(text, "f.yaml")
    try:
        reference = composed(text)
    except ConfigurationError:
        assert direct is None
        return
    if direct is not None:
        assert_same_document(direct, reference)


_SCALARS = st.one_of(
    st.sampled_from(["x", "a b", "1", "-2", "1.5", "1e3", "0x1F", "010", "~", "null", "yes", "true", "<<", "é", ""]),
    st.integers(-(10**35), 10**35),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["a", "b", "<<", "1", "k l"]), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["models", "m", "x"]), _DOCUMENTS, min_size=1) | st.lists(_DOCUMENTS, min_size=1),
    st.sampled_from([False, True, None]),
    st.sampled_from(["", "---\n"]),
)
def test_documents_of_every_shape_read_the_same_directly_and_composed(data, flow, start):
    text = start + yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True, sort_keys=False)
    check_direct_build(text)


def test_empty_values_which_libyaml_places_elsewhere_are_left_to_composing():
    for text in ("a: {b: }\n", "a: {b: , c: 1}\n", "a:\n  b:\n", "- \n- x\n", "a: [{b: }]\n"):
        check_direct_build(text)
