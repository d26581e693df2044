"""API Gateway proxy responses."""

from __future__ import annotations

import json
from decimal import Decimal

from headless_commerce.runtime import settings
from headless_commerce.runtime.common.errors import ApiError


def _default(value: object) -> object:
    # Amounts and quantities are stored as integers; DynamoDB hands them back as Decimal.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def cors_headers(event: object) -> dict[str, str]:
    """CORS headers for ALLOWED_ORIGIN: '*', one origin, or a comma-separated list.

    Access-Control-Allow-Origin holds a single origin, so with a list the caller's `Origin` is
    echoed only when it is listed; `Vary: Origin` keeps caches from serving it to another site.
    """
    allowed = [o.strip() for o in (settings.allowed_origin() or "").split(",") if o.strip()]
    if not allowed:
        return {}
    if allowed == ["*"]:
        return {"Access-Control-Allow-Origin": "*"}
    headers = {"Vary": "Origin"}
    sent = event.get("headers") if isinstance(event, dict) else None
    origin = next((v for k, v in sent.items() if k.lower() == "origin"), None) if isinstance(sent, dict) else None
    if len(allowed) == 1:
        headers["Access-Control-Allow-Origin"] = allowed[0]
    elif origin in allowed:
        headers["Access-Control-Allow-Origin"] = origin
    return headers


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> dict:
    response_headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if headers:
        response_headers.update(headers)
    return {
        "statusCode": status,
        "headers": response_headers,
        "body": json.dumps(body, default=_default, separators=(",", ":")),
    }


def error_response(error: ApiError) -> dict:
    return json_response(error.status, error.body(), error.headers)


class Response:
    """What an operation returns when 200 is not the right status."""

    def __init__(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    def to_proxy(self) -> dict:
        return json_response(self.status, self.body, self.headers)
