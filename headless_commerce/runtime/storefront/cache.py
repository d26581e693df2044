"""The storefront's cache of public commerce-API responses: Valkey/Redis, or in-process.

What is cached: only responses that are the same for every shopper (products, categories,
search, suggestions, anonymous recommendations). Anything sent with a customer's token (cart,
orders, profile, personalised recommendations) is never cached, so a signed-in page can never
land in a shared key.

Key scheme (version counters, no SCAN or multi-key commands, so it works on ElastiCache
Serverless and a single Valkey node alike):

    sf:gen                      catalog generation: every listing key embeds it
    sf:gen:p:<product_id>       one product's generation: its product key embeds it
    sf:v1:p:<product_id>:<gen>  a product response
    sf:v1:l:<gen>:<digest>      any other cached response (listing, search, categories, ...)

Invalidation (`ProductModified`, `InventoryChanged`: invalidation.py) INCRs the product's
counter and the catalog counter; old entries are never read again and expire by their TTL.

Outage bypass: any cache error counts as a miss, and the cache is skipped for
`OUTAGE_BACKOFF_S` so a dead Valkey costs one short timeout, not one per request. Pages still
render from the API.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

log = logging.getLogger("headless_commerce.storefront")

PREFIX = "sf:v1"
CATALOG_GENERATION = "sf:gen"
OUTAGE_BACKOFF_S = 5.0
SOCKET_TIMEOUT_S = 0.25
# Generation counters outlive any entry that embeds them (the longest TTL is minutes).
GENERATION_TTL_S = 7 * 24 * 3600
MEMORY_MAX_ENTRIES = 5000


def product_generation_key(product_id: str) -> str:
    return f"sf:gen:p:{product_id}"


def product_key(product_id: str, generation: int) -> str:
    return f"{PREFIX}:p:{product_id}:{generation}"


def listing_key(generation: int, path: str, params: Iterable[tuple[str, str]]) -> str:
    canonical = path + "?" + "&".join(f"{k}={v}" for k, v in sorted(params))
    return f"{PREFIX}:l:{generation}:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def invalidation_keys(product_ids: Iterable[str]) -> list[str]:
    """The counters to INCR when these products (or their stock) changed."""
    return [*(product_generation_key(p) for p in dict.fromkeys(product_ids)), CATALOG_GENERATION]


def _generation(raw: object) -> int:
    try:
        return int(raw or 0)
    except (TypeError, ValueError):
        return 0


class MemoryCache:
    """The in-process cache (no CACHE_URL): a bounded LRU with per-entry expiry."""

    kind = "in-process"

    def __init__(self, max_entries: int = MEMORY_MAX_ENTRIES) -> None:
        self._entries: OrderedDict[str, tuple[float | None, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def _get(self, key: str) -> object | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            expires, value = found
            if expires is not None and expires <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def _set(self, key: str, value: object, ttl: float | None) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + ttl if ttl else None, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    async def get(self, key: str) -> object | None:
        return self._get(key)

    async def set(self, key: str, value: object, ttl: float) -> None:
        self._set(key, value, ttl)

    async def generation(self, key: str) -> int:
        return _generation(self._get(key))

    def bump(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                _expires, value = self._entries.get(key, (None, 0))
                self._entries[key] = (None, _generation(value) + 1)

    async def close(self) -> None:
        pass


# Local mode runs the invalidation handler in the storefront's process: without CACHE_URL both
# share this one in-process cache, so invalidation really happens there too.
PROCESS_CACHE = MemoryCache()


class RedisCache:
    """Valkey/Redis through redis-py's asyncio client; errors are misses (see module doc)."""

    kind = "valkey"

    def __init__(self, url: str, password: str | None = None) -> None:
        import redis.asyncio as redis

        self.url = url
        self._client = redis.Redis.from_url(
            url, password=password, socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=SOCKET_TIMEOUT_S, retry_on_timeout=False,
            health_check_interval=30)
        self._down_until = 0.0

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, operation: str, error: Exception) -> None:
        if self._available():
            log.warning("cache %s failed (%s: %s); bypassing the cache for %.0f s",
                        operation, type(error).__name__, error, OUTAGE_BACKOFF_S)
        self._down_until = time.monotonic() + OUTAGE_BACKOFF_S

    async def get(self, key: str) -> object | None:
        if not self._available():
            return None
        try:
            raw = await self._client.get(key)
        except Exception as error:  # redis errors, timeouts, DNS: a miss, never a failed page
            self._failed("read", error)
            return None
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    async def set(self, key: str, value: object, ttl: float) -> None:
        if not self._available():
            return
        try:
            await self._client.set(key, json.dumps(value, separators=(",", ":")), ex=int(ttl))
        except Exception as error:
            self._failed("write", error)

    async def generation(self, key: str) -> int:
        if not self._available():
            return 0
        try:
            return _generation(await self._client.get(key))
        except Exception as error:
            self._failed("read", error)
            return 0

    async def close(self) -> None:
        await self._client.aclose()


def bump_sync(client, keys: Iterable[str]) -> None:
    """INCR the counters (the invalidation Lambda's synchronous redis client)."""
    for key in keys:
        client.incr(key)
        client.expire(key, GENERATION_TTL_S)


def open_cache(url: str | None, password: str | None = None) -> MemoryCache | RedisCache:
    return RedisCache(url, password) if url else PROCESS_CACHE
