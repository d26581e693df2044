"""Checkout's Idempotency-Key header and request fingerprints.

The record binding (customer, key) to the order the first request created (and to the
fingerprint of that request) is written in the order's own transaction with
attribute_not_exists (orders/repository.place), so of any number of concurrent requests with
one key exactly one creates an order.
"""

from __future__ import annotations

import hashlib
import json
import re

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
