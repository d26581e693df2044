"""Payment outcome -> order status, exactly once.

Every transition is one transaction conditioned on the order still being PENDING_PAYMENT, so
checkout, a retried checkout, a payment webhook and the sweeper can all race to settle an
order and only one of them changes it (and, on failure, releases the reserved stock). The same
transaction removes the order's pending-order index entry, so the sweeper only ever finds
orders that are still pending.

The cart was consumed when the order was placed, so confirming never touches it. A failed
payment puts the order's lines back in the cart if the cart is still this order's tombstone;
if the shopper has started a new cart meanwhile, theirs is kept and the order still fails.
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.common.transaction import TransactionCancelled
from headless_commerce.runtime.orders import repository as orders
from headless_commerce.runtime.payments.provider import Authorization

_PENDING = model.OrderStatus.PENDING_PAYMENT.value


def _payment_record(auth: Authorization) -> dict:
    return {"provider": auth.provider, "reference": auth.id,
            "status": "authorized" if auth.approved else "declined",
            "decline_code": auth.decline_code, "amount": auth.amount, "currency": auth.currency,
            "updated_at": now_iso()}


def settle(order: dict, auth: Authorization) -> dict:
    """Apply the authorization outcome if the order is still pending; return the order."""
    return settle_if_pending(order, auth)[0]


def settle_if_pending(order: dict, auth: Authorization) -> tuple[dict, bool]:
    """settle(), also telling whether this call applied it (False: someone settled it first,
    and the order returned is theirs)."""
    order_id, customer_id = order["order_id"], order["customer_id"]
    status = (model.OrderStatus.CONFIRMED if auth.approved
              else model.OrderStatus.PAYMENT_FAILED).value
    payment_event = (model.EventName.PAYMENT_AUTHORIZED if auth.approved
                     else model.EventName.PAYMENT_FAILED)
    events = [
        (payment_event, {"order_id": order_id, "customer_id": customer_id, "amount": auth.amount,
                         "currency": auth.currency, "provider": auth.provider,
                         "decline_code": auth.decline_code}),
        (model.EventName.ORDER_STATUS_CHANGED, {"order_id": order_id, "customer_id": customer_id,
                                                "from": _PENDING, "to": status}),
    ]
    restore_cart = not auth.approved and order.get("cart_version") is not None
    while True:
        try:
            settled = orders.settle(order, status=status, payment=_payment_record(auth),
                                    events=events, release_stock=not auth.approved,
                                    restore_cart=restore_cart)
            return settled, True
        except TransactionCancelled as cancelled:
            if "order" in cancelled.failed:
                return orders.get(order_id), False  # someone settled it first
            if "cart" in cancelled.failed and restore_cart:
                restore_cart = False  # the shopper has a new cart: keep it
                continue
            raise
