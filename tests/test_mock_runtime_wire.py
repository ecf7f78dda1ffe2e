"""The render records each registration's inputs as plain data converted from the wire's protobuf Struct
(mlserve/mock_runtime.py wire_properties): exactly what protobuf's own json_format.MessageToDict gives."""

from __future__ import annotations

import math

import pytest
from google.protobuf import json_format, struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from mlserve.mock_runtime import wire_properties

_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _JSON, max_size=6))
def test_wire_properties_are_what_message_to_dict_gives(value):
    struct = struct_pb2.Struct()
    struct.update(value)
    converted = wire_properties(struct)
    assert converted == json_format.MessageToDict(struct)
    assert list(converted) == list(json_format.MessageToDict(struct))


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan])
def test_a_non_finite_number_is_refused_as_message_to_dict_refuses_it(number):
    struct = struct_pb2.Struct()
    struct.update({"a": [number]})
    with pytest.raises(ValueError):
        json_format.MessageToDict(struct)
    with pytest.raises(ValueError):
        wire_properties(struct)


def test_a_resource_looked_up_by_urn_reads_the_state_the_render_echoed():
    # The recording monitor keeps each echoed resource's recorded inputs, made a Struct again when a lookup by URN
    # asks for them.
    import pulumi

    from mlserve.mock_runtime import run_program
    from tests.helpers import ROOT

    def program():
        first = pulumi.CustomResource("test:index:Thing", "first", {"size": 3, "tags": {"a": "b"}})

        def look_up(urn):
            return pulumi.CustomResource(
                "test:index:Thing", "first", {"size": None, "tags": None}, opts=pulumi.ResourceOptions(urn=urn)
            )

        again = first.urn.apply(look_up)
        pulumi.export("size", again.apply(lambda r: r.size))
        pulumi.export("tags", again.apply(lambda r: r.tags))

    run = run_program(ROOT, "dev", program, config={}, secret_keys=[])
    assert run.outputs == {"size": 3, "tags": {"a": "b"}}


_ALIAS_SPECS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["", "old"]),
        "type": st.sampled_from(["", "kubernetes:apps/v1beta1:Deployment"]),
        "stack": st.sampled_from(["", "prod"]),
        "project": st.sampled_from(["", "ml-serving"]),
        "parentUrn": st.sampled_from(["", "urn:pulumi:prod::ml-serving::a::b"]),
        "noParent": st.booleans(),
    },
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.sampled_from(["", "urn:pulumi:prod::ml-serving::a::old"]), _ALIAS_SPECS))
def test_the_aliases_left_out_are_the_type_only_ones_message_to_dict_shows(alias):
    # The record leaves out aliases that set only a type and a parent (mlserve/mock_runtime.py _type_only), decided
    # on the message itself: the same as the set of keys json_format.MessageToDict gives.
    from pulumi.runtime.proto import alias_pb2

    from mlserve.mock_runtime import _type_only

    if alias is None:
        message = alias_pb2.Alias()
    elif isinstance(alias, str):
        message = alias_pb2.Alias(urn=alias)
    else:
        spec = dict(alias)
        if "parentUrn" in spec and "noParent" in spec:  # one of the two (a oneof): the last one set wins
            del spec["parentUrn"]
        message = alias_pb2.Alias(spec=alias_pb2.Alias.Spec(**spec))
    shown = json_format.MessageToDict(message)
    expected = not ("urn" in shown or set(shown.get("spec", {})) - {"type", "parentUrn"})
    assert _type_only(message) is expected
