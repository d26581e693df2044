"""The storefront as a backend-for-frontend, with the commerce API faked at the HTTP layer
(httpx.MockTransport) and a real redis-server (Debian's) as the cache: cache hit, miss, TTL and
invalidation on events; pages when Redis is down; sessions, CSRF, bad input; flags."""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pytest
from starlette.testclient import TestClient

from headless_commerce.runtime.cache import invalidation
from headless_commerce.runtime.storefront import api as api_module
from headless_commerce.runtime.storefront import cache
from headless_commerce.runtime.storefront.app import create_app
from headless_commerce.runtime.storefront.cache import MemoryCache, RedisCache
from headless_commerce.runtime.storefront.config import StorefrontConfig
from headless_commerce.runtime.storefront.identity import IdentityError, Tokens
from headless_commerce.runtime.storefront.sessions import MemorySessionStore
from tests.storefront.conftest import free_port, start_redis

BASE = "https://shop.example"


def product(product_id: str, available: int = 5) -> dict:
    return {"product_id": product_id, "name": f"Tee {product_id}", "brand": "Northline",
            "category_id": "tops", "price": {"amount": 1999, "currency": "USD"},
            "images": [f"/assets/products/{product_id}.svg"], "description": "A tee.",
            "available": available,
            "skus": [{"sku": f"{product_id}-1", "price": {"amount": 1999, "currency": "USD"},
                      "available": available, "attributes": {"size": "M"}}]}


