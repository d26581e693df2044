"""Apply fulfilment statuses to the order item, idempotently: OrderStatusChanged events from
the OMS (this module's handler) and the supply chain's order-status feed (runtime/feeds/
order_status.py) both go through `apply_status`.

Rules (model.ORDER_STATUS_RANK):
- Only the statuses the publisher owns are applied: fulfilment's (ACCEPTED_BY_OMS, PICKED,
  SHIPPED, DELIVERED, CANCELLED), or the courier's geofences' (OUT_FOR_DELIVERY, ARRIVING, once
  the OMS has the order). PENDING_PAYMENT, CONFIRMED and PAYMENT_FAILED are set by payment settlement in
  the same transaction that emits their event, so such an event is already applied: no-op.
- Never backwards: an event whose status does not outrank the order's is a duplicate or
  arrived late -> no-op. Nothing leaves a terminal status (CANCELLED, PAYMENT_FAILED).
- Not before payment settles: while the order is PENDING_PAYMENT the event is retried
  (raise), because settlement only moves a PENDING_PAYMENT order and must not be overtaken.
  (OrderPlaced reaches the OMS before payment settles, so this race is real.)
- The write is a compare-and-set on the status it was decided on (the version check), so a
  concurrent change makes it re-read and decide again instead of overwriting.
- Unknown order, or an event naming another customer: logged and dropped (retrying cannot
  help).
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.common.logging import lambda_entry, logger
from headless_commerce.runtime.events.consumer import RetryLater, run_batch
from headless_commerce.runtime.orders import repository as orders

S = model.OrderStatus
OMS_STATUSES = frozenset({S.ACCEPTED_BY_OMS.value, S.PICKED.value, S.SHIPPED.value,
                          S.DELIVERED.value, S.CANCELLED.value})
# What the courier's geofence events set (runtime/location/geofences.py). Only for an order
# fulfilment has taken over: a courier cannot carry an order the OMS has not accepted.
DELIVERY_STATUSES = frozenset({S.OUT_FOR_DELIVERY.value, S.ARRIVING.value})
APPLY, SKIP, WAIT = "apply", "skip", "wait"
_ATTEMPTS = 3


class OrderNotReady(RetryLater):
    """The order's payment has not settled yet; the message is retried later."""


def decide(current: str, target: str, allowed: frozenset[str] = OMS_STATUSES) -> str:
    if target not in allowed or current in model.TERMINAL_ORDER_STATUSES:
        return SKIP
    # Held for fraud review: not the OMS's until a reviewer releases it and it is paid.
    if current in (S.PENDING_PAYMENT.value, S.ON_HOLD.value):
        return WAIT
    if (target in DELIVERY_STATUSES
            and model.ORDER_STATUS_RANK[current] < model.ORDER_STATUS_RANK[S.ACCEPTED_BY_OMS.value]):
        return SKIP
    if model.ORDER_STATUS_RANK[target] <= model.ORDER_STATUS_RANK[current]:
        return SKIP
    return APPLY


def apply(envelope: dict) -> str:
    """Apply one OMS event (already published by the OMS); returns the decision taken."""
    detail = envelope["detail"]
    return apply_status(detail["order_id"], detail["to"], customer_id=detail["customer_id"],
                        at=envelope["occurred_at"], event_id=envelope["id"])[0]


def apply_status(order_id: str, target: str, *, at: str, event_id: str, customer_id: str | None = None,
                 order: dict | None = None, emit: bool = False, extra: dict | None = None,
                 allowed: frozenset[str] = OMS_STATUSES) -> tuple[str, dict | None]:
    """Move the order to `target` if the rules allow; returns (decision, the order as read or
    written; None when unknown). `order` is a copy the caller already read (it is re-read
    after a lost race); `emit` writes OrderStatusChanged to the outbox in the same transaction
    (publishers other than the OMS, which announces its own); `extra` attributes are set with
    the status; `allowed`: the statuses this publisher may set. Raises OrderNotReady while
    payment is unsettled."""
    context = {"order_id": order_id, "event_id": event_id, "to": target}
    for _ in range(_ATTEMPTS):
        order = order if order is not None else orders.get(order_id)
        if order is None:
            logger.warning("status event for unknown order", extra=context)
            return SKIP, None
        if customer_id is not None and order["customer_id"] != customer_id:
            logger.error("status event names another customer", extra=context)
            return SKIP, order
        decision = decide(order["status"], target, allowed)
        if decision == WAIT:
            raise OrderNotReady(f"order {order_id} is still {order['status']}")
        if decision == SKIP:
            logger.info("status event is stale or already applied",
                        extra={**context, "current": order["status"]})
            return SKIP, order
        event = ({"order_id": order_id, "customer_id": order["customer_id"], "from": order["status"],
                  "to": target} if emit else None)
        if orders.set_status_if(order_id, order["status"], to=target, at=at, event_id=event_id,
                                event=event, extra=extra):
            logger.info("order status applied", extra={**context, "from": order["status"]})
            return APPLY, {**order, **(extra or {}), "status": target}
        order = None  # changed since read: read again and decide again
    raise RuntimeError(f"order {order_id} kept changing while applying {target}")


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    """SQS (rule: OrderStatusChanged from commerce.oms). Env: TABLE_NAME, DEAD_LETTER_QUEUE_URL."""
    return run_batch(event, apply, detail_type=model.EventName.ORDER_STATUS_CHANGED)
