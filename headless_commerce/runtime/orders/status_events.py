"""Apply OrderStatusChanged events from the OMS to the order item, idempotently.

Rules (model.ORDER_STATUS_RANK):
- Only the statuses the OMS owns are applied (ACCEPTED_BY_OMS, SHIPPED, DELIVERED,
  CANCELLED). PENDING_PAYMENT, CONFIRMED and PAYMENT_FAILED are set by payment settlement in
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
from headless_commerce.runtime.orders import repository as orders
from headless_commerce.runtime.events.consumer import run_batch

S = model.OrderStatus
OMS_STATUSES = frozenset({S.ACCEPTED_BY_OMS.value, S.SHIPPED.value, S.DELIVERED.value,
                          S.CANCELLED.value})
APPLY, SKIP, WAIT = "apply", "skip", "wait"
_ATTEMPTS = 3


class OrderNotReady(RuntimeError):
    """The order's payment has not settled yet; the message is retried later."""


def decide(current: str, target: str) -> str:
    if target not in OMS_STATUSES or current in model.TERMINAL_ORDER_STATUSES:
        return SKIP
    if current == S.PENDING_PAYMENT.value:
        return WAIT
    if model.ORDER_STATUS_RANK[target] <= model.ORDER_STATUS_RANK[current]:
        return SKIP
    return APPLY


def apply(envelope: dict) -> str:
    """Apply one event; returns the decision taken (apply / skip)."""
    detail = envelope["detail"]
    order_id, target = detail["order_id"], detail["to"]
    context = {"order_id": order_id, "event_id": envelope["id"], "to": target}
    for _ in range(_ATTEMPTS):
        order = orders.get(order_id)
        if order is None:
            logger.warning("status event for unknown order", extra=context)
            return SKIP
        if order["customer_id"] != detail["customer_id"]:
            logger.error("status event names another customer", extra=context)
            return SKIP
        decision = decide(order["status"], target)
        if decision == WAIT:
            raise OrderNotReady(f"order {order_id} is still {order['status']}")
        if decision == SKIP:
            logger.info("status event is stale or already applied",
                        extra={**context, "current": order["status"]})
            return SKIP
        if orders.set_status_if(order_id, order["status"], to=target,
                                at=envelope["occurred_at"], event_id=envelope["id"]):
            logger.info("order status applied", extra={**context, "from": order["status"]})
            return APPLY
    raise RuntimeError(f"order {order_id} kept changing while applying {target}")


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    """SQS (rule: OrderStatusChanged from commerce.oms). Env: TABLE_NAME, DEAD_LETTER_QUEUE_URL."""
    return run_batch(event, apply, detail_type=model.EventName.ORDER_STATUS_CHANGED)
