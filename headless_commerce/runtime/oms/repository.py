"""The example OMS's acceptance records: the only code that builds their keys and requests."""

from __future__ import annotations

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime.common import dynamo
from headless_commerce.runtime.common.clock import now_iso


def create_acceptance(order_id: str, customer_id: str, placed_event_id: str,
                      status_event: dict) -> dict | None:
    """Record the acceptance with the event it will publish (unpublished); None when a previous
    delivery already recorded it."""
    item = {**model.oms_acceptance_key(order_id),
            model.ENTITY_ATTRIBUTE: model.Entity.OMS_ACCEPTANCE,
            "order_id": order_id, "customer_id": customer_id,
            "placed_event_id": placed_event_id, "accepted_at": now_iso(),
            "status_event": status_event, "published": False}
    try:
        dynamo.put(item, "attribute_not_exists(pk)")
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return None
        raise
    return item


def get_acceptance(order_id: str) -> dict | None:
    return dynamo.get(model.oms_acceptance_key(order_id))


def mark_published(order_id: str) -> None:
    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.to_item(model.oms_acceptance_key(order_id)),
        UpdateExpression="SET published = :t, published_at = :now",
        ExpressionAttributeValues=dynamo.values(t=True, now=now_iso()))
