"""runtime/common/dynamo.from_attr reads the common attribute types itself: every value, however
nested, comes out as boto3's TypeDeserializer and _plain made it."""

from __future__ import annotations

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer
from hypothesis import given, settings
from hypothesis import strategies as st

from headless_commerce.runtime.common import dynamo

_numbers = st.one_of(
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=6,
                min_value=-10**12, max_value=10**12).map(str),
    st.sampled_from(["0", "-0", "1.50", "1e3", "2E-3", "123456789012345678901234567890123456"]))
_scalars = st.one_of(
    st.text(max_size=20).map(lambda s: {"S": s}), _numbers.map(lambda n: {"N": n}),
    st.booleans().map(lambda b: {"BOOL": b}), st.just({"NULL": True}),
    st.lists(st.text(max_size=5), min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
    st.lists(st.integers(-1000, 1000).map(str), min_size=1, max_size=4, unique=True).map(lambda v: {"NS": v}),
    st.binary(max_size=8).map(lambda b: {"B": b}))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(lambda v: {"L": v}),
    st.dictionaries(st.text(max_size=6), inner, max_size=4).map(lambda v: {"M": v})), max_leaves=20)


def _reference(value: dict) -> object:
    return dynamo._plain(TypeDeserializer().deserialize(value))


@settings(max_examples=300, deadline=None)
@given(_values)
def test_every_value_reads_as_boto3s_deserializer_and_plain_read_it(value):
    assert dynamo.from_attr(value) == _reference(value)
    assert repr(dynamo.from_attr(value)) == repr(_reference(value))       # int vs float too


def test_items_and_bad_values():
    item = {"pk": {"S": "P#1"}, "n": {"N": "2.50"}, "c": {"N": "3"}, "b": {"B": b"x"},
            "m": {"M": {"l": {"L": [{"N": "1"}, {"NULL": True}, {"SS": ["b", "a"]}]}}}}
    assert dynamo.from_item(item) == {"pk": "P#1", "n": 2.5, "c": 3, "b": Binary(b"x"),
                                      "m": {"l": [1, None, ["a", "b"]]}}
    assert dynamo.from_item(None) is None
    for bad in ({}, {"X": "1"}):
        with pytest.raises(TypeError):
            dynamo.from_attr(bad)
