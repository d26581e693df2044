"""The commerce API as the storefront calls it (httpx), with the public responses cached.

Public GETs go through the cache (cache.py: TTL per page type); anything sent with a
customer's token never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx

from headless_commerce.runtime.routes import IDEMPOTENCY_HEADER
from headless_commerce.runtime.storefront import cache as cache_keys

TIMEOUT_S = 10.0
# Seconds a cached response lives, per kind of page (invalidation usually ends it sooner).
TTL_S = {"product": 300, "products": 120, "categories": 600, "search": 60, "suggest": 300,
         "recommendations": 300, "stores": 300}


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    body: dict | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class CommerceApi:
    def __init__(self, base_url: str, cache, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.cache = cache
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=TIMEOUT_S,
                                         transport=transport,
                                         headers={"Accept": "application/json"})

    async def close(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, *, token: str | None = None,
                    params: dict | None = None, body: dict | None = None,
                    headers: dict | None = None) -> dict:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = token
        try:
            response = await self._client.request(method, path, params=params, json=body,
                                                  headers=all_headers)
        except httpx.HTTPError as error:
            raise ApiError(
                503, "api_unavailable", f"the commerce API did not answer ({type(error).__name__})"
            ) from None
        try:
            payload = response.json() if response.content else {}
        except ValueError:
            payload = {}
        if response.status_code >= 400:
            error = payload.get("error") if isinstance(payload, dict) else None
            error = error if isinstance(error, dict) else {}
            raise ApiError(response.status_code, str(error.get("code") or "error"),
                           str(error.get("message") or response.reason_phrase), payload)
        return payload if isinstance(payload, dict) else {}

    async def _cached_listing(self, kind: str, path: str, params: dict) -> dict:
        clean = {k: str(v) for k, v in params.items() if v not in (None, "")}
        generation = await self.cache.generation(cache_keys.CATALOG_GENERATION)
        key = cache_keys.listing_key(generation, path, clean.items())
        found = await self.cache.get(key)
        if found is not None:
            return found
        value = await self._call("GET", path, params=clean)
        await self.cache.set(key, value, TTL_S[kind])
        return value

    # ---- public, cached -------------------------------------------------------------------

    async def product(self, product_id: str, *, fresh: bool = False) -> dict:
        """One product; `fresh` reads the API (live availability) and refreshes the entry."""
        generation = await self.cache.generation(cache_keys.product_generation_key(product_id))
        key = cache_keys.product_key(product_id, generation)
        found = None if fresh else await self.cache.get(key)
        if found is not None:
            return found
        # `no-cache` makes the API's own response cache answer from the table (and refresh).
        value = await self._call("GET", f"/products/{quote(product_id, safe='')}",
                                 headers={"Cache-Control": "no-cache"} if fresh else None)
        await self.cache.set(key, value, TTL_S["product"])
        return value

    async def products(self, *, category: str | None = None, cursor: str | None = None,
                       limit: int = 24) -> dict:
        return await self._cached_listing("products", "/products",
                                          {"category": category, "cursor": cursor, "limit": limit})

    async def categories(self) -> dict:
        return await self._cached_listing("categories", "/categories", {})

    async def search(self, params: dict) -> dict:
        return await self._cached_listing("search", "/search", params)

    async def suggest(self, q: str) -> dict:
        return await self._cached_listing("suggest", "/search/suggest", {"q": q})

    async def recommendations(self, *, product_id: str | None = None, limit: int = 4, kind: str | None = None,
                              visitor_id: str | None = None, token: str | None = None) -> dict:
        params = {"product_id": product_id, "limit": limit, "kind": kind, "visitor_id": visitor_id}
        params = {k: v for k, v in params.items() if v is not None}
        if token:   # the customer's own (the API verifies the token there): never in a shared key
            params.pop("visitor_id", None)
            return await self._call("GET", "/me/recommendations", token=token, params=params)
        if visitor_id:   # this visitor's: never in a shared key either
            return await self._call("GET", "/recommendations", params=params)
        return await self._cached_listing("recommendations", "/recommendations", params)

    async def stores(self, params: dict) -> dict:
        """The store locator (GET /stores): ?q= or ?lat=&lon=, with radius_km and limit."""
        return await self._cached_listing("stores", "/stores", params)

    async def chat(self, text: str, *, session_id: str | None = None, token: str | None = None) -> dict:
        """One chatbot turn: the signed-in customer's own conversation (the API verifies the
        token there), or an anonymous one continued by the session id the API issued."""
        if token:
            return await self._call("POST", "/me/chat", token=token, body={"text": text})
        body = {"text": text, **({"session_id": session_id} if session_id else {})}
        return await self._call("POST", "/chat", body=body)

    # ---- the customer's own, never cached -------------------------------------------------

    async def cart(self, token: str) -> dict:
        return await self._call("GET", "/cart", token=token)

    async def add_to_cart(self, token: str, sku: str, quantity: int) -> dict:
        return await self._call("POST", "/cart/items", token=token,
                                body={"sku": sku, "quantity": quantity})

    async def update_cart_line(self, token: str, sku: str, quantity: int) -> dict:
        return await self._call("PATCH", f"/cart/items/{quote(sku, safe='')}", token=token,
                                body={"quantity": quantity})

    async def checkout(self, token: str, *, idempotency_key: str, payment_token: str,
                       shipping_address: dict | None) -> dict:
        body: dict = {"payment_token": payment_token}
        if shipping_address:
            body["shipping_address"] = shipping_address
        return await self._call("POST", "/checkout", token=token, body=body,
                                headers={IDEMPOTENCY_HEADER: idempotency_key})

    async def orders(self, token: str, cursor: str | None = None) -> dict:
        return await self._call("GET", "/orders", token=token,
                                params={"cursor": cursor} if cursor else None)

    async def order(self, token: str, order_id: str) -> dict:
        return await self._call("GET", f"/orders/{quote(order_id, safe='')}", token=token)

    async def tracking(self, token: str, order_id: str) -> dict:
        return await self._call("GET", f"/orders/{quote(order_id, safe='')}/tracking", token=token)
