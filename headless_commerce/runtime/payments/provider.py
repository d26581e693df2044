"""PaymentMx: the provider interface and the factory that picks one from PAYMENT_PROVIDER.

Card data never reaches this code: clients send a provider token, and only the provider's
authorization id is stored.
"""

from __future__ import annotations

import json
import os
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class Authorization:
    id: str
    order_id: str
    approved: bool
    amount: int
    currency: str
    provider: str
    decline_code: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    kind: str  # "authorized" | "failed" | "ignored"
    order_id: str | None = None
    authorization_id: str | None = None
    decline_code: str | None = None


class WebhookSignatureError(Exception):
    """The webhook's signature is missing, malformed, stale or wrong."""


class WebhookPayloadError(ValueError):
    """Correctly signed, but not an event this code can read."""


class PaymentProvider(ABC):
    name: str
    signature_header: str

    @abstractmethod
    def authorize(self, *, order_id: str, amount: int, currency: str, token: str) -> Authorization:
        """Authorize (not capture) `amount`; idempotent per order id: the same order never
        creates a second charge."""

    @abstractmethod
    def find_authorization(self, order_id: str) -> Authorization | None:
        """Read-only: the outcome of the order's earlier authorize call as the provider
        recorded it, or None when it has no record of one. Never creates a charge. Raises
        when the provider cannot tell yet (outage, still processing): the caller retries later."""

    @abstractmethod
    def void(self, authorization_id: str) -> dict:
        """Release an uncaptured authorization (the order it was for did not go ahead)."""

    @abstractmethod
    def capture(self, authorization_id: str, amount: int | None = None) -> dict: ...

    @abstractmethod
    def refund(self, authorization_id: str, amount: int | None = None) -> dict: ...

    @abstractmethod
    def verify_webhook(self, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        """Check the signature and parse the event; raise WebhookSignatureError if bad."""


_SECRET_TTL_S = 300
_secret_cache: dict[str, tuple[float, dict]] = {}
_secret_lock = threading.Lock()


def release_orphaned_authorization(provider: PaymentProvider, auth: Authorization) -> None:
    """Void an approved authorization whose order was meanwhile settled as failed (by the sweeper
    or a failure webhook), so the shopper's card carries no hold for an order that will never
    ship. Best effort: an unused authorization also expires on its own."""
    from headless_commerce.runtime.common.logging import logger

    try:
        provider.void(auth.id)
        logger.warning("voided the authorization of an order settled as failed meanwhile",
                       extra={"order_id": auth.order_id})
    except Exception:  # noqa: BLE001 - see docstring
        logger.exception("could not void an orphaned authorization", extra={"order_id": auth.order_id})


def payment_secret() -> dict:
    """{"api_key", "webhook_secret"} from PAYMENT_SECRET_ARN, cached for five minutes so a
    rotation is picked up without a cold start. Empty when no secret is configured."""
    arn = os.environ.get("PAYMENT_SECRET_ARN")
    if not arn:
        return {}
    with _secret_lock:
        cached = _secret_cache.get(arn)
        if cached and time.monotonic() - cached[0] < _SECRET_TTL_S:
            return cached[1]
    from headless_commerce.runtime.common.aws import secretsmanager

    value = json.loads(secretsmanager().get_secret_value(SecretId=arn)["SecretString"])
    with _secret_lock:
        _secret_cache[arn] = (time.monotonic(), value)
    return value


_provider: PaymentProvider | None = None
_provider_lock = threading.Lock()


def get_provider() -> PaymentProvider:
    """The configured provider, created once per process (the sandbox keeps its ledger in it)."""
    global _provider
    with _provider_lock:
        if _provider is None:
            name = os.environ.get("PAYMENT_PROVIDER", "sandbox")
            if name == "sandbox":
                from headless_commerce.runtime.payments.sandbox import SandboxProvider

                _provider = SandboxProvider(secret_loader=lambda: payment_secret().get("webhook_secret"))
            elif name == "stripe":
                from headless_commerce.runtime.payments.stripe_provider import StripeProvider

                _provider = StripeProvider(secret_loader=payment_secret)
            else:
                raise RuntimeError(f"unknown PAYMENT_PROVIDER {name!r}")
        return _provider


def set_provider(provider: PaymentProvider | None) -> None:
    """Replace (or with None, forget) the process's provider: tests and local mode."""
    global _provider
    with _provider_lock:
        _provider = provider
