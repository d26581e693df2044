"""The API's response cache against a real redis-server: hit, miss, TTL, keys, invalidation on
events, outage bypass, and never a signed-in caller's answer in a shared key."""

from __future__ import annotations

import time

import pytest

from headless_commerce.runtime import routes
from headless_commerce.runtime.cache import invalidation
from headless_commerce.runtime.catalog import repository as catalog_repository
from tests.runtime.conftest import call, example_event, sqs_event
from tests.runtime.test_recommendations import signals_table  # noqa: F401 - a fixture
from tests.storefront.conftest import free_port, redis_server, start_redis  # noqa: F401 - a fixture


@pytest.fixture
def cached(redis_server, catalog, monkeypatch):
    """The catalog handlers with CACHE_URL pointing at an empty redis-server."""
    redis_server.client().flushall()
    monkeypatch.setenv("CACHE_URL", redis_server.url)
    monkeypatch.delenv("CACHE_AUTH_SECRET_ARN", raising=False)
    return redis_server.client()


def _stock(reply) -> int:
    return sum(s["available"] for s in reply.body["skus"])


def _invalidate(detail_type: str, product_id: str) -> None:
    envelope = example_event(detail_type, {"product_id": product_id})
    assert invalidation.handler(sqs_event(envelope), None) == {"batchItemFailures": []}


def test_second_anonymous_read_is_a_hit_that_reads_no_table(cached, ddb_calls):
    first = call("GET", "/products/{product_id}", path_params={"product_id": "p-mug"})
    ddb_calls.reset()
    second = call("GET", "/products/{product_id}", path_params={"product_id": "p-mug"})
    assert (first.status, second.status) == (200, 200)
    assert first.headers["X-Cache"] == "MISS" and second.headers["X-Cache"] == "HIT"
    assert second.body == first.body and ddb_calls.calls == []
    # CORS is per caller: added to every answer, hit or miss.
    assert second.headers["Access-Control-Allow-Origin"] == "https://shop.example"


def test_keys_cover_every_declared_parameter_and_ignore_the_rest(cached):
    assert call("GET", "/products", query={"limit": "1"}).headers["X-Cache"] == "MISS"
    assert call("GET", "/products", query={"limit": "2"}).headers["X-Cache"] == "MISS"
    assert call("GET", "/products", query={"limit": "1", "category": "kitchen"}).headers["X-Cache"] == "MISS"
    other = call("GET", "/products/{product_id}", path_params={"product_id": "p-tee"})
    assert other.headers["X-Cache"] == "MISS" and other.body["product_id"] == "p-tee"
    # A parameter the route does not declare changes nothing the handler reads: same entry.
    again = call("GET", "/products", query={"limit": "2", "utm_source": "mail"})
    assert again.headers["X-Cache"] == "HIT" and len(again.body["items"]) == 2


def test_entries_live_for_the_routes_ttl(cached):
    call("GET", "/categories")
    call("GET", "/products/{product_id}", path_params={"product_id": "p-mug"})
    ttls = {key.decode().split(":")[2]: cached.ttl(key) for key in cached.scan_iter("api:v1:*")}
    by_path = {r.operation_id: r.cache_ttl_s for r in routes.ROUTES}
    assert 0 < ttls["l"] <= by_path["listCategories"] and 0 < ttls["p"] <= by_path["getProduct"]


@pytest.mark.parametrize("detail_type", ["ProductModified", "InventoryChanged"])
def test_an_event_invalidates_the_product_and_listings_but_not_other_products(cached, detail_type):
    def mug():
        return call("GET", "/products/{product_id}", path_params={"product_id": "p-mug"})

    def tee():
        return call("GET", "/products/{product_id}", path_params={"product_id": "p-tee"})

    before = mug()
    tee()
    call("GET", "/products")
    catalog_repository.put_product(
        {"product_id": "p-mug", "name": "Coffee Mug", "category_id": "kitchen", "price_amount": 1250,
         "description": "A coffee mug", "images": []}, [{"sku": "mug-1", "stock": 2, "attributes": {}}])
    assert mug().headers["X-Cache"] == "HIT"          # until the event arrives, the entry stands
    _invalidate(detail_type, "p-mug")
    after = mug()
    assert after.headers["X-Cache"] == "MISS" and (_stock(before), _stock(after)) == (10, 2)
    assert tee().headers["X-Cache"] == "HIT"
    assert call("GET", "/products").headers["X-Cache"] == "MISS"


