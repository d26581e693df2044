"""Verify Cognito ID tokens the way API Gateway's user-pool authorizer does.

Signature (RS256 only, key chosen by `kid` from the pool's JWKS), issuer = the pool,
`token_use == "id"`, audience = the app client, not expired. The verified claims are handed to
handlers as API Gateway does: every value a string, `exp`/`iat`/`auth_time` as dates.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ALGORITHMS = ["RS256"]
_DATE_CLAIMS = ("exp", "iat", "auth_time")


class InvalidToken(Exception):
    """The token is missing, malformed, forged, expired or meant for someone else."""


def bearer_token(authorization: str | None) -> str | None:
    """The token of an Authorization header: raw (API Gateway's Cognito form) or `Bearer x`."""
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    return authorization.strip() or None


VERIFIED_CACHE_SIZE = 1024


class TokenVerifier:
    """Verifies tokens against one key set. A token that passed is remembered (up to
    VERIFIED_CACHE_SIZE, least recently used dropped first) with its claims, so a shopper's
    next requests skip the signature check and claim parsing, which were a third of a cart
    request's CPU time: the same string with the same keys verifies the same way. Expiry is
    checked again on every use, so a remembered token stops working when it expires."""

    def __init__(self, jwks: dict, *, issuer: str, client_id: str | None,
                 clock: Callable[[], float] = time.time) -> None:
        self._keys = KeySet.import_key_set(jwks)
        self.issuer = issuer
        self.client_id = client_id
        self._clock = clock
        self._verified: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str | None) -> dict:
        """The token's claims, or InvalidToken naming the reason."""
        if not token:
            raise InvalidToken("no token")
        with self._lock:
            claims = self._verified.get(token)
            if claims is not None:
                self._verified.move_to_end(token)
        if claims is None:
            claims = self._check(token)
            with self._lock:
                self._verified[token] = claims
                while len(self._verified) > VERIFIED_CACHE_SIZE:
                    self._verified.popitem(last=False)
        if claims["exp"] <= self._clock():
            raise InvalidToken("expired")
        return copy.deepcopy(claims)      # callers may not change what is remembered

    def _check(self, token: str) -> dict:
        try:
            claims = jwt.decode(token, self._keys, algorithms=ALGORITHMS).claims
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise InvalidToken(f"bad token: {type(error).__name__}") from None
        if claims.get("iss") != self.issuer:
            raise InvalidToken("wrong issuer")
        if claims.get("token_use") != "id":
            raise InvalidToken("not an ID token")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        # None: any app client of the pool, as API Gateway's authorizer accepts. The pool signs
        # tokens only for its own clients, so the signature and issuer already bound them.
        if self.client_id is not None and self.client_id not in audiences:
            raise InvalidToken("wrong audience")
        expires = claims.get("exp")
        if not isinstance(expires, (int, float)) or isinstance(expires, bool):
            raise InvalidToken("no expiry")
        if expires <= self._clock():
            raise InvalidToken("expired")
        if not isinstance(claims.get("sub"), str):
            raise InvalidToken("no subject")
        return claims


def _as_string(name: str, value: object) -> str:
    if name in _DATE_CLAIMS and isinstance(value, (int, float)) and not isinstance(value, bool):
        # API Gateway's rendering, e.g. "Tue Mar 05 12:00:00 UTC 2024".
        return datetime.fromtimestamp(value, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def authorizer_claims(claims: dict) -> dict[str, str]:
    """requestContext.authorizer.claims as the Cognito authorizer passes them."""
    return {name: _as_string(name, value) for name, value in claims.items()}
