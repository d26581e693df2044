"""Turn an API Gateway REST proxy event into a validated Request."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from headless_commerce.runtime.common import json_input
from headless_commerce.runtime.common.errors import ApiError, bad_request
from headless_commerce.runtime.common.validation import validate
from headless_commerce.runtime.routes import MAX_BODY_BYTES, PATH_PARAM_PATTERN, Route

_PATH_PARAM = re.compile(PATH_PARAM_PATTERN)


@dataclass(frozen=True)
class Claims:
    sub: str
    email: str | None = None


@dataclass
class Request:
    route: Route
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: object = None
    raw_body: bytes = b""
    claims: Claims | None = None
    # The caller's address as API Gateway saw it (requestContext.identity.sourceIp).
    source_ip: str | None = None

    def user(self) -> Claims:
        if self.claims is None:
            raise ApiError(401, "unauthorized", "Sign-in required")
        return self.claims


def claims_from_event(event: dict) -> Claims | None:
    """Cognito claims put there by the API Gateway user-pool authorizer."""
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, dict) else None
    claims = authorizer.get("claims") if isinstance(authorizer, dict) else None
    if not isinstance(claims, dict):
        return None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not _PATH_PARAM.fullmatch(sub):
        return None
    email = claims.get("email")
    return Claims(sub=sub, email=email if isinstance(email, str) else None)


def _string_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def _too_large() -> ApiError:
    return ApiError(413, "body_too_large", f"Body exceeds {MAX_BODY_BYTES} bytes")


def _raw_body(event: dict) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise bad_request("malformed_body", "Body must be a JSON document")
    if event.get("isBase64Encoded"):
        # Checked before decoding so a huge base64 body is refused without allocating it.
        if len(body) > MAX_BODY_BYTES * 4 // 3 + 4:
            raise _too_large()
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request("malformed_body", "Body is not valid base64") from None
    return body.encode("utf-8", "surrogatepass")


def parse_json(raw: bytes) -> object:
    try:
        return json_input.loads(raw)
    except json_input.InvalidJson as error:
        raise bad_request(error.code, error.message, error.field) from None


def build_request(event: dict, route: Route) -> Request:
    claims = claims_from_event(event)
    if route.auth == "user" and claims is None:
        raise ApiError(401, "unauthorized", "Sign-in required")
    headers = {k.lower(): v for k, v in _string_map(event.get("headers")).items()}
    path_params = _string_map(event.get("pathParameters"))
    for name in route.path_params:
        value = path_params.get(name)
        if value is None or not _PATH_PARAM.fullmatch(value):
            raise bad_request("invalid_parameter", f"{name} has an invalid format", name)
    query = {k: v for k, v in _string_map(event.get("queryStringParameters")).items()
             if k in route.query_params}
    for name in route.required_headers:
        if not headers.get(name.lower()):
            raise bad_request("missing_header", f"{name} header is required", name)

    raw = _raw_body(event)
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large()
    body = None
    if route.request_schema is not None:
        content_type = headers.get("content-type", "application/json").split(";")[0].strip()
        if content_type.lower() != "application/json":
            raise bad_request("unsupported_media_type", "Content-Type must be application/json")
        if not raw.strip():
            raise bad_request("missing_body", "A JSON body is required")
        body = parse_json(raw)
        validate(route.request_schema, body)
    # An RFC 8058 one-click POST carries the form body `List-Unsubscribe=One-Click`: ignored.
    elif raw.strip() and route.auth not in ("signature", "token"):
        raise bad_request("unexpected_body", "This operation takes no body")

    return Request(route=route, path_params=path_params, query=query, headers=headers,
                   body=body, raw_body=raw, claims=claims, source_ip=source_ip_from_event(event))


def source_ip_from_event(event: dict) -> str | None:
    context = event.get("requestContext")
    identity = context.get("identity") if isinstance(context, dict) else None
    ip = identity.get("sourceIp") if isinstance(identity, dict) else None
    return ip if isinstance(ip, str) and ip else None
