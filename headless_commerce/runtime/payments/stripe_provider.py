"""Stripe provider: manual-capture PaymentIntents, idempotency key derived from the order id.

`stripe` is imported only when this provider is used, so other functions never pay for it
(it ships in its own layer). The API key and webhook secret come from PAYMENT_SECRET_ARN.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from headless_commerce.runtime.common import json_input
from headless_commerce.runtime.payments.provider import (
    Authorization,
    PaymentProvider,
    WebhookEvent,
    WebhookPayloadError,
    WebhookSignatureError,
)

_AUTHORIZED = ("requires_capture", "succeeded")
_WEBHOOK_KINDS = {
    "payment_intent.amount_capturable_updated": "authorized",
    "payment_intent.succeeded": "authorized",
    "payment_intent.payment_failed": "failed",
}


class StripeProvider(PaymentProvider):
    name = "stripe"
    signature_header = "Stripe-Signature"

    def __init__(self, secret_loader: Callable[[], dict], http_client: object = None) -> None:
        self._secret_loader = secret_loader
        self._http_client = http_client
        self._client = None
        self._lock = threading.Lock()

    def _stripe(self):
        import stripe

        with self._lock:
            if self._client is None:
                api_key = self._secret_loader().get("api_key")
                if not api_key:
                    raise RuntimeError("payment secret has no api_key")
                self._client = stripe.StripeClient(api_key, http_client=self._http_client,
                                                   max_network_retries=2)
            return stripe, self._client

    def authorize(self, *, order_id: str, amount: int, currency: str, token: str) -> Authorization:
        stripe, client = self._stripe()
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method_types": ["card"],
            "payment_method_data": {"type": "card", "card": {"token": token}},
            "confirm": True,
            "capture_method": "manual",
            "metadata": {"order_id": order_id},
        }
        try:
            intent = client.v1.payment_intents.create(
                params, {"idempotency_key": f"authorize-{order_id}"})
        except stripe.CardError as error:
            intent = (error.json_body or {}).get("error", {}).get("payment_intent") or {}
            return Authorization(id=intent.get("id", ""), order_id=order_id, approved=False,
                                 amount=amount, currency=currency, provider=self.name,
                                 decline_code=error.code or "card_declined")
        except stripe.InvalidRequestError as error:
            # A token Stripe does not know is the shopper's problem, not an outage: decline,
            # so the reserved stock is released instead of waiting for a retry.
            return Authorization(id="", order_id=order_id, approved=False, amount=amount,
                                 currency=currency, provider=self.name,
                                 decline_code=error.code or "invalid_request")
        approved = intent.status in _AUTHORIZED
        return Authorization(id=intent.id, order_id=order_id, approved=approved, amount=amount,
                             currency=currency, provider=self.name,
                             decline_code=None if approved else intent.status)

    def find_authorization(self, order_id: str) -> Authorization | None:
        """Search the PaymentIntents by the order id authorize() put in their metadata (a
        read; re-sending the create with its idempotency key would create one if none
        exists). Search lags writes by up to about a minute: callers ask about orders far
        older than that."""
        _, client = self._stripe()
        quoted = order_id.replace("\\", "\\\\").replace("'", "\\'")
        found = client.v1.payment_intents.search(
            {"query": f"metadata['order_id']:'{quoted}'", "limit": 10})
        intents = [i.to_dict() for i in found.data]
        intents = [i for i in intents if (i.get("metadata") or {}).get("order_id") == order_id]
        if not intents:
            return None
        approved = [i for i in intents if i["status"] in _AUTHORIZED]
        if not approved and any(i["status"] == "processing" for i in intents):
            raise RuntimeError(f"the authorization of order {order_id} is still processing")
        intent = (approved or sorted(intents, key=lambda i: i.get("created") or 0))[-1]
        error = intent.get("last_payment_error") or {}
        return Authorization(id=intent["id"], order_id=order_id, approved=bool(approved),
                             amount=intent["amount"], currency=intent["currency"].upper(),
                             provider=self.name,
                             decline_code=None if approved else (error.get("code") or intent["status"]))

    def void(self, authorization_id: str) -> dict:
        _, client = self._stripe()
        intent = client.v1.payment_intents.cancel(
            authorization_id, {"cancellation_reason": "abandoned"},
            {"idempotency_key": f"void-{authorization_id}"})
        return {"id": intent.id, "status": intent.status}

    def capture(self, authorization_id: str, amount: int | None = None) -> dict:
        _, client = self._stripe()
        params = {"amount_to_capture": amount} if amount else {}
        intent = client.v1.payment_intents.capture(
            authorization_id, params, {"idempotency_key": f"capture-{authorization_id}"})
        return {"id": intent.id, "status": intent.status}

    def refund(self, authorization_id: str, amount: int | None = None) -> dict:
        _, client = self._stripe()
        params: dict = {"payment_intent": authorization_id}
        if amount:
            params["amount"] = amount
        refund = client.v1.refunds.create(params)
        return {"id": refund.id, "status": refund.status}

    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        import stripe

        secret = self._secret_loader().get("webhook_secret")
        header = headers.get(self.signature_header.lower())
        if not secret or not header:
            raise WebhookSignatureError("missing signature or secret")
        if not header.isascii():
            # stripe's compare_digest raises TypeError on non-ASCII str: a 401, not a 500.
            raise WebhookSignatureError("malformed signature")
        try:
            stripe.WebhookSignature.verify_header(payload.decode("utf-8"), header, secret)
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
            raise WebhookSignatureError(str(error)) from None
        try:
            event = json_input.loads(payload)
            intent = event["data"]["object"]
            error = intent.get("last_payment_error") or {}
            return WebhookEvent(id=event["id"], kind=_WEBHOOK_KINDS.get(event["type"], "ignored"),
                                order_id=(intent.get("metadata") or {}).get("order_id"),
                                decline_code=error.get("code"))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookPayloadError("malformed event") from None
