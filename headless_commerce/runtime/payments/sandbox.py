"""Sandbox provider: deterministic test tokens, no network.

tok_visa approves; tok_chargeDeclined declines (card_declined); tok_fraudulent declines
(fraudulent); any other token declines (invalid_token). Authorizations are idempotent per
order id, like a Stripe idempotency key.

The ledger lives in this object, i.e. in one process: find_authorization in another process
(the sweeper's Lambda) has no record and answers None, "never authorized".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from headless_commerce.runtime.common import json_input
from headless_commerce.runtime.payments import signature
from headless_commerce.runtime.payments.provider import (
    Authorization,
    PaymentProvider,
    WebhookEvent,
    WebhookPayloadError,
)

DECLINES = {"tok_chargeDeclined": "card_declined", "tok_fraudulent": "fraudulent"}
APPROVED = frozenset({"tok_visa", "tok_mastercard", "tok_amex"})
_WEBHOOK_KINDS = {"payment.authorized": "authorized", "payment.failed": "failed"}


class SandboxProvider(PaymentProvider):
    name = "sandbox"
    signature_header = "Sandbox-Signature"

    def __init__(self, webhook_secret: str | None = None,
                 secret_loader: Callable[[], str | None] | None = None) -> None:
        self._webhook_secret = webhook_secret
        self._secret_loader = secret_loader
        self._lock = threading.Lock()
        self.authorizations: dict[str, Authorization] = {}
        self.authorize_calls = 0
        self.captures: dict[str, int] = {}
        self.refunds: dict[str, int] = {}
        self.voided: set[str] = set()

    @property
    def charges(self) -> list[Authorization]:
        """Approved, not voided authorizations: what a real provider would hold on a card."""
        return [a for a in self.authorizations.values() if a.approved and a.id not in self.voided]

    def find_authorization(self, order_id: str) -> Authorization | None:
        with self._lock:
            found = self.authorizations.get(order_id)
            if found is not None and found.id in self.voided:
                return replace(found, approved=False, decline_code="voided")
            return found

    def void(self, authorization_id: str) -> dict:
        with self._lock:
            self._find(authorization_id)
            if authorization_id in self.captures:
                raise ValueError("a captured authorization is refunded, not voided")
            self.voided.add(authorization_id)
            return {"id": authorization_id, "status": "canceled"}

    def authorize(self, *, order_id: str, amount: int, currency: str, token: str) -> Authorization:
        with self._lock:
            self.authorize_calls += 1
            existing = self.authorizations.get(order_id)
            if existing is not None:
                return existing
            decline = None if token in APPROVED else DECLINES.get(token, "invalid_token")
            result = Authorization(id=f"sbx_auth_{order_id}", order_id=order_id,
                                   approved=decline is None, amount=amount, currency=currency,
                                   provider=self.name, decline_code=decline)
            self.authorizations[order_id] = result
            return result

    def _find(self, authorization_id: str) -> Authorization:
        found = next((a for a in self.authorizations.values() if a.id == authorization_id), None)
        if found is None or not found.approved or authorization_id in self.voided:
            raise ValueError(f"no approved authorization {authorization_id}")
        return found

    def capture(self, authorization_id: str, amount: int | None = None) -> dict:
        with self._lock:
            auth = self._find(authorization_id)
            captured = self.captures.setdefault(authorization_id, amount or auth.amount)
            return {"id": authorization_id, "status": "captured", "amount": captured}

    def refund(self, authorization_id: str, amount: int | None = None) -> dict:
        with self._lock:
            auth = self._find(authorization_id)
            refunded = self.refunds.get(authorization_id, 0) + (amount or auth.amount)
            if refunded > self.captures.get(authorization_id, auth.amount):
                raise ValueError("refund exceeds the captured amount")
            self.refunds[authorization_id] = refunded
            return {"id": authorization_id, "status": "refunded", "amount": refunded}

    def webhook_secret(self) -> str | None:
        if self._webhook_secret is None and self._secret_loader is not None:
            self._webhook_secret = self._secret_loader()
        return self._webhook_secret

    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        signature.verify(payload, headers.get(self.signature_header.lower()), self.webhook_secret())
        try:
            body = json_input.loads(payload)
            data = body["data"]
            return WebhookEvent(id=str(body["id"]), kind=_WEBHOOK_KINDS.get(body["type"], "ignored"),
                                order_id=data.get("order_id"),
                                decline_code=data.get("decline_code"))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WebhookPayloadError("malformed event") from None
