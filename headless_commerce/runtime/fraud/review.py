"""Review of orders the fraud screen held (ON_HOLD: stock reserved, nothing charged).

An operator invokes the review function (IAM `lambda:InvokeFunction`; it has no public route):

    {"action": "list"}                                          held orders, oldest first
    {"action": "release", "order_id": "...", "reviewer": "..."}  pay and confirm it as usual
    {"action": "reject",  "order_id": "...", "reviewer": "..."}  cancel it, give the stock back

Release moves the order to PENDING_PAYMENT (OrderPlaced is published then, so the OMS never
sees a held order) and authorizes the token the shopper gave; if the provider fails, the order
is an ordinary pending one that the sweeper settles. Reject cancels without charging. Both are
conditioned on the order still being held, so two reviewers cannot both act on it; the
reviewer's verdict is added to the decision record.
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.common.logging import count, lambda_entry, logger
from headless_commerce.runtime.common.transaction import TransactionCancelled
from headless_commerce.runtime.fraud import repository
from headless_commerce.runtime.orders import repository as orders
from headless_commerce.runtime.orders import transitions
from headless_commerce.runtime.orders.views import order_view
from headless_commerce.runtime.payments.provider import PaymentProvider, get_provider

_HELD = model.OrderStatus.ON_HOLD.value
MAX_LISTED = 100
REVIEW_METRICS = {"released": "FraudReleased", "rejected": "FraudRejected"}


class NotHeld(Exception):
    """The order is unknown or no longer held (someone reviewed it already)."""

    def __init__(self) -> None:
        super().__init__("the order is not held for review")


def _held(order_id: str) -> dict:
    order = orders.get(order_id)
    if order is None or order["status"] != _HELD:
        raise NotHeld()
    return order


def _placed_event(order: dict, status: str) -> dict:
    return {"order_id": order["order_id"], "customer_id": order["customer_id"], "status": status,
            "total": order["total"], "currency": order["currency"],
            "lines": [{"sku": line["sku"], "quantity": line["quantity"], "unit_price": line["unit_price"]}
                      for line in order["lines"]]}


def _status_event(order: dict, to: str) -> dict:
    return {"order_id": order["order_id"], "customer_id": order["customer_id"], "from": _HELD, "to": to}


def held(limit: int = MAX_LISTED) -> list[dict]:
    """Held orders with their decision (score, reasons), oldest first."""
    found = []
    for order in orders.held_orders(limit):
        decision = repository.get_decision(order["order_id"]) or {}
        found.append({"order": order_view(order), "customer_id": order["customer_id"],
                      "score": decision.get("score"), "reasons": decision.get("reasons", [])})
    return found


def _review(order_id: str, verdict: str, reviewer: str, note: str, transition) -> tuple[dict, dict]:
    """Apply `transition(order, now)` to a still-held order and record the verdict; returns the
    order as read and as written. NotHeld when it is unknown or someone reviewed it first."""
    order = _held(order_id)
    now = now_iso()
    try:
        changed = transition(order, now)
    except TransactionCancelled as cancelled:
        if "order" in cancelled.failed:
            raise NotHeld() from None
        raise
    repository.record_review(order_id, verdict=verdict, reviewer=reviewer, note=note, at=now)
    count(REVIEW_METRICS[verdict])
    return order, changed


def release(order_id: str, reviewer: str, note: str = "", *, provider: PaymentProvider | None = None) -> dict:
    """Release a held order to payment; returns the order as it stands afterwards."""
    pending_status = model.OrderStatus.PENDING_PAYMENT.value
    order, pending = _review(order_id, "released", reviewer, note, lambda held_order, now: orders.release_hold(
        held_order, now=now, placed_event=_placed_event(held_order, pending_status),
        status_event=_status_event(held_order, pending_status)))
    provider = provider or get_provider()
    try:
        auth = provider.authorize(order_id=order_id, amount=order["total"], currency=order["currency"],
                                  token=order.get("payment_token"))
    except Exception:
        # Pending with stock reserved: the sweeper settles it from the provider's record.
        logger.exception("payment provider failed for a released order", extra={"order_id": order_id})
        return order_view(pending)
    return order_view(transitions.settle(pending, auth))


def reject(order_id: str, reviewer: str, note: str = "") -> dict:
    """Cancel a held order and give its stock back; nothing was charged."""
    _, cancelled = _review(order_id, "rejected", reviewer, note, lambda held_order, now: orders.cancel_hold(
        held_order, now=now, status_event=_status_event(held_order, model.OrderStatus.CANCELLED.value)))
    return order_view(cancelled)


def _text(event: dict, name: str, required: bool = True) -> str:
    value = event.get(name)
    if value in (None, "") and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > 500:
        raise ValueError(f"{name} must be a non-empty string of at most 500 characters")
    return value.strip()


def handle(event: object, context: object = None) -> dict:
    """One operator request (the function's payload); the answer as JSON."""
    if not isinstance(event, dict):
        return {"error": "the payload must be a JSON object"}
    action = event.get("action")
    try:
        if action == "list":
            return {"held": held()}
        if action in ("release", "reject"):
            order_id, reviewer = _text(event, "order_id"), _text(event, "reviewer")
            note = _text(event, "note", required=False)
            order = (release(order_id, reviewer, note) if action == "release"
                     else reject(order_id, reviewer, note))
            logger.info("held order reviewed", extra={"order_id": order_id, "action": action, "reviewer": reviewer})
            return {"order": order}
    except (ValueError, NotHeld) as error:
        return {"error": str(error)}
    return {"error": "action must be one of list, release, reject"}


handler = lambda_entry(handle)
