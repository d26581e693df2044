"""POST /payments/webhook: verified provider events settle pending orders.

Settling uses the same exactly-once transition as checkout, so a webhook arriving before,
after or twice alongside checkout's own settlement changes the order once.
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.common import repositories
from headless_commerce.runtime.common.errors import ApiError, bad_request
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.orders import transitions
from headless_commerce.runtime.payments.provider import (
    Authorization, PaymentProvider, WebhookPayloadError, WebhookSignatureError,
    release_orphaned_authorization)


def handle(payload: bytes, headers: dict[str, str], provider: PaymentProvider) -> dict:
    try:
        event = provider.verify_webhook(payload, headers)
    except WebhookSignatureError as error:
        logger.warning("webhook rejected", extra={"reason": str(error)})
        raise ApiError(401, "invalid_signature", "Signature verification failed",
                       provider.signature_header) from None
    except WebhookPayloadError:
        raise bad_request("malformed_event", "The event could not be read") from None
    if event.kind == "ignored" or not event.order_id:
        return {"received": True, "applied": False}
    order = repositories.get_order(event.order_id)
    if order is None:
        # Acknowledge: a provider would retry a 4xx forever for an order we never had.
        logger.warning("webhook for unknown order", extra={"order_id": event.order_id})
        return {"received": True, "applied": False}
    auth = Authorization(id=event.authorization_id or "", order_id=order["order_id"],
                         approved=event.kind == "authorized", amount=order["total"],
                         currency=order["currency"], provider=provider.name,
                         decline_code=event.decline_code)
    if order["status"] != model.OrderStatus.PENDING_PAYMENT.value:
        _release_if_orphaned(provider, auth, order["status"])
        return {"received": True, "applied": False}
    settled = transitions.settle(order, auth)
    _release_if_orphaned(provider, auth, settled["status"])
    return {"received": True, "applied": True, "status": settled["status"]}


def _release_if_orphaned(provider: PaymentProvider, auth: Authorization, status: str) -> None:
    if auth.approved and auth.id and status == model.OrderStatus.PAYMENT_FAILED.value:
        release_orphaned_authorization(provider, auth)
