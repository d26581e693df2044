"""Which Lex session a chat turn belongs to, and who is talking.

A caller never chooses a Lex session id. A signed-in customer's session id is derived from the
`sub` API Gateway verified; an anonymous shopper's from an opaque id this API issued and signed
(`v1.{issued}.{nonce}.{signature}`: HMAC-SHA256 over `v1.{issued}.{nonce}` with the chat session
key). An unsigned, tampered or expired id starts a fresh session instead of continuing one, so
one caller can never continue another's conversation. The two kinds of session ids have their
own prefixes, so no anonymous id can ever name a customer's session.

Only this API calls Lex (RecognizeText needs IAM credentials a client does not have), so the
request attribute naming the customer comes from the verified token, never from the client.
Fulfillment still checks that the session id is the one derived from that customer, so even a
misrouted request cannot read orders in someone else's session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time

from headless_commerce.runtime import settings
from headless_commerce.runtime.common import signing_keys
from headless_commerce.runtime.routes import CHAT_SESSION_ID_PATTERN

VERSION = "v1"
# A shopper who comes back after this starts a new conversation (Lex forgets idle sessions far sooner).
ANONYMOUS_MAX_AGE_S = 24 * 3600
# RecognizeText request attribute with the verified customer id (absent for anonymous callers).
CUSTOMER_ATTRIBUTE = "customer_id"
CUSTOMER_PREFIX = "c-"
ANONYMOUS_PREFIX = "a-"
_TOKEN = re.compile(CHAT_SESSION_ID_PATTERN)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def signing_key() -> bytes:
    """CHAT_SESSION_KEY (local mode) or the secret CHAT_SESSION_SECRET_ARN names (cached)."""
    return signing_keys.signing_key(key=settings.chat_session_key(), secret_arn=settings.chat_session_secret_arn(),
                                    what="chat session", arn_variable=settings.CHAT_SESSION_SECRET_ARN)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:48]


def customer_session_id(sub: str) -> str:
    """The Lex session of a signed-in customer: the same on every device they sign in on."""
    return CUSTOMER_PREFIX + _digest(f"customer:{sub}")


def _sign(payload: str, key: bytes) -> str:
    return _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())


def issue_anonymous(now: float | None = None, key: bytes | None = None) -> str:
    issued = int(time.time() if now is None else now)
    payload = f"{VERSION}.{_b36(issued)}.{_b64(secrets.token_bytes(16))}"
    return f"{payload}.{_sign(payload, key or signing_key())}"


def verify_anonymous(token: str | None, now: float | None = None, key: bytes | None = None) -> bool:
    """True for an id this API issued (untampered) within ANONYMOUS_MAX_AGE_S."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return False
    payload, _, signature = token.rpartition(".")
    if not hmac.compare_digest(_sign(payload, key or signing_key()).encode("ascii"), signature.encode("ascii")):
        return False
    age = (time.time() if now is None else now) - int(payload.split(".")[1], 36)
    # A little clock skew between functions is tolerated; an id from the future is not.
    return -60 <= age <= ANONYMOUS_MAX_AGE_S


def anonymous_session_id(token: str) -> str:
    return ANONYMOUS_PREFIX + _digest(f"anonymous:{token}")


def bind(sub: str | None, token: str | None) -> tuple[str, str | None, dict[str, str]]:
    """(Lex session id, the id to hand back to an anonymous caller, request attributes)."""
    if sub is not None:
        return customer_session_id(sub), None, {CUSTOMER_ATTRIBUTE: sub}
    if not verify_anonymous(token):
        token = issue_anonymous()
    return anonymous_session_id(token), token, {}


def verified_customer(session_id: object, request_attributes: object) -> str | None:
    """The customer a Lex code-hook event speaks for, or None (anonymous, or not consistent)."""
    if not isinstance(request_attributes, dict):
        return None
    sub = request_attributes.get(CUSTOMER_ATTRIBUTE)
    if not isinstance(sub, str) or not sub:
        return None
    if not isinstance(session_id, str) or not hmac.compare_digest(session_id, customer_session_id(sub)):
        return None
    return sub
