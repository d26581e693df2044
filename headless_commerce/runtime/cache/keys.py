"""The key scheme both response caches (the API's and the storefront's) use, and what they share
about talking to Valkey.

Version counters, no SCAN or multi-key commands, so it works on ElastiCache Serverless and a
single node alike:

    gen                          catalog generation: every listing key embeds it
    gen:p:<product_id>           one product's generation: its product key embeds it
    <prefix>:p:<product_id>:<g>  a product response
    <prefix>:l:<g>:<digest>      any other cached response (listing, search, categories, ...)

Invalidation (`ProductModified`, `InventoryChanged`: invalidation.py) INCRs the product's
counter and the catalog counter; old entries are never read again and expire by their TTL. The
counters carry no prefix, so one invalidation serves every cache sharing a server (local mode
with REDIS_URL runs the API's and the storefront's caches on one).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Iterable

log = logging.getLogger("headless_commerce.cache")

CATALOG_GENERATION = "gen"
# Generation counters outlive any entry that embeds them (the longest TTL is minutes).
GENERATION_TTL_S = 7 * 24 * 3600
# After a failure the cache is skipped this long, so a dead Valkey costs one short timeout,
# not one per request.
OUTAGE_BACKOFF_S = 5.0
SOCKET_TIMEOUT_S = 0.25


def product_generation_key(product_id: str) -> str:
    return f"{CATALOG_GENERATION}:p:{product_id}"


def product_key(prefix: str, product_id: str, generation: int) -> str:
    return f"{prefix}:p:{product_id}:{generation}"


def listing_key(prefix: str, generation: int, path: str, params: Iterable[tuple[str, str]]) -> str:
    canonical = path + "?" + "&".join(f"{k}={v}" for k, v in sorted(params))
    return f"{prefix}:l:{generation}:{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def invalidation_keys(product_ids: Iterable[str]) -> list[str]:
    """The counters to INCR when these products (or their stock) changed."""
    return [*(product_generation_key(p) for p in dict.fromkeys(product_ids)), CATALOG_GENERATION]


def generation(raw: object) -> int:
    try:
        return int(raw or 0)
    except (TypeError, ValueError):
        return 0


class OutageGuard:
    """Turns cache errors into misses and skips the cache for OUTAGE_BACKOFF_S after one."""

    def __init__(self) -> None:
        self._down_until = 0.0

    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def failed(self, operation: str, error: Exception) -> None:
        if self.available():
            log.warning("cache %s failed (%s: %s); bypassing the cache for %.0f s",
                        operation, type(error).__name__, error, OUTAGE_BACKOFF_S)
        self._down_until = time.monotonic() + OUTAGE_BACKOFF_S


@functools.cache
def sync_client(url: str, secret_arn: str | None, timeout_s: float = SOCKET_TIMEOUT_S):
    """redis-py's blocking client for a Lambda (one per container); the password, when the cache
    needs one, from Secrets Manager."""
    import redis

    from headless_commerce.runtime.common import aws

    password = None
    if secret_arn:
        password = aws.secretsmanager().get_secret_value(SecretId=secret_arn)["SecretString"]
    return redis.Redis.from_url(url, password=password, socket_timeout=timeout_s,
                                socket_connect_timeout=timeout_s, retry_on_timeout=False)


def bump_sync(client, keys: Iterable[str]) -> None:
    """INCR the counters (blocking client: the invalidation function)."""
    for key in keys:
        client.incr(key)
        client.expire(key, GENERATION_TTL_S)
