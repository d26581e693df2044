"""Lambda entry point and service: Amazon Location geofence events -> order statuses.

Amazon Location publishes a linked tracker's ENTER/EXIT events to the account's default bus
(`source` aws.geo, `detail-type` "Location Geofence Event"); a rule there feeds this function's
queue. A courier leaving a store's geofence (EXIT store-{id}) puts the orders it carries from
that store OUT_FOR_DELIVERY; entering an order's address geofence (ENTER order-{id}) makes that
order ARRIVING. Both go through orders/status_events.apply_status, so a status only moves
forward and OrderStatusChanged commits with it exactly once: a replayed or duplicated event, or
an EXIT arriving after the ENTER, changes nothing.

Env: TABLE_NAME, LOCATION_TABLE_NAME, DEAD_LETTER_QUEUE_URL.
"""

from __future__ import annotations

import json
import uuid

from headless_commerce import model
from headless_commerce.runtime.common.logging import count, lambda_entry, logger
from headless_commerce.runtime.location import deliveries_repository as deliveries
from headless_commerce.runtime.location import names
from headless_commerce.runtime.marketing.batch import run_records
from headless_commerce.runtime.orders import status_events

S = model.OrderStatus


class UnreadableEvent(ValueError):
    pass


def read(event: object) -> dict:
    """The detail of a geofence event, checked."""
    if not isinstance(event, dict) or event.get("source") != names.GEOFENCE_SOURCE \
            or event.get("detail-type") != names.GEOFENCE_DETAIL_TYPE:
        raise UnreadableEvent("not an Amazon Location geofence event")
    detail = event.get("detail")
    if not isinstance(detail, dict) or detail.get("EventType") not in ("ENTER", "EXIT"):
        raise UnreadableEvent("geofence event without EventType ENTER or EXIT")
    for name in ("GeofenceId", "DeviceId", "SampleTime"):
        if not isinstance(detail.get(name), str) or not detail[name]:
            raise UnreadableEvent(f"geofence event without {name}")
    return {**detail, "id": str(event.get("id") or "")}


def parse(body: str) -> dict:
    try:
        event = json.loads(body)
    except ValueError:
        raise UnreadableEvent("body is not JSON") from None
    read(event)
    return event


def _targets(detail: dict) -> list[tuple[str, str]]:
    """(order_id, status) pairs the event moves."""
    kind, fence, courier = detail["EventType"], detail["GeofenceId"], detail["DeviceId"]
    if kind == "EXIT" and fence.startswith(names.STORE_GEOFENCE_PREFIX):
        store_id = fence.removeprefix(names.STORE_GEOFENCE_PREFIX)
        return [(link["order_id"], S.OUT_FOR_DELIVERY.value) for link in deliveries.orders_of(courier)
                if link.get("store_id") == store_id]
    if kind == "ENTER" and fence.startswith(names.ORDER_GEOFENCE_PREFIX):
        order_id = fence.removeprefix(names.ORDER_GEOFENCE_PREFIX)
        delivery = deliveries.get(order_id)
        if delivery is not None and delivery["courier_id"] == courier:
            return [(order_id, S.ARRIVING.value)]
    return []


def apply(event: dict) -> list[str]:
    """Apply one geofence event; the decision per order it concerns."""
    detail = read(event)
    decisions = []
    for order_id, target in _targets(detail):
        # The same event (a redelivery, a replay) always carries the same event id.
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"geofence://{detail['id'] or detail['SampleTime']}/"
                                                      f"{detail['DeviceId']}/{detail['GeofenceId']}/{order_id}"))
        decision, _ = status_events.apply_status(order_id, target, at=detail["SampleTime"], event_id=event_id,
                                                 emit=True, allowed=status_events.DELIVERY_STATUSES)
        decisions.append(decision)
        if decision == status_events.APPLY:
            count("DeliveryStatusChanges")
    logger.info("geofence event", extra={"type": detail["EventType"], "geofence": detail["GeofenceId"],
                                         "decisions": decisions})
    return decisions


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    """SQS (rule on the default bus: aws.geo Location Geofence Event)."""
    return run_records(event, parse, apply)