def test_no_cache_reads_the_table_and_refreshes_the_entry(cached):
    def mug(**headers):
        return call("GET", "/products/{product_id}", path_params={"product_id": "p-mug"}, headers=headers)

    mug()
    catalog_repository.put_product(
        {"product_id": "p-mug", "name": "Coffee Mug", "category_id": "kitchen", "price_amount": 1250,
         "description": "A coffee mug", "images": []}, [{"sku": "mug-1", "stock": 4, "attributes": {}}])
    assert _stock(mug()) == 10                                  # cached
    fresh = mug(**{"Cache-Control": "no-cache"})
    assert fresh.headers["X-Cache"] == "MISS" and _stock(fresh) == 4
    assert _stock(mug()) == 4 and mug().headers["X-Cache"] == "HIT"


def test_nothing_signed_in_or_failed_is_stored(cached):
    signed = call("GET", "/products", headers={"Authorization": "Bearer abc"})
    assert signed.status == 200 and "X-Cache" not in signed.headers
    missing = call("GET", "/products/{product_id}", path_params={"product_id": "p-none"})
    assert missing.status == 404 and "X-Cache" not in missing.headers
    bad = call("GET", "/products", query={"limit": "x"})
    assert bad.status == 400
    assert list(cached.scan_iter("api:*")) == []
    # Signed-in routes never read or write the cache.
    assert call("GET", "/cart", sub="alice").status == 200
    assert list(cached.scan_iter("api:*")) == []


def test_only_public_routes_may_declare_a_ttl():
    assert {r.auth for r in routes.ROUTES if r.cache_ttl_s} == {"public"}
    with pytest.raises(ValueError, match="only public routes"):
        routes.Route("GET", "/cart", "user", "cart", "getCart", "x", cache_ttl_s=30)


def test_a_cache_outage_slows_nothing_down_and_fails_nothing(catalog, monkeypatch):
    monkeypatch.setenv("CACHE_URL", f"redis://127.0.0.1:{free_port()}/0")   # nothing listens
    monkeypatch.delenv("CACHE_AUTH_SECRET_ARN", raising=False)
    started = time.monotonic()
    replies = [call("GET", "/products/{product_id}", path_params={"product_id": "p-mug"}) for _ in range(20)]
    assert {r.status for r in replies} == {200} and all("X-Cache" not in r.headers for r in replies)
    # One failed connect opens the backoff window; the other 19 skip the cache entirely.
    assert time.monotonic() - started < 10


def test_a_cache_that_dies_mid_run_is_bypassed(catalog, monkeypatch):
    server = start_redis()
    try:
        monkeypatch.setenv("CACHE_URL", server.url)
        monkeypatch.delenv("CACHE_AUTH_SECRET_ARN", raising=False)
        assert call("GET", "/categories").headers["X-Cache"] == "MISS"
        assert call("GET", "/categories").headers["X-Cache"] == "HIT"
    finally:
        server.stop()
    reply = call("GET", "/categories")
    assert reply.status == 200 and reply.body["items"] and "X-Cache" not in reply.headers


def test_anonymous_recommendations_are_cached_per_query_and_dropped_when_the_catalog_changes(cached, signals_table):
    def recommend(**query):
        return call("GET", "/recommendations", query={"limit": "3", **query})

    first = recommend()
    assert first.status == 200 and first.headers["X-Cache"] == "MISS"
    assert recommend().headers["X-Cache"] == "HIT" and recommend().body == first.body
    # Each visitor and product has its own entry: one shopper's slot never answers another's.
    assert recommend(visitor_id="v-" + "a" * 30).headers["X-Cache"] == "MISS"
    assert recommend(product_id="p-mug").headers["X-Cache"] == "MISS"
    ttl = max(cached.ttl(key) for key in cached.scan_iter("api:v1:l:*"))
    assert 0 < ttl <= routes.ROUTES[[r.operation_id for r in routes.ROUTES].index("getRecommendations")].cache_ttl_s
    # A product changed: every cached slot misses (it may list that product).
    _invalidate("ProductModified", "p-pan")
    assert recommend().headers["X-Cache"] == "MISS"


def test_signed_in_recommendations_never_touch_the_cache(cached, signals_table):
    # The public route with a token (never trusted there) and the signed-in route.
    public = call("GET", "/recommendations", headers={"Authorization": "Bearer eyJ.x.y"})
    assert public.status == 200 and "X-Cache" not in public.headers
    mine = call("GET", "/me/recommendations", sub="alice")
    assert mine.status == 200 and "X-Cache" not in mine.headers
    assert list(cached.scan_iter("api:*")) == []
