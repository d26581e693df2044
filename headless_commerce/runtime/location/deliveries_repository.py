"""Deliveries and couriers in the location table: the only code that knows their keys.

A delivery (DELIVERY#{order_id}) names its courier, store and destination; the courier's
partition lists the orders it carries (ORDER#{order_id}) and its last position (POSITION),
written only when newer than the one kept, so late or repeated updates never move it back.
"""

from __future__ import annotations

from decimal import Decimal

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws, dynamo

_POSITION_SK = "POSITION"


def _number(value: float) -> Decimal:
    return Decimal(repr(round(float(value), 7)))


def assign(delivery: dict) -> None:
    """The delivery and the courier's link to it, in one transaction."""
    table = settings.location_table_name()
    item = {**model.delivery_tracking_key(delivery["order_id"]), **delivery,
            **{k: _number(delivery[k]) for k in ("dest_lat", "dest_lon", "store_lat", "store_lon")}}
    link = {**model.courier_order_key(delivery["courier_id"], delivery["order_id"]),
            "order_id": delivery["order_id"], "store_id": delivery["store_id"]}
    aws.dynamodb().transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": dynamo.to_item(item)}},
        {"Put": {"TableName": table, "Item": dynamo.to_item(link)}}])


def get(order_id: str) -> dict | None:
    return dynamo.get(model.delivery_tracking_key(order_id), table=settings.location_table_name())


def orders_of(courier_id: str) -> list[dict]:
    """The orders the courier carries (links: order_id, store_id)."""
    items, _ = dynamo.query(
        table=settings.location_table_name(), KeyConditionExpression="pk = :pk AND begins_with(sk, :orders)",
        ExpressionAttributeValues=dynamo.values(pk=model.courier_partition(courier_id), orders="ORDER#"))
    return items


def record_position(courier_id: str, lat: float, lon: float, sampled_at: str) -> bool:
    """Keep the position if it is newer than the kept one; False when it is not."""
    key = {"pk": model.courier_partition(courier_id), "sk": _POSITION_SK}
    try:
        aws.dynamodb().put_item(
            TableName=settings.location_table_name(),
            Item=dynamo.to_item({**key, "courier_id": courier_id, "lat": _number(lat), "lon": _number(lon),
                                 "sampled_at": sampled_at}),
            ConditionExpression="attribute_not_exists(sampled_at) OR sampled_at < :at",
            ExpressionAttributeValues=dynamo.values(at=sampled_at))
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True


def position(courier_id: str) -> dict | None:
    return dynamo.get({"pk": model.courier_partition(courier_id), "sk": _POSITION_SK},
                      table=settings.location_table_name())
