"""Opaque page cursors and the `limit` parameter.

A cursor is DynamoDB's LastEvaluatedKey, base64url-encoded. Decoding checks it names exactly
the key attributes of the query being continued and the same partition, so a crafted cursor
can neither crash the query nor move it into another customer's partition.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from headless_commerce.runtime.common import json_input
from headless_commerce.runtime.common.dynamo import to_item
from headless_commerce.runtime.common.errors import bad_request

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 2048
# ASCII digits only: str.isdigit() also accepts "²" and "٣", which int() rejects or reads.
_LIMIT = re.compile(r"[0-9]{1,3}")


def parse_limit(query: dict[str, str]) -> int:
    raw = query.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not _LIMIT.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise bad_request("invalid_parameter", f"limit must be an integer 1..{MAX_LIMIT}", "limit")
    return int(raw)


def encode_cursor(last_key: dict | None) -> str | None:
    if not last_key:
        return None
    plain = {k: v["S"] for k, v in last_key.items()}
    raw = json.dumps(plain, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, key_attributes: tuple[str, ...],
                  fixed: dict[str, str]) -> dict | None:
    """ExclusiveStartKey for `cursor`, or None for the first page."""
    if cursor is None:
        return None
    invalid = bad_request("invalid_cursor", "cursor is not valid for this query", "cursor")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        # Strict: a crafted cursor could otherwise carry a lone surrogate into the query.
        plain = json_input.loads(raw)
    except (binascii.Error, ValueError):
        raise invalid from None
    if (not isinstance(plain, dict) or set(plain) != set(key_attributes)
            or not all(isinstance(v, str) and 0 < len(v) <= 512 for v in plain.values())
            or any(plain.get(k) != v for k, v in fixed.items())):
        raise invalid
    return to_item(plain)
