"""One-click unsubscribe tokens: `v1.{customer}.{channel}.{signature}`, where `customer` is the
customer id in unpadded base64url and `signature` is HMAC-SHA256 over `v1.{customer}.{channel}`
with the unsubscribe key (base64url, unpadded).

No expiry on purpose: a link in a years-old e-mail must still unsubscribe (CAN-SPAM, RFC 8058);
the token can do nothing but withdraw one channel's consent of one customer. Rotating the key
invalidates every link sent before, so the key is not rotated on a schedule.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common import signing_keys
from headless_commerce.runtime.common.domain_errors import InvalidUnsubscribeToken

VERSION = "v1"
MAX_TOKEN_LENGTH = 512
_B64 = re.compile(r"^[A-Za-z0-9_-]+$")
_CUSTOMER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _B64.match(text):
        raise InvalidUnsubscribeToken()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidUnsubscribeToken() from None


def signing_key() -> bytes:
    """The key from MARKETING_UNSUBSCRIBE_KEY (local mode) or the secret (cached by Powertools)."""
    return signing_keys.signing_key(key=settings.marketing_unsubscribe_key(),
                                    secret_arn=settings.marketing_unsubscribe_secret_arn(), what="unsubscribe",
                                    arn_variable=settings.MARKETING_UNSUBSCRIBE_SECRET_ARN)


def _signature(payload: str, key: bytes) -> str:
    return _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())


def issue(customer_id: str, channel: str, key: bytes | None = None) -> str:
    payload = f"{VERSION}.{_b64(customer_id.encode('utf-8'))}.{channel}"
    return f"{payload}.{_signature(payload, key or signing_key())}"


def verify(token: str | None, key: bytes | None = None) -> tuple[str, str]:
    """(customer_id, channel) of a genuine token; InvalidUnsubscribeToken for anything else."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidUnsubscribeToken()
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != VERSION or parts[2] not in model.CONSENT_CHANNELS:
        raise InvalidUnsubscribeToken()
    payload = ".".join(parts[:3])
    expected = _signature(payload, key or signing_key())
    if not hmac.compare_digest(expected.encode("ascii"), parts[3].encode("ascii", "replace")):
        raise InvalidUnsubscribeToken()
    try:
        customer_id = _unb64(parts[1]).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidUnsubscribeToken() from None
    if not _CUSTOMER.match(customer_id):
        raise InvalidUnsubscribeToken()
    return customer_id, parts[2]


def unsubscribe_url(customer_id: str, channel: str) -> str | None:
    base = settings.marketing_api_url()
    return f"{base}/unsubscribe?token={issue(customer_id, channel)}" if base else None
