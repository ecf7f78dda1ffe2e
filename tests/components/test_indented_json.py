"""A dashboard's JSON text (components/dashboards.py indented_json) is what json.dumps(indent=2, sort_keys=True)
writes, character for character."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from components.dashboards import indented_json

_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),  # NaN and the infinities included: json.dumps writes NaN, Infinity, -Infinity
    st.text(max_size=12),  # any character: escapes and non-ASCII text (written as \\u escapes)
)
_JSON = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(_JSON)
def test_the_text_is_what_json_dumps_writes(value):
    assert indented_json(value) == json.dumps(value, indent=2, sort_keys=True)


def test_values_beyond_json_s_own_types_are_left_to_the_json_module():
    class Number(int):
        pass

    for value in ({1: "a", 2: "b"}, {"a": Number(3)}, [1.5, {"k": math.inf}], {"a": {None: 1}}):
        assert indented_json(value) == json.dumps(value, indent=2, sort_keys=True)
