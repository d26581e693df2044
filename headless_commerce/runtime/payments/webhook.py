"""POST /payments/webhook: verified provider events settle pending orders.

The event only says "look at this order". What the order's payment is comes from the provider's
own record of that order (PaymentProvider.find_authorization, a read), never from an id the
event names: a signed event carrying another order's authorization id must not void, confirm or
record that authorization. Settling uses the same exactly-once transition as checkout, so a
webhook arriving before, after or twice alongside checkout's own settlement changes the order
once.
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.common.domain_errors import InvalidSignature, MalformedEvent
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.orders import repository as orders
from headless_commerce.runtime.orders import transitions
from headless_commerce.runtime.payments.provider import (
    Authorization,
    PaymentProvider,
    WebhookPayloadError,
    WebhookSignatureError,
    release_orphaned_authorization,
)

_FAILED = model.OrderStatus.PAYMENT_FAILED.value


def handle(payload: bytes, headers: dict[str, str], provider: PaymentProvider) -> dict:
    try:
        event = provider.verify_webhook(payload, headers)
    except WebhookSignatureError as error:
        logger.warning("webhook rejected", extra={"reason": str(error)})
        raise InvalidSignature(field=provider.signature_header) from None
    except WebhookPayloadError:
        raise MalformedEvent() from None
    if event.kind == "ignored" or not event.order_id:
        return {"received": True, "applied": False}
    order = orders.get(event.order_id)
    if order is None:
        # Acknowledge: a provider would retry a 4xx forever for an order we never had.
        logger.warning("webhook for unknown order", extra={"order_id": event.order_id})
        return {"received": True, "applied": False}
    if order["status"] != model.OrderStatus.PENDING_PAYMENT.value:
        if event.kind == "authorized" and order["status"] == _FAILED:
            # A late authorization of an order that failed meanwhile: release the hold.
            _release_if_orphaned(provider, provider.find_authorization(order["order_id"]),
                                 _FAILED)
        return {"received": True, "applied": False}
    auth = provider.find_authorization(order["order_id"])
    if auth is None:
        if event.kind == "authorized":
            # The provider has no record of this order's authorization (yet): nothing to
            # settle from. Checkout's own settlement or the sweeper settles the order.
            logger.warning("authorized webhook without a provider record",
                           extra={"order_id": order["order_id"]})
            return {"received": True, "applied": False}
        auth = Authorization(id="", order_id=order["order_id"], approved=False,
                             amount=order["total"], currency=order["currency"],
                             provider=provider.name, decline_code=event.decline_code)
    settled = transitions.settle(order, auth)
    _release_if_orphaned(provider, auth, settled["status"])
    return {"received": True, "applied": True, "status": settled["status"]}


def _release_if_orphaned(provider: PaymentProvider, auth: Authorization | None,
                         status: str) -> None:
    """Void the order's own approved authorization when the order failed anyway."""
    if auth is not None and auth.approved and auth.id and status == _FAILED:
        release_orphaned_authorization(provider, auth)
