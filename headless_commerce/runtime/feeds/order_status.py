"""Supply-chain order-status feed (topic scm.order-status.v1): fulfilment statuses (PICKED,
SHIPPED, DELIVERED) applied through the same idempotent status function the OMS consumer uses
(orders/status_events.apply_status), with OrderStatusChanged in the outbox in the same
transaction.

Statuses only move forward: the same status again is a duplicate (no change); one behind the
order's, or for a closed (cancelled, failed) order, goes to the failure queue, as do unknown
orders and records naming another customer. A status for an order whose payment has not
settled yet is retried (its partition waits), as the OMS consumer does.

Env: TABLE_NAME, DEAD_LETTER_QUEUE_URL.
"""

from __future__ import annotations

import uuid

from headless_commerce import model
from headless_commerce.runtime.common.logging import lambda_entry
from headless_commerce.runtime.feeds.consumer import APPLIED, UNCHANGED, Rejected, run
from headless_commerce.runtime.feeds.msk import KafkaRecord
from headless_commerce.runtime.feeds.records import delivered_before, validator
from headless_commerce.runtime.orders import repository as orders
from headless_commerce.runtime.orders import status_events


class OrderStatusFeed:
    name = "order_status"

    def validate(self, document: object) -> tuple[str | None, str] | None:
        return validator("order_status")(document)

    def prefetch(self, documents: list[dict]) -> dict:
        return orders.get_many(sorted({d["order_id"] for d in documents}))

    def apply(self, document: dict, record: KafkaRecord, state: dict) -> str:
        order_id, target = document["order_id"], document["status"]
        order = state.get(order_id)
        if order is None:
            raise Rejected("unknown_order", f"order {order_id} does not exist", "order_id")
        if delivered_before(order.get("status_position"), record):
            return UNCHANGED
        customer = document.get("customer_id")
        if customer is not None and customer != order["customer_id"]:
            raise Rejected("customer_mismatch", f"order {order_id} belongs to another customer", "customer_id")
        # The record's place in Kafka names it: a redelivery records the same id.
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"kafka://{record.stream}/{record.offset}"))
        decision, after = status_events.apply_status(
            order_id, target, at=document["occurred_at"], event_id=event_id, order=order, emit=True,
            extra={"status_position": record.position})
        state[order_id] = after
        if decision == status_events.APPLY:
            return APPLIED
        current = after["status"]
        if current == target:
            return UNCHANGED
        if current in model.TERMINAL_ORDER_STATUSES:
            raise Rejected("order_closed", f"order {order_id} is {current}", "status")
        raise Rejected("stale_status", f"{target} is behind the order's status {current}", "status")


FEED = OrderStatusFeed()


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    """MSK event source on the order-status topic."""
    return run(event, FEED)
