"""Business-rule failures, raised by services in their own words.

Services never build HTTP responses: they raise these, and common/errors.py maps each class to
its status and code in one table. `details` become extra top-level members of the error body
(the SKUs that ran out, the order a checkout already became, ...).
"""

from __future__ import annotations


class DomainError(Exception):
    message = "The request could not be completed"
    field: str | None = None

    def __init__(self, message: str | None = None, *, field: str | None = None,
                 details: dict | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.field = field if field is not None else type(self).field
        self.details = details or {}


class NotFound(DomainError):
    def __init__(self, what: str, field: str | None = None) -> None:
        super().__init__(f"{what} not found", field=field)


class UnknownSku(DomainError):
    field = "sku"

    def __init__(self, sku: str) -> None:
        super().__init__(f"SKU {sku} does not exist")


class CartFull(DomainError):
    field = "sku"


class CartChangedConcurrently(DomainError):
    message = "The cart changed concurrently; retry"


class CartEmpty(DomainError):
    message = "The cart is empty"


class CartAlreadyCheckedOut(DomainError):
    """The cart was consumed by another checkout (another tab, a double click)."""

    message = "This cart was already checked out"

    def __init__(self, order_id: str) -> None:
        super().__init__(details={"order_id": order_id})


class CartChanged(DomainError):
    """The cart changed between reading and placing the order (not by a checkout)."""

    message = "The cart changed during checkout; review it and retry"


class SkuUnavailable(DomainError):
    field = "sku"

    def __init__(self, skus: list[str]) -> None:
        super().__init__("No longer sold: " + ", ".join(skus), details={"skus": skus})


class OutOfStock(DomainError):
    field = "sku"

    def __init__(self, skus: list[str]) -> None:
        super().__init__("Not enough stock for: " + ", ".join(skus), details={"skus": skus})


class OrderRejected(DomainError):
    message = "The order could not be accepted"


class IdempotencyKeyReused(DomainError):
    def __init__(self, header: str) -> None:
        super().__init__(f"This {header} was already used for a different request", field=header)


class CheckoutInProgress(DomainError):
    message = "This checkout is still being processed"

    def __init__(self, order_view: dict) -> None:
        super().__init__(details={"order": order_view})


class PaymentDeclined(DomainError):
    message = "The payment was declined"
    field = "payment_token"

    def __init__(self, order_view: dict) -> None:
        super().__init__(details={"order": order_view})


class PaymentUnavailable(DomainError):
    message = "Payment could not be processed; retry"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__()
        self.retry_after_s = retry_after_s


class InvalidSignature(DomainError):
    message = "Signature verification failed"


class MalformedEvent(DomainError):
    message = "The event could not be read"


class InvalidUnsubscribeToken(DomainError):
    """A missing, malformed, forged or tampered unsubscribe token (no login is involved)."""

    message = "The unsubscribe link is not valid"
    field = "token"


class PushNotConfigured(DomainError):
    """No SNS platform application is configured for the device's platform: a deployment fact no
    retry changes, so a 4xx rather than a 503."""

    field = "platform"

    def __init__(self, platform: str) -> None:
        super().__init__(f"Push notifications are not configured for {platform} here")


class InvalidPushToken(DomainError):
    """The push service refused the device token."""

    message = "The device token is not valid for this platform"
    field = "token"


class InvalidSearch(DomainError):
    """A search parameter search cannot run with; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class InvalidSearchCursor(DomainError):
    message = "cursor is not valid for this search"
    field = "cursor"


class DependencyUnavailable(DomainError):
    """An optional AWS service behind one capability failed: that capability answers 503 with
    `Retry-After`, the rest of the store is unaffected."""

    def __init__(self, retry_after_s: int = 5) -> None:
        super().__init__()
        self.retry_after_s = retry_after_s


class SearchUnavailable(DependencyUnavailable):
    """The search engine is unreachable, timed out or overloaded."""

    message = "Search is temporarily unavailable; retry"


class InvalidChatText(DomainError):
    """A chat turn with nothing to say, or more than the bot reads."""

    field = "text"


class ChatUnavailable(DependencyUnavailable):
    """The bot (Lex) is unreachable, throttling or failing; the rest of the store is not."""

    message = "The chat assistant is temporarily unavailable; retry"


class InvalidLocation(DomainError):
    """A coordinate, radius, limit or address the store locator cannot use; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class AddressNotFound(DomainError):
    """The address or place could not be geocoded."""

    message = "No place matches this address"
    field = "q"


class LocationUnavailable(DependencyUnavailable):
    """Amazon Location throttled, timed out or failed."""

    message = "Location services are temporarily unavailable; retry"
