"""Shopper sessions: a random id in a signed cookie, the data in DynamoDB.

Session table (WebTier creates it; `SESSION_TABLE_NAME`): partition key `session_id` (S), TTL
attribute `expires_at` (epoch seconds; DynamoDB deletes expired items lazily, so a read also
checks it). Item: `session_id`, `data` (JSON string), `expires_at`.

The cookie holds only the id, signed with the key from `SESSION_SECRET_ARN` (itsdangerous,
timestamped: a cookie older than the lifetime is refused even if its item is still there).
It is HttpOnly, SameSite=Lax and Secure (`__Host-` prefix) by default. The id is replaced on
sign-in and sign-out (session fixation), and the old item deleted.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from headless_commerce.model import SESSION_PARTITION_KEY, SESSION_TTL_ATTRIBUTE
from headless_commerce.runtime.storefront import aws

SESSION_LIFETIME_S = 7 * 24 * 3600
SECURE_COOKIE = "__Host-sid"
PLAIN_COOKIE = "sid"   # plain-HTTP local mode: browsers drop __Host- cookies without Secure


class TamperedCookie(Exception):
    """The cookie's signature does not verify."""


class ExpiredCookie(Exception):
    """The cookie is genuine but older than the session lifetime, or its session is gone."""


@dataclass
class Session:
    session_id: str
    data: dict = field(default_factory=dict)
    new: bool = False
    modified: bool = False
    # Ids to delete when this session is saved (rotation).
    retired: list[str] = field(default_factory=list)

    def __getitem__(self, key: str):
        return self.data[key]

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    def __setitem__(self, key: str, value) -> None:
        self.data[key] = value
        self.modified = True

    def pop(self, key: str, default=None):
        if key in self.data:
            self.modified = True
        return self.data.pop(key, default)

    def csrf_token(self) -> str:
        token = self.data.get("csrf")
        if not token:
            self["csrf"] = token = secrets.token_urlsafe(32)
        return token

    def rotate(self) -> None:
        """A new id and CSRF token for the same data (on sign-in and sign-out)."""
        if not self.new:
            self.retired.append(self.session_id)
        self.session_id = new_session_id()
        self.data.pop("csrf", None)
        self.new = True
        self.modified = True


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


class CookieSigner:
    def __init__(self, key: str | bytes, lifetime_s: int = SESSION_LIFETIME_S) -> None:
        self._signer = TimestampSigner(key, salt="headless-commerce.storefront.session")
        self.lifetime_s = lifetime_s

    def sign(self, session_id: str) -> str:
        return self._signer.sign(session_id).decode()

    def unsign(self, cookie: str) -> str:
        try:
            return self._signer.unsign(cookie, max_age=self.lifetime_s).decode()
        except SignatureExpired:
            raise ExpiredCookie from None
        except BadSignature:
            raise TamperedCookie from None


class MemorySessionStore:
    """Sessions in this process (no SESSION_TABLE_NAME): tests and single-process use only."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[int, dict]] = {}
        self._lock = threading.Lock()

    def load(self, session_id: str) -> dict | None:
        with self._lock:
            found = self._items.get(session_id)
        if found is None or found[0] <= time.time():
            return None
        return json.loads(json.dumps(found[1]))

    def save(self, session_id: str, data: dict, expires_at: int) -> None:
        with self._lock:
            self._items[session_id] = (expires_at, json.loads(json.dumps(data)))

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._items.pop(session_id, None)


class DynamoSessionStore:
    def __init__(self, table_name: str) -> None:
        self._table = aws.table(table_name)

    def load(self, session_id: str) -> dict | None:
        item = self._table.get_item(Key={SESSION_PARTITION_KEY: session_id},
                                    ConsistentRead=True).get("Item")
        if item is None or int(item.get(SESSION_TTL_ATTRIBUTE, 0)) <= time.time():
            return None
        try:
            data = json.loads(item.get("data") or "{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def save(self, session_id: str, data: dict, expires_at: int) -> None:
        self._table.put_item(Item={SESSION_PARTITION_KEY: session_id,
                                   SESSION_TTL_ATTRIBUTE: expires_at,
                                   "data": json.dumps(data, separators=(",", ":"))})

    def delete(self, session_id: str) -> None:
        self._table.delete_item(Key={SESSION_PARTITION_KEY: session_id})


def open_store(table_name: str | None) -> MemorySessionStore | DynamoSessionStore:
    return DynamoSessionStore(table_name) if table_name else MemorySessionStore()
