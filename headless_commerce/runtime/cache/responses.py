"""The commerce API's response cache: public, read-heavy routes answered from Valkey.

A route opts in with `cache_ttl_s` in the route table (routes.py refuses it on signed-in
routes). A response is cached only when all of these hold: the route has a TTL, the request
carries no identity (no claims, no Authorization header: a personalised answer never lands in
a shared key), CACHE_URL is set, and the answer is a 200. The key covers the operation, its
path parameters and the query parameters the route declares (the only ones its handler reads),
and embeds a generation counter (keys.py): the product's for a route with a `product_id` path
parameter, the catalog's otherwise, so `ProductModified` / `InventoryChanged` invalidate it.

A request sent with `Cache-Control: no-cache` (the storefront's live-availability read) is
answered by the handler and its answer replaces the entry. A cache failure is a miss
(keys.OutageGuard): the request is answered by the handler.
"""

from __future__ import annotations

import functools
import hashlib
import json

from headless_commerce.runtime import settings
from headless_commerce.runtime.cache import keys
from headless_commerce.runtime.common.request import Request

PREFIX = "api:v1"
CACHE_HEADER = "X-Cache"


def cacheable(request: Request) -> bool:
    return (request.route.cache_ttl_s > 0 and request.claims is None
            and "authorization" not in request.headers)


def _generation_key(request: Request) -> str:
    product_id = request.path_params.get("product_id")
    return keys.product_generation_key(product_id) if product_id else keys.CATALOG_GENERATION


def response_key(request: Request, generation: int) -> str:
    params = [*(("path." + k, v) for k, v in request.path_params.items()), *request.query.items()]
    product_id = request.path_params.get("product_id")
    if product_id:
        canonical = request.route.operation_id + "?" + "&".join(f"{k}={v}" for k, v in sorted(params))
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
        return f"{keys.product_key(PREFIX, product_id, generation)}:{digest}"
    return keys.listing_key(PREFIX, generation, request.route.operation_id, params)


class ResponseCache:
    """Blocking redis-py calls: two GETs on a hit (the generation, then the entry)."""

    def __init__(self, client) -> None:
        self._client = client
        self._guard = keys.OutageGuard()

    def lookup(self, request: Request) -> tuple[str | None, dict | None]:
        """(key to store under, cached proxy response or None); (None, None) when bypassed."""
        if not self._guard.available():
            return None, None
        try:
            generation = keys.generation(self._client.get(_generation_key(request)))
            key = response_key(request, generation)
            if "no-cache" in request.headers.get("cache-control", "").lower():
                return key, None
            raw = self._client.get(key)
        except Exception as error:  # redis errors, timeouts, DNS: answer from the handler
            self._guard.failed("read", error)
            return None, None
        if raw is None:
            return key, None
        try:
            entry = json.loads(raw)
            return key, {"statusCode": 200, "headers": {**entry["headers"], CACHE_HEADER: "HIT"},
                         "body": entry["body"]}
        except (ValueError, KeyError, TypeError):
            return key, None

    def store(self, key: str, response: dict, ttl_s: int) -> None:
        if response.get("statusCode") != 200 or not self._guard.available():
            return
        entry = {"headers": response.get("headers") or {}, "body": response.get("body") or ""}
        try:
            self._client.set(key, json.dumps(entry, separators=(",", ":")), ex=ttl_s)
        except Exception as error:
            self._guard.failed("write", error)


@functools.cache
def _cache_for(url: str, secret_arn: str | None) -> ResponseCache:
    return ResponseCache(keys.sync_client(url, secret_arn))


def for_request(request: Request) -> ResponseCache | None:
    """The cache to consult for this request, or None (not cacheable, or no cache configured)."""
    if not cacheable(request):
        return None
    url = settings.cache_url()
    return _cache_for(url, settings.cache_auth_secret_arn()) if url else None
