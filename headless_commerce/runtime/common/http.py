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


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> dict:
    response_headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    origin = settings.allowed_origin()
    if origin:
        response_headers["Access-Control-Allow-Origin"] = origin
        response_headers["Vary"] = "Origin"
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
