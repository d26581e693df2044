"""Stripe-style webhook signatures: header `t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from headless_commerce.runtime.payments.provider import WebhookSignatureError

TOLERANCE_S = 300
# ASCII only: "²".isdigit() is true but int() refuses it, and compare_digest refuses
# non-ASCII str; either would turn a forged header into a 500 instead of a 401.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(payload: bytes, header: str | None, secret: str | None,
           tolerance_s: int = TOLERANCE_S) -> None:
    if not secret:
        raise WebhookSignatureError("no webhook secret configured")
    if not header:
        raise WebhookSignatureError("missing signature")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and _TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif name == "v1" and _DIGEST.fullmatch(value):
            candidates.append(value)
    if timestamp is None or not candidates:
        raise WebhookSignatureError("malformed signature")
    # Both directions: a replayed old event and a clock far in the future are refused.
    if abs(time.time() - timestamp) > tolerance_s:
        raise WebhookSignatureError("timestamp outside tolerance")
    expected = sign(payload, secret, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise WebhookSignatureError("signature mismatch")
