"""The reader's fast path (libyaml's parser under our bounded composer, model_catalog/yaml_source.py) gives the very
nodes the pure-Python reader gives, positions included; any file it cannot read goes to the pure-Python reader,
whose messages are pinned by test_hostile_yaml.py and tests/bad_inputs/."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlserve.fleet import fleet
from model_catalog import yaml_source
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


def test_every_yaml_file_of_the_project_and_a_fleet_read_the_same_both_ways():
    texts = [yaml.safe_dump(fleet(50), sort_keys=False)]
    for pattern in ("models.yaml", "Pulumi.*.yaml", "examples/**/*.yaml", "tests/**/*.yaml"):
        texts += [
            p.read_text(encoding="utf-8", errors="replace") for p in ROOT.glob(pattern) if "golden" not in p.parts
        ]
    compared = 0
    for text in texts:
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
