"""The storefront's cache of public commerce-API responses: Valkey/Redis, or in-process.

What is cached: only responses that are the same for every shopper (products, categories,
search, suggestions, anonymous recommendations). Anything sent with a customer's token (cart,
orders, profile, personalised recommendations) is never cached, so a signed-in page can never
land in a shared key. Keys and invalidation: runtime/cache/keys.py (prefix `sf:v1`).

Outage bypass: any cache error counts as a miss, and the cache is skipped for a few seconds
(`keys.OutageGuard`). Pages still render from the API.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from headless_commerce.runtime.cache import keys
from headless_commerce.runtime.cache.keys import CATALOG_GENERATION, invalidation_keys, product_generation_key
from headless_commerce.runtime.cache.memory import PROCESS_CACHE, MemoryCache

PREFIX = "sf:v1"
__all__ = ["CATALOG_GENERATION", "PROCESS_CACHE", "MemoryCache", "RedisCache", "invalidation_keys",
           "listing_key", "open_cache", "product_generation_key", "product_key"]


def product_key(product_id: str, generation: int) -> str:
    return keys.product_key(PREFIX, product_id, generation)


def listing_key(generation: int, path: str, params: Iterable[tuple[str, str]]) -> str:
    return keys.listing_key(PREFIX, generation, path, params)


class RedisCache:
    """Valkey/Redis through redis-py's asyncio client; errors are misses (see module doc)."""

    kind = "valkey"

    def __init__(self, url: str, password: str | None = None) -> None:
        import redis.asyncio as redis

        self.url = url
        self._client = redis.Redis.from_url(
            url, password=password, socket_timeout=keys.SOCKET_TIMEOUT_S,
            socket_connect_timeout=keys.SOCKET_TIMEOUT_S, retry_on_timeout=False,
            health_check_interval=30)
        self._guard = keys.OutageGuard()

    async def get(self, key: str) -> object | None:
        if not self._guard.available():
            return None
        try:
            raw = await self._client.get(key)
        except Exception as error:  # redis errors, timeouts, DNS: a miss, never a failed page
            self._guard.failed("read", error)
            return None
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    async def set(self, key: str, value: object, ttl: float) -> None:
        if not self._guard.available():
            return
        try:
            await self._client.set(key, json.dumps(value, separators=(",", ":")), ex=int(ttl))
        except Exception as error:
            self._guard.failed("write", error)

    async def generation(self, key: str) -> int:
        if not self._guard.available():
            return 0
        try:
            return keys.generation(await self._client.get(key))
        except Exception as error:
            self._guard.failed("read", error)
            return 0

    async def close(self) -> None:
        await self._client.aclose()


def open_cache(url: str | None, password: str | None = None) -> MemoryCache | RedisCache:
    return RedisCache(url, password) if url else PROCESS_CACHE
