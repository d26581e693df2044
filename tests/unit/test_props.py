import pytest

from headless_commerce.constructs._props import check_exclusive, merge


def test_conflicts_are_all_named_in_one_error():
    with pytest.raises(ValueError) as err:
        check_exclusive("Thing", existing_vpc=object(), vpc_props={}, existing_table=object(),
                        table_props={"a": 1}, existing_bus=object(), bus_props=None)
    message = str(err.value)
    assert "existing_vpc and vpc_props" in message and "existing_table and table_props" in message
    assert "bus" not in message and message.startswith("Thing:")


def test_no_conflict_passes_and_merge_lets_caller_win():
    check_exclusive("Thing", existing_vpc=None, vpc_props={"x": 1})
    assert merge({"a": 1, "b": 2}, {"b": 3}) == {"a": 1, "b": 3}
    assert merge({"a": 1}, None) == {"a": 1}


def test_locked_props_are_refused_by_name():
    locked = {"partition_key": "every repository builds pk", "dynamo_stream": "the outbox relay reads it"}
    with pytest.raises(ValueError) as err:
        merge({"partition_key": 1}, {"partition_key": 2, "dynamo_stream": None, "billing": 3},
              locked=locked, owner="CommerceTable", props_name="table_props")
    message = str(err.value)
    assert message.startswith("CommerceTable: table_props cannot change dynamo_stream, partition_key")
    assert "billing" not in message
    assert merge({"a": 1}, {"billing": 3}, locked=locked) == {"a": 1, "billing": 3}