class FakeApi:
    """The commerce API over HTTP: records every call, answers like the real one."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []
        self.stock = {"p-1": 5, "p-2": 7}
        self.checkout_replies: list[httpx.Response] = []
        self.cart_lines: dict[str, int] = {}

    def count(self, path: str, method: str = "GET") -> int:
        return sum(1 for r in self.calls if r.url.path == path and r.method == method)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        path = request.url.path
        match = re.fullmatch(r"/products/([^/]+)", path)
        if match:
            if match.group(1) not in self.stock:
                return httpx.Response(
                    404, json={"error": {"code": "not_found", "message": "Product not found", "field": None}}
                )
            return httpx.Response(200, json=product(match.group(1), self.stock[match.group(1)]))
        if path == "/products":
            return httpx.Response(
                200, json={"items": [product(p, s) for p, s in self.stock.items()], "next_cursor": None}
            )
        if path == "/categories":
            return httpx.Response(200, json={"items": [{"category_id": "tops", "name": "Tops", "children": []}]})
        if path in ("/recommendations", "/me/recommendations"):
            return httpx.Response(200, json={"items": [product("p-2")]})
        if path == "/search":
            return httpx.Response(200, json={"items": [product("p-1")], "total": 1, "next_cursor": None,
                                             "facets": {"brand": [{"value": "Northline", "count": 1}]}})
        if not request.headers.get("authorization"):
            return httpx.Response(
                401, json={"error": {"code": "unauthorized", "message": "Sign-in required", "field": None}}
            )
        if path == "/cart" or path == "/cart/items":
            if request.method == "POST":
                body = json.loads(request.content)
                self.cart_lines[body["sku"]] = self.cart_lines.get(body["sku"], 0) + body["quantity"]
            lines = [{"sku": s, "product_id": s.rsplit("-", 1)[0], "name": "Tee", "quantity": q,
                      "unit_price": {"amount": 1999, "currency": "USD"},
                      "line_total": {"amount": 1999 * q, "currency": "USD"}} for s, q in self.cart_lines.items()]
            return httpx.Response(
                200,
                json={
                    "lines": lines,
                    "item_count": sum(self.cart_lines.values()),
                    "subtotal": {"amount": 1999 * sum(self.cart_lines.values()), "currency": "USD"},
                    "version": 1,
                },
            )
        if path == "/checkout":
            if self.checkout_replies:
                return self.checkout_replies.pop(0)
            return httpx.Response(201, json={"order_id": "o-1", "status": "CONFIRMED", "lines": [],
                                             "total": {"amount": 1999, "currency": "USD"},
                                             "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                                             "shipping_address": None})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "Not found", "field": None}})


class FakeIdentity:
    def __init__(self) -> None:
        self.signed_in: list[str] = []

    def sign_in(self, email: str, password: str) -> Tokens:
        if password != "right-password":
            raise IdentityError("NotAuthorizedException")
        self.signed_in.append(email)
        return Tokens(f"id-token-{email}", "refresh-token", None)

    def refresh(self, refresh_token: str) -> Tokens:
        raise IdentityError("NotAuthorizedException")

    def sign_out(self, refresh_token: str | None) -> None:
        pass


class FakeFlags:
    def __init__(self, **values: bool) -> None:
        self.values = {"search": True, "recommendations": True, "chat": True, "store_locator": True, **values}

    def current(self) -> dict[str, bool]:
        return dict(self.values)


def make_client(fake: FakeApi, *, cache_backend=None, flags=None, sessions=None, identity=None,
                lifetime: int | None = None, secure: bool = True) -> TestClient:
    config = StorefrontConfig(api_url="http://api.internal", session_key="k" * 48,
                              secure_cookies=secure)
    app = create_app(config, cache=cache_backend if cache_backend is not None else MemoryCache(),
                     transport=httpx.MockTransport(fake), flags=flags or FakeFlags(),
                     sessions=sessions or MemorySessionStore(), identity=identity or FakeIdentity())
    if lifetime is not None:
        app.state.storefront.signer.lifetime_s = lifetime
    return TestClient(app, base_url=BASE if secure else "http://shop.local",
                      raise_server_exceptions=False, follow_redirects=False)


def csrf(client: TestClient, path: str = "/account/sign-in") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def sign_in(client: TestClient, email: str = "a@example.com", next: str = "/"):
    """Sign in through the form (the fake API accepts `right-password` for any e-mail)."""
    return client.post("/account/sign-in", data={"csrf_token": csrf(client), "email": email,
                                                 "password": "right-password", "next": next})


def event(detail_type: str, product_id: str) -> dict:
    detail = ({"product_id": product_id, "change": "UPSERTED", "modified_at": "2026-01-01T00:00:00Z"}
              if detail_type == "ProductModified" else
              {"sku": f"{product_id}-1", "product_id": product_id, "available": 0,
               "changed_at": "2026-01-01T00:00:00Z"})
    return {"id": str(uuid.uuid4()), "version": 1, "occurred_at": "2026-01-01T00:00:00Z",
            "source": "commerce.catalog", "detail_type": detail_type, "detail": detail}


def sqs_batch(*envelopes: dict) -> dict:
    return {"Records": [{"messageId": str(i), "receiptHandle": "r", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                         "body": json.dumps({"detail-type": e["detail_type"], "source": e["source"], "detail": e}),
                         "attributes": {}} for i, e in enumerate(envelopes)]}


# ---- cache -----------------------------------------------------------------------------------

def test_product_page_is_served_from_redis_on_the_second_view(redis_url, redis_server):
    fake = FakeApi()
    with make_client(fake, cache_backend=RedisCache(redis_url)) as client:
        first, second = client.get("/products/p-1"), client.get("/products/p-1")
    assert first.status_code == second.status_code == 200
    assert "Tee p-1" in second.text
    assert fake.count("/products/p-1") == 1           # miss, then hit
    keys = {k.decode() for k in redis_server.client().keys("sf:v1:p:*")}
    assert keys == {cache.product_key("p-1", 0)}
    ttl = redis_server.client().ttl(cache.product_key("p-1", 0))
    assert 0 < ttl <= api_module.TTL_S["product"]


def test_entries_expire_after_their_ttl(redis_url, monkeypatch):
    monkeypatch.setitem(api_module.TTL_S, "categories", 1)
    fake = FakeApi()
    with make_client(fake, cache_backend=RedisCache(redis_url)) as client:
        client.get("/categories/tops")
        client.get("/categories/tops")
        assert fake.count("/categories") == 1
        time.sleep(1.3)
        client.get("/categories/tops")
    assert fake.count("/categories") == 2


@pytest.mark.parametrize("detail_type", ["ProductModified", "InventoryChanged"])
def test_an_event_invalidates_the_product_and_listings_but_not_other_products(
        redis_url, monkeypatch, detail_type):
    monkeypatch.setenv("CACHE_URL", redis_url)
    monkeypatch.delenv("CACHE_AUTH_SECRET_ARN", raising=False)
    fake = FakeApi()
    with make_client(fake, cache_backend=RedisCache(redis_url)) as client:
        for path in ("/products/p-1", "/products/p-2", "/"):
            client.get(path)
        fake.stock["p-1"] = 0
        result = invalidation.handler(sqs_batch(event(detail_type, "p-1")), None)
        assert result == {"batchItemFailures": []}
        page = client.get("/products/p-1")
        client.get("/products/p-2")
        client.get("/")
    assert "Out of stock" in page.text                 # the change shows at once
    assert fake.count("/products/p-1") == 2            # dropped
    assert fake.count("/products/p-2") == 1            # untouched
    assert fake.count("/products") == 2                # listings dropped


def test_invalidation_takes_a_direct_eventbridge_event_and_dead_letters_bad_ones(redis_url, redis_server, monkeypatch):
    monkeypatch.setenv("CACHE_URL", redis_url)
    envelope = event("ProductModified", "p-9")
    invalidation.handler({"detail-type": "ProductModified", "source": "commerce.catalog", "detail": envelope}, None)
    assert int(redis_server.client().get(cache.product_generation_key("p-9"))) == 1
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL", raising=False)
    broken = sqs_batch(event("ProductModified", "p-9"))
    broken["Records"][0]["body"] = json.dumps({"detail-type": "ProductModified", "detail": {"id": "x"}})
    assert invalidation.handler(broken, None) == {"batchItemFailures": [{"itemIdentifier": "0"}]}
    assert int(redis_server.client().get(cache.product_generation_key("p-9"))) == 1


def test_without_cache_url_invalidation_reaches_the_in_process_cache(monkeypatch):
    monkeypatch.delenv("CACHE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    fake = FakeApi()
    with make_client(fake, cache_backend=cache.PROCESS_CACHE) as client:
        client.get("/products/p-1")
        invalidation.handler(sqs_batch(event("InventoryChanged", "p-1")), None)
        client.get("/products/p-1")
    assert fake.count("/products/p-1") == 2


def test_pages_render_when_redis_is_down():
    server = start_redis()
    fake = FakeApi()
    try:
        with make_client(fake, cache_backend=RedisCache(server.url)) as client:
            assert client.get("/products/p-1").status_code == 200
            server.stop()                                   # Valkey goes away mid-flight
            started = time.monotonic()
            pages = [client.get(p) for p in ("/products/p-1", "/", "/products/p-2", "/products/p-1")]
            elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert [p.status_code for p in pages] == [200, 200, 200, 200]
    assert "Tee p-1" in pages[0].text
    assert fake.count("/products/p-1") == 3                 # straight to the API
    assert elapsed < 3                                      # one short timeout, then bypassed


def test_a_cache_that_never_answered_still_serves_pages():
    fake = FakeApi()
    dead = RedisCache(f"redis://127.0.0.1:{free_port()}/0")
    with make_client(fake, cache_backend=dead) as client:
        assert client.get("/products/p-1").status_code == 200
        assert client.get("/").status_code == 200


def test_signed_in_responses_are_never_cached(redis_url, redis_server):
    fake = FakeApi()
    with make_client(fake, cache_backend=RedisCache(redis_url)) as client:
        token = csrf(client)
        client.post("/account/sign-in", data={"csrf_token": token, "email": "a@example.com",
                                               "password": "right-password", "next": "/"})
        before = set(redis_server.client().keys("*"))
        client.get("/cart")
        client.get("/")       # personalised recommendations
        added = {k.decode() for k in set(redis_server.client().keys("*")) - before}
    # Only the public product listing of the home page was added: no cart, no personal slot.
    assert fake.count("/cart") == 1
    # The signed-in form, whose token API Gateway verifies.
    recommendation_calls = [r for r in fake.calls if r.url.path == "/me/recommendations"]
    assert recommendation_calls[-1].headers["authorization"] == "id-token-a@example.com"
    listing = {cache.listing_key(0, "/products", {"limit": "8"}.items())}
    assert added <= listing | {cache.listing_key(0, "/products", [("limit", "8")])}
    assert all(k.startswith("sf:v1:l:") for k in added)


# ---- sessions, CSRF, bad input ---------------------------------------------------------------

def _cookie(response) -> str:
    return response.headers.get("set-cookie", "")


def test_session_cookie_is_signed_httponly_secure_samesite_and_rotated_on_sign_in():
    sessions = MemorySessionStore()
    fake = FakeApi()
    with make_client(fake, sessions=sessions) as client:
        page = client.get("/account/sign-in")
        cookie = _cookie(page)
        assert cookie.startswith("__Host-sid=")
        assert all(part in cookie.lower() for part in ("httponly", "secure", "samesite=lax", "path=/"))
        before = client.cookies.get("__Host-sid")
        old_id = before.split(".")[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        signed = client.post("/account/sign-in", data={"csrf_token": token, "email": "a@example.com",
                                                        "password": "right-password", "next": "/cart"})
        assert signed.status_code == 303 and signed.headers["location"] == "/cart"
        after = client.cookies.get("__Host-sid")
    assert after.split(".")[0] != old_id
    assert sessions.load(old_id) is None                     # the old session is gone
    assert sessions.load(after.split(".")[0])["auth"]["email"] == "a@example.com"


def test_wrong_password_stays_on_the_form_with_a_400():
    with make_client(FakeApi()) as client:
        token = csrf(client)
        reply = client.post("/account/sign-in", data={"csrf_token": token, "email": "a@example.com",
                                                       "password": "nope"})
    assert reply.status_code == 400
    assert "The email or password is not correct." in reply.text


def test_tampered_cookie_gets_a_400_page_and_is_removed():
    with make_client(FakeApi()) as client:
        client.get("/account/sign-in")
        value = client.cookies.get("__Host-sid")
        client.cookies.set("__Host-sid", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
        reply = client.get("/")
    assert reply.status_code == 400
    assert "Your session could not be read" in reply.text
    assert '<a class="skip"' in reply.text                  # the storefront's own design
    assert "__Host-sid=\"\"" in _cookie(reply) or "Max-Age=0" in _cookie(reply)


def test_expired_cookie_starts_afresh_on_a_get_and_is_refused_on_a_post():
    with make_client(FakeApi(), lifetime=1) as reader, make_client(FakeApi(), lifetime=1) as poster:
        csrf(reader)
        token = csrf(poster)
        kept = {c: c.cookies.get("__Host-sid") for c in (reader, poster)}
        time.sleep(2.1)
        for client, value in kept.items():   # as a browser that ignores Max-Age would send it
            client.cookies.clear()
            client.cookies.set("__Host-sid", value, domain="shop.example")
        page = reader.get("/")
        reply = poster.post("/account/sign-in", data={"csrf_token": token, "email": "a@example.com",
                                                       "password": "x"})
    assert page.status_code == 200 and "Max-Age=0" in _cookie(page)
    assert reply.status_code == 403
    assert "Your session has expired" in reply.text


def test_posts_without_csrf_token_are_refused():
    fake = FakeApi()
    with make_client(fake) as client:
        csrf(client)
        for path, data in (("/cart/items", {"product_id": "p-1", "sku": "p-1-1"}),
                           ("/account/sign-in", {"email": "a@example.com", "password": "right-password"}),
                           ("/cart/items", {"product_id": "p-1", "sku": "p-1-1", "csrf_token": "forged"})):
            reply = client.post(path, data=data)
            assert reply.status_code == 403, path
            assert "This form has expired" in reply.text
    assert fake.count("/products/p-1") == 0


@pytest.mark.parametrize("path,expected", [
    ("/no/such/page", 404), ("/products/p-404", 404), ("/products/%2e%2e", 404),
    ("/products/" + "x" * 300, 404), ("/categories/nope", 404), ("/account/orders/o-1", 303),
])
def test_unknown_pages_get_the_storefronts_own_404(path, expected):
    with make_client(FakeApi()) as client:
        reply = client.get(path)
    assert reply.status_code == expected
    if expected == 404:
        assert "We could not find that" in reply.text and "Traceback" not in reply.text


def test_oversized_and_wrongly_typed_forms_are_refused():
    with make_client(FakeApi()) as client:
        token = csrf(client)
        big = client.post("/account/sign-in", data={"csrf_token": token, "email": "x" * 20_000})
        json_body = client.post("/account/sign-in", json={"csrf_token": token})
        bad_quantity = client.post("/cart/items", data={"csrf_token": token, "product_id": "p-1",
                                                        "sku": "p-1-1", "quantity": "1000"})
        bad_sku = client.post("/cart/items", data={"csrf_token": token, "product_id": "p-1",
                                                   "sku": "p-1-9", "quantity": "1"})
    assert big.status_code == 413 and "That form is too large" in big.text
    assert json_body.status_code == 415
    assert bad_quantity.status_code == 400
    assert bad_sku.status_code == 404


def test_pages_carry_security_headers_and_are_never_shared_cacheable():
    with make_client(FakeApi()) as client:
        reply = client.get("/")
    assert reply.headers["cache-control"] == "private, no-store"
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
    assert reply.headers["strict-transport-security"].startswith("max-age=")


def test_sign_in_redirect_only_goes_to_local_paths():
    with make_client(FakeApi()) as client:
        token = csrf(client)
        reply = client.post("/account/sign-in", data={"csrf_token": token, "email": "a@example.com",
                                                       "password": "right-password",
                                                       "next": "//evil.example/"})
    assert reply.status_code == 303 and reply.headers["location"] == "/"


# ---- checkout --------------------------------------------------------------------------------

def _signed_in_with_cart(client: TestClient) -> None:
    token = csrf(client, "/products/p-1")
    client.post("/cart/items", data={"csrf_token": token, "product_id": "p-1", "sku": "p-1-1", "quantity": "1"})
    token = csrf(client)
    client.post("/account/sign-in", data={"csrf_token": token, "email": "a@example.com",
                                           "password": "right-password", "next": "/checkout"})


def _place(client: TestClient, token: str = "tok_visa"):
    page = client.get("/checkout").text
    form = dict(re.findall(r'name="(csrf_token|attempt)" value="([^"]+)"', page))
    return form, client.post("/checkout", data={**form, "payment_token": token, "name": "A", "line1": "1 St",
                                                "city": "X", "postal_code": "12345", "country": "us"})


def test_checkout_reuses_its_idempotency_key_on_retry_and_makes_a_new_one_after_a_decline():
    fake = FakeApi()
    fake.checkout_replies = [
        httpx.Response(503, json={"error": {"code": "payment_unavailable", "message": "retry", "field": None}}),
        httpx.Response(
            402, json={"error": {"code": "payment_declined", "message": "declined", "field": "payment_token"}}
        ),
    ]
    with make_client(fake) as client:
        _signed_in_with_cart(client)
        assert fake.cart_lines == {"p-1-1": 1}                 # the guest line was merged
        first_form, first = _place(client)                      # 503: not definite
        second_form, second = _place(client)                    # the retry: declined
        third_form, third = _place(client)                      # a new attempt: placed
        replay = client.post("/checkout", data={**third_form, "payment_token": "tok_visa", "name": "A",
                                                "line1": "1 St", "city": "X", "postal_code": "12345",
                                                "country": "US"})
    keys = [r.headers["idempotency-key"] for r in fake.calls if r.url.path == "/checkout"]
    assert first.headers["location"] == second.headers["location"] == "/checkout"
    assert keys[0] == keys[1] == first_form["attempt"] == second_form["attempt"]   # a retry
    assert keys[2] == third_form["attempt"] != keys[1]     # a decline ends the attempt
    assert third.headers["location"] == "/account/orders/o-1"
    # Replaying a finished attempt (a double click's second request) shows the same order
    # without calling checkout again.
    assert replay.status_code == 303 and replay.headers["location"] == "/account/orders/o-1"
    assert len(keys) == 3
    body = json.loads([r for r in fake.calls if r.url.path == "/checkout"][-1].content)
    assert body["shipping_address"]["country"] == "US"


def test_checkout_needs_a_signed_in_customer():
    with make_client(FakeApi()) as client:
        reply = client.get("/checkout")
    assert reply.status_code == 303 and reply.headers["location"].startswith("/account/sign-in")


# ---- flags -----------------------------------------------------------------------------------

def test_a_flag_turns_search_and_recommendations_off():
    fake = FakeApi()
    flags = FakeFlags(search=False, recommendations=False, chat=False)
    with make_client(fake, flags=flags) as client:
        home = client.get("/")
        search = client.get("/search?q=tee")
        flags.values.update(search=True, recommendations=True, chat=True)
        home_on = client.get("/")
    assert 'role="search"' not in home.text and 'data-slot="recommendations"' not in home.text
    assert 'id="chat"' not in home.text
    assert search.status_code == 404 and fake.count("/search") == 0
    assert 'role="search"' in home_on.text and 'data-slot="recommendations"' in home_on.text
    assert 'id="chat"' in home_on.text


@pytest.fixture
def aws(monkeypatch):
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def test_flags_come_from_dynamodb_with_a_short_cache(aws):
    import boto3

    from headless_commerce import model
    from headless_commerce.runtime.storefront.flags import Flags

    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(TableName="flags", **model.flags_table_kwargs())
    dynamodb.put_item(TableName="flags", Item={"flag": {"S": "search"}, "enabled": {"BOOL": False}})
    flags = Flags("flags", refresh_s=60)
    assert flags.current()["search"] is False
    assert flags.current()["recommendations"] is True            # missing: the default
    dynamodb.put_item(TableName="flags", Item={"flag": {"S": "search"}, "enabled": {"BOOL": True}})
    assert flags.current()["search"] is False                    # within the cache period
    flags._read_at -= 61
    assert flags.current()["search"] is True                     # re-read, no deploy
    dynamodb.delete_table(TableName="flags")
    flags._read_at -= 61
    assert flags.current()["search"] is True                     # table gone: last values kept


def test_sessions_live_in_dynamodb_with_a_ttl(aws):
    import boto3

    from headless_commerce import model
    from headless_commerce.runtime.storefront.sessions import DynamoSessionStore

    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(TableName="sessions", **model.session_table_kwargs())
    store = DynamoSessionStore("sessions")
    store.save("abc", {"cart_count": 2}, int(time.time()) + 60)
    assert store.load("abc") == {"cart_count": 2}
    item = dynamodb.get_item(TableName="sessions", Key={"session_id": {"S": "abc"}})["Item"]
    assert int(item["expires_at"]["N"]) > time.time()
    store.save("old", {"x": 1}, int(time.time()) - 1)            # expired, not yet reaped
    assert store.load("old") is None
    store.delete("abc")
    assert store.load("abc") is None


# ---- shared templates and configuration (EFS) --------------------------------------------------

def test_shared_templates_and_config_override_the_packaged_ones(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "storefront.json").write_text(json.dumps({"store_name": "Shared Shop"}))
    (tmp_path / "templates" / "home.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>Shared home</h1>{% endblock %}')
    config = StorefrontConfig(api_url="http://api.internal", shared_dir=tmp_path)
    app = create_app(config, cache=MemoryCache(), transport=httpx.MockTransport(FakeApi()),
                     flags=FakeFlags(), sessions=MemorySessionStore(), identity=FakeIdentity())
    with TestClient(app, base_url=BASE) as client:
        home, product_page = client.get("/"), client.get("/products/p-1")
    assert "<h1>Shared home</h1>" in home.text                  # the EFS template wins
    assert "Shared Shop" in product_page.text                   # packaged template, EFS config
    assert "Tee p-1" in product_page.text


def test_without_the_mount_the_packaged_templates_and_config_are_used(tmp_path):
    config = StorefrontConfig(api_url="http://api.internal", shared_dir=tmp_path / "not-mounted")
    assert config.template_dirs()[-1].name == "templates" and len(config.template_dirs()) == 1
    assert config.site()["store_name"] == "Headless Commerce"


def test_local_mode_banner_names_the_cache_without_its_password():
    from headless_commerce.local.storefront import describe_cache

    assert describe_cache(None).startswith("in-process")
    said = describe_cache("rediss://default:s3cret@cache.example:6380/0")
    assert said == "Valkey/Redis at rediss://cache.example:6380/0" and "s3cret" not in said


# ---- tokens ----------------------------------------------------------------------------------

class RefreshingIdentity(FakeIdentity):
    def __init__(self) -> None:
        super().__init__()
        self.revoked: list[str | None] = []

    def refresh(self, refresh_token: str) -> Tokens:
        return Tokens("fresh-id-token", refresh_token, None)

    def sign_out(self, refresh_token: str | None) -> None:
        self.revoked.append(refresh_token)


def test_an_expired_id_token_is_refreshed_once_and_the_call_retried():
    fake = FakeApi()
    original = fake.__call__

    def expiring(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization", "").startswith("id-token-"):
            fake.calls.append(request)
            return httpx.Response(401, json={"error": {"code": "unauthorized", "message": "expired", "field": None}})
        return original(request)

    identity = RefreshingIdentity()
    with make_client(expiring, identity=identity) as client:
        token = csrf(client)
        client.post("/account/sign-in", data={"csrf_token": token, "email": "a@example.com",
                                               "password": "right-password"})
        first, second = client.get("/cart"), client.get("/cart")
    assert first.status_code == second.status_code == 200
    carts = [r.headers["authorization"] for r in fake.calls if r.url.path == "/cart"]
    # The stale token once, then the refreshed one, which the session keeps.
    assert carts == ["id-token-a@example.com", "fresh-id-token", "fresh-id-token"]


def test_sign_out_revokes_the_refresh_token_and_ends_the_session():
    identity = RefreshingIdentity()
    sessions = MemorySessionStore()
    with make_client(FakeApi(), identity=identity, sessions=sessions) as client:
        token = csrf(client)
        client.post("/account/sign-in", data={"csrf_token": token, "email": "a@example.com",
                                               "password": "right-password"})
        signed_in = client.cookies.get("__Host-sid").split(".")[0]
        page = client.get("/").text
        out = client.post("/account/sign-out", data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)})
        after = client.get("/account/orders")
    assert out.status_code == 303
    assert identity.revoked == ["refresh-token"]
    assert sessions.load(signed_in) is None
    assert after.status_code == 303 and after.headers["location"].startswith("/account/sign-in")
