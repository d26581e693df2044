"""PaymentMx: the provider interface and the factory that picks one from PAYMENT_PROVIDER.

Card data never reaches this code: clients send a provider token, and only the provider's
authorization id is stored.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from headless_commerce.runtime import settings
from headless_commerce.runtime.common.provider_slot import ProviderSlot


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
    # Only which order to look at: what its payment is comes from the provider's own record
    # (find_authorization), never from ids in the event (payments/webhook.py).
    order_id: str | None = None
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


SECRET_MAX_AGE_S = 300


def release_orphaned_authorization(provider: PaymentProvider, auth: Authorization) -> None:
    """Void an approved authorization whose order was meanwhile settled as failed (by the sweeper
    or a failure webhook), so the shopper's card carries no hold for an order that will never
    ship. Best effort: an unused authorization also expires on its own."""
    from headless_commerce.runtime.common.logging import logger

    try:
        provider.void(auth.id)
        logger.warning("voided the authorization of an order settled as failed meanwhile",
                       extra={"order_id": auth.order_id})
    except Exception:
        logger.exception("could not void an orphaned authorization", extra={"order_id": auth.order_id})


def payment_secret() -> dict:
    """{"api_key", "webhook_secret"} from PAYMENT_SECRET_ARN (Powertools parameters, cached for
    SECRET_MAX_AGE_S so a rotation is picked up without a cold start). Empty when no secret is
    configured."""
    arn = settings.payment_secret_arn()
    if not arn:
        return {}
    # Imported here: only the functions that take payments pay for it.
    from aws_lambda_powertools.utilities.parameters import get_secret

    return get_secret(arn, transform="json", max_age=SECRET_MAX_AGE_S)


def _build() -> PaymentProvider:
    name = settings.payment_provider()
    if name == "sandbox":
        from headless_commerce.runtime.payments.sandbox import SandboxProvider

        return SandboxProvider(secret_loader=lambda: payment_secret().get("webhook_secret"))
    if name == "stripe":
        from headless_commerce.runtime.payments.stripe_provider import StripeProvider

        return StripeProvider(secret_loader=payment_secret)
    raise RuntimeError(f"unknown PAYMENT_PROVIDER {name!r}")


_slot: ProviderSlot[PaymentProvider] = ProviderSlot(_build)
# The configured provider, created once per process (the sandbox keeps its ledger in it); tests
# and local mode replace it (None forgets it).
get_provider = _slot.get
set_provider = _slot.set
