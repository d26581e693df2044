"""Thin helpers over the low-level DynamoDB client.

The low-level client (not boto3's resource layer) keeps import time down; these helpers do
the type (de)serialization and the retry loops every caller would otherwise repeat.
"""

from __future__ import annotations

import time
from decimal import Decimal

from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from headless_commerce.runtime.common.aws import dynamodb, table_name

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


def to_attr(value: object) -> dict:
    return _serializer.serialize(value)


def to_item(data: dict) -> dict:
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def from_attr(value: dict) -> object:
    """One attribute value as plain Python: what _plain(TypeDeserializer().deserialize(value))
    gives, with the common types (strings, numbers, maps, lists, booleans, nulls) read
    directly: a product page is hundreds of values, and boto3's dispatch per value cost more
    than the request itself in local mode."""
    if type(value) is dict and value:
        kind = next(iter(value))
        inner = value[kind]
        if kind == "S" or kind == "BOOL":
            return inner
        if kind == "N":
            return _plain(DYNAMODB_CONTEXT.create_decimal(inner))
        if kind == "M":
            return {k: from_attr(v) for k, v in inner.items()}
        if kind == "L":
            return [from_attr(v) for v in inner]
        if kind == "NULL":
            return None
    return _plain(_deserializer.deserialize(value))     # sets, binary, and its errors


def from_item(item: dict | None) -> dict | None:
    if item is None:
        return None
    return {k: from_attr(v) for k, v in item.items()}


def values(**named: object) -> dict:
    """ExpressionAttributeValues from keyword arguments (`:name` placeholders)."""
    return {f":{k}": to_attr(v) for k, v in named.items()}


def get(key: dict, *, consistent: bool = True, client=None, table: str | None = None) -> dict | None:
    response = (client or dynamodb()).get_item(
        TableName=table or table_name(), Key=to_item(key), ConsistentRead=consistent)
    return from_item(response.get("Item"))


def batch_get(keys: list[dict], *, consistent: bool = True, client=None) -> list[dict]:
    """BatchGetItem with the UnprocessedKeys loop; returns found items in no particular order."""
    client = client or dynamodb()
    name = table_name()
    unique = list({(k["pk"], k["sk"]): k for k in keys}.values())
    found: list[dict] = []
    for start in range(0, len(unique), 100):
        request = {name: {"Keys": [to_item(k) for k in unique[start:start + 100]],
                          "ConsistentRead": consistent}}
        for attempt in range(8):
            response = client.batch_get_item(RequestItems=request)
            found += [from_item(i) for i in response.get("Responses", {}).get(name, [])]
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        else:
            raise RuntimeError("BatchGetItem kept returning unprocessed keys")
    return found


def query(*, client=None, table: str | None = None, **kwargs) -> tuple[list[dict], dict | None]:
    """Query the commerce table, or `table` (a capability's own table)."""
    response = (client or dynamodb()).query(TableName=table or table_name(), **kwargs)
    return [from_item(i) for i in response.get("Items", [])], response.get("LastEvaluatedKey")


def put(item: dict, condition: str | None = None, **expression: object) -> None:
    kwargs: dict = {"TableName": table_name(), "Item": to_item(item)}
    if condition:
        kwargs["ConditionExpression"] = condition
    kwargs.update(expression)
    dynamodb().put_item(**kwargs)


def batch_put(items: list[dict], *, table: str | None = None) -> None:
    """BatchWriteItem in chunks of 25, retrying unprocessed items with backoff (into the
    commerce table, or `table`)."""
    client, name = dynamodb(), table or table_name()
    for start in range(0, len(items), 25):
        request = {name: [{"PutRequest": {"Item": to_item(item)}} for item in items[start:start + 25]]}
        for attempt in range(10):
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            if not request:
                break
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
        else:
            raise RuntimeError("BatchWriteItem kept returning unprocessed items")


def is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def delete(key: dict, condition: str | None = None, **expression: object) -> None:
    kwargs: dict = {"TableName": table_name(), "Key": to_item(key)}
    if condition:
        kwargs["ConditionExpression"] = condition
    kwargs.update(expression)
    dynamodb().delete_item(**kwargs)
