"""Errors as a client sees them: the one error body, and where each failure maps to HTTP.

Pure standard library: the CDK construct that builds API Gateway's own error responses
(constructs/commerce_api.py) and local mode build their bodies with `error_body` too, so a
client parses one shape whoever answered.
"""

from __future__ import annotations

from headless_commerce.runtime.common import domain_errors as d


def error_body(code: str, message: str, field: str | None = None, **details: object) -> dict:
    """{"error": {"code", "message", "field"}} plus optional top-level details."""
    return {"error": {"code": code, "message": message, "field": field}, **details}


class ApiError(Exception):
    """A failure already in HTTP terms: request parsing and validation raise it."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 extra: dict | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        # Extra top-level members of the response body (e.g. the order of a declined checkout).
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict:
        return error_body(self.code, self.message, self.field, **self.extra)


def bad_request(code: str, message: str, field: str | None = None) -> ApiError:
    return ApiError(400, code, message, field)


# Every domain exception's status and code: the one place business failures become HTTP.
HTTP_ERRORS: dict[type[d.DomainError], tuple[int, str]] = {
    d.NotFound: (404, "not_found"),
    d.UnknownSku: (400, "unknown_sku"),
    d.CartFull: (409, "cart_full"),
    d.CartChangedConcurrently: (409, "concurrent_modification"),
    d.CartEmpty: (409, "cart_empty"),
    d.CartAlreadyCheckedOut: (409, "cart_already_checked_out"),
    d.CartChanged: (409, "cart_changed"),
    d.SkuUnavailable: (409, "sku_unavailable"),
    d.OutOfStock: (409, "out_of_stock"),
    d.CheckoutInProgress: (409, "checkout_in_progress"),
    d.PaymentDeclined: (402, "payment_declined"),
    d.OrderRejected: (422, "order_rejected"),
    d.IdempotencyKeyReused: (422, "idempotency_key_reused"),
    d.PaymentUnavailable: (503, "payment_unavailable"),
    d.InvalidSignature: (401, "invalid_signature"),
    d.MalformedEvent: (400, "malformed_event"),
    d.InvalidUnsubscribeToken: (403, "invalid_token"),
    d.PushNotConfigured: (422, "push_not_configured"),
    d.InvalidPushToken: (400, "invalid_push_token"),
    d.InvalidSearch: (400, "invalid_parameter"),
    d.InvalidSearchCursor: (400, "invalid_cursor"),
    d.SearchUnavailable: (503, "search_unavailable"),
    d.InvalidChatText: (400, "invalid_text"),
    d.ChatUnavailable: (503, "chat_unavailable"),
    d.InvalidLocation: (400, "invalid_parameter"),
    d.AddressNotFound: (404, "address_not_found"),
    d.LocationUnavailable: (503, "location_unavailable"),
}


def from_domain(error: d.DomainError) -> ApiError:
    status, code = HTTP_ERRORS[type(error)]
    headers = {}
    if isinstance(error, d.CheckoutInProgress):
        headers["Retry-After"] = "1"
    elif isinstance(error, (d.PaymentUnavailable, d.DependencyUnavailable)):
        headers["Retry-After"] = str(error.retry_after_s)
    return ApiError(status, code, error.message, error.field, error.details, headers)
