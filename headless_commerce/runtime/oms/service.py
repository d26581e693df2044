"""The example OMS accepts each placed order exactly once and announces it.

Exactly once across redeliveries, in two steps:
1. A conditional put of OMS#{order_id} records the acceptance together with the complete
   OrderStatusChanged event it will publish (its id and occurred_at fixed here), with
   published=false. Only the first delivery creates it.
2. PutEvents, then published=true. If PutEvents or the flag update fails, the message is
   retried: the put finds the record, and since it is not yet published the retry publishes
   the *stored* event, with the same id, so consumers see one event id even if the first
   PutEvents did reach the bus before the failure (they deduplicate on it).
"""

from __future__ import annotations

import json
import os

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime.common import aws, dynamo, outbox
from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.events.contracts import validate_event

ENV_EVENT_BUS_NAME = "EVENT_BUS_NAME"
ACCEPTED = model.OrderStatus.ACCEPTED_BY_OMS.value


class PublishError(RuntimeError):
    """PutEvents did not take the event; the message is retried."""


def status_event(order_id: str, customer_id: str) -> dict:
    envelope = {**outbox.event(model.EventName.ORDER_STATUS_CHANGED,
                               {"order_id": order_id, "customer_id": customer_id, "to": ACCEPTED}),
                "source": model.EventSource.OMS}
    validate_event(envelope)  # producer side of the contract
    return envelope


def _record(placed: dict) -> dict | None:
    """Create the acceptance record; None when a previous delivery already created it."""
    detail = placed["detail"]
    item = {**model.oms_acceptance_key(detail["order_id"]),
            model.ENTITY_ATTRIBUTE: model.Entity.OMS_ACCEPTANCE,
            "order_id": detail["order_id"], "customer_id": detail["customer_id"],
            "placed_event_id": placed["id"], "accepted_at": now_iso(),
            "status_event": status_event(detail["order_id"], detail["customer_id"]),
            "published": False}
    try:
        dynamo.put(item, "attribute_not_exists(pk)")
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return None
        raise
    return item


def publish(envelope: dict) -> None:
    response = aws.eventbridge().put_events(Entries=[{
        "EventBusName": os.environ[ENV_EVENT_BUS_NAME],
        "Source": envelope["source"],
        "DetailType": envelope["detail_type"],
        "Detail": json.dumps(envelope),
    }])
    if response.get("FailedEntryCount"):
        entry = response["Entries"][0]
        raise PublishError(f"PutEvents failed: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")


def mark_published(order_id: str) -> None:
    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.to_item(model.oms_acceptance_key(order_id)),
        UpdateExpression="SET published = :t, published_at = :now",
        ExpressionAttributeValues=dynamo.values(t=True, now=now_iso()))


def accept(placed: dict) -> bool:
    """Accept the order of an OrderPlaced event; True when this call published the status."""
    order_id = placed["detail"]["order_id"]
    record = _record(placed)
    if record is None:
        record = dynamo.get(model.oms_acceptance_key(order_id))
        if record.get("published"):
            logger.info("order already accepted", extra={"order_id": order_id})
            return False
    publish(record["status_event"])
    mark_published(order_id)
    logger.info("order accepted", extra={"order_id": order_id,
                                         "event_id": record["status_event"]["id"]})
    return True
