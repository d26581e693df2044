"""Idempotency records for checkout.

A record binds (customer, key) to the order the first request created and to a fingerprint
of that request. It is written in the order's own transaction with attribute_not_exists, so
of any number of concurrent requests with one key exactly one creates an order.
"""

from __future__ import annotations

import hashlib
import json
import re

from headless_commerce import model
from headless_commerce.runtime.common.clock import epoch, now_iso
from headless_commerce.runtime.common.dynamo import to_item
from headless_commerce.runtime.common.errors import bad_request
from headless_commerce.runtime.routes import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_PATTERN

_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def parse_key(headers: dict[str, str]) -> str:
    value = headers.get(IDEMPOTENCY_HEADER.lower(), "")
    if not value:
        raise bad_request("missing_idempotency_key", f"{IDEMPOTENCY_HEADER} header is required",
                          IDEMPOTENCY_HEADER)
    if not _KEY.fullmatch(value):
        raise bad_request("invalid_idempotency_key",
                          f"{IDEMPOTENCY_HEADER} must be 8-128 letters, digits or _.:-",
                          IDEMPOTENCY_HEADER)
    return value


def fingerprint(value: object) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_put(sub: str, key: str, *, order_id: str, request_hash: str, cart_hash: str) -> dict:
    item = {
        **model.idempotency_key(sub, key),
        model.ENTITY_ATTRIBUTE: model.Entity.IDEMPOTENCY,
        "order_id": order_id,
        "request_hash": request_hash,
        "cart_hash": cart_hash,
        "created_at": now_iso(),
        model.TTL_ATTRIBUTE: epoch() + model.IDEMPOTENCY_TTL_SECONDS,
    }
    return {"Put": {"Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}
