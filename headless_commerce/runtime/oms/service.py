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

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws, outbox
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.events.contracts import validate_event
from headless_commerce.runtime.oms import repository

ACCEPTED = model.OrderStatus.ACCEPTED_BY_OMS.value


class PublishError(RuntimeError):
    """PutEvents did not take the event; the message is retried."""


def status_event(order_id: str, customer_id: str) -> dict:
    envelope = {**outbox.event(model.EventName.ORDER_STATUS_CHANGED,
                               {"order_id": order_id, "customer_id": customer_id, "to": ACCEPTED}),
                "source": model.EventSource.OMS}
    validate_event(envelope)  # producer side of the contract
    return envelope


def publish(envelope: dict) -> None:
    response = aws.eventbridge().put_events(Entries=[{
        "EventBusName": settings.event_bus_name(),
        "Source": envelope["source"],
        "DetailType": envelope["detail_type"],
        "Detail": json.dumps(envelope),
    }])
    if response.get("FailedEntryCount"):
        entry = response["Entries"][0]
        raise PublishError(f"PutEvents failed: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")


def accept(placed: dict) -> bool:
    """Accept the order of an OrderPlaced event; True when this call published the status."""
    detail = placed["detail"]
    order_id = detail["order_id"]
    record = repository.create_acceptance(order_id, detail["customer_id"], placed["id"],
                                          status_event(order_id, detail["customer_id"]))
    if record is None:
        record = repository.get_acceptance(order_id)
        if record.get("published"):
            logger.info("order already accepted", extra={"order_id": order_id})
            return False
    publish(record["status_event"])
    repository.mark_published(order_id)
    logger.info("order accepted", extra={"order_id": order_id,
                                         "event_id": record["status_event"]["id"]})
    return True
