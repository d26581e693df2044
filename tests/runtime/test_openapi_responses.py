"""The OpenAPI document is a contract: real handler responses, success and error, match the
schema documented for their status, and every status a handler answered with is documented."""

from __future__ import annotations

import json
from collections import defaultdict

from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_openapi

from headless_commerce.runtime import routes
from headless_commerce.runtime.chatbot import provider as chat_provider
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.domain_errors import ChatUnavailable
from headless_commerce.runtime.location import provider as location_provider
from headless_commerce.runtime.location import stores_repository as location_stores
from headless_commerce.runtime.location.local_provider import LocalLocation
from headless_commerce.runtime.marketing import tokens
from headless_commerce.runtime.openapi import openapi_document
from headless_commerce.runtime.payments import provider as payment_provider
from headless_commerce.runtime.payments import signature
from headless_commerce.runtime.payments.sandbox import SandboxProvider
from headless_commerce.runtime.search import provider as search_provider
from headless_commerce.runtime.search.opensearch_provider import OpenSearchProvider
from tests.runtime import test_location_stores as location_tests
from tests.runtime.conftest import WEBHOOK_SECRET, Reply, add, call, checkout
from tests.runtime.search_helpers import TimingOutClient, catalog_documents, loaded_provider

DOCUMENT = openapi_document()
ADDRESS = {"name": "Ada", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}


def test_document_is_valid_openapi_with_a_real_schema_for_every_response():
    validate_openapi(DOCUMENT)
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                schema = response["content"]["application/json"]["schema"]
                assert schema != {"type": "object"}, (method, path, status)
                assert status != "default", (method, path)
            assert "400" in operation["responses"], (method, path)


def test_parameters_carry_their_constraints():
    operations = {op["operationId"]: op for path in DOCUMENT["paths"].values() for op in path.values()}
    params = {p["name"]: p["schema"] for p in operations["listProducts"]["parameters"]}
    assert params["limit"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert params["category"]["pattern"] == f"^{routes.PATH_PARAM_PATTERN}$"
    assert params["cursor"]["maxLength"] == 2048 and params["cursor"]["pattern"]
    header = next(p for p in operations["checkout"]["parameters"] if p["in"] == "header")
    assert header["schema"]["pattern"] == routes.IDEMPOTENCY_KEY_PATTERN and header["required"]
    assert set(operations["checkout"]["responses"]) >= {"201", "400", "401", "402", "409", "413",
                                                        "422", "503"}


def _validator(status_schema: dict) -> OAS30Validator:
    return OAS30Validator({**status_schema, "components": DOCUMENT["components"]})


class Recorder:
    """Calls routes and keeps (operationId, status, body) of every reply."""

    def __init__(self) -> None:
        self.seen: dict[str, list[tuple[int, object]]] = defaultdict(list)
        self._by_key = {(r.method, r.path): r for r in routes.ROUTES}

    def __call__(self, method: str, path: str, **kwargs) -> Reply:
        return self.record(method, path, call(method, path, **kwargs))

    def record(self, method: str, path: str, reply: Reply) -> Reply:
        self.seen[self._by_key[(method, path)].operation_id].append((reply.status, reply.body))
        return reply


class FailingProvider(SandboxProvider):
    def authorize(self, **kwargs):
        raise ConnectionError("provider down")


class UnavailableBot:
    def recognize_text(self, **turn) -> list[str]:
        raise ChatUnavailable()


def _signed(event: dict) -> dict:
    raw = json.dumps(event)
    return {"raw_body": raw,
            "headers": {"Sandbox-Signature": signature.sign(raw.encode(), WEBHOOK_SECRET)}}


def test_real_responses_match_the_documented_schemas(catalog, sandbox, marketing, monkeypatch):
    rec = Recorder()
    alice, bob = "alice", "bob"
    # Catalog
    page = rec("GET", "/products", query={"limit": "2"})
    rec("GET", "/products", query={"limit": "2", "cursor": page.body["next_cursor"]})
    rec("GET", "/products", query={"category": "kitchen"})
    rec("GET", "/products", query={"limit": "²"})
    rec("GET", "/products/{product_id}", path_params={"product_id": "p-tee"})
    rec("GET", "/products/{product_id}", path_params={"product_id": "ghost"})
    rec("GET", "/categories")
    rec("GET", "/categories", raw_body='{"x": 1}')
    # Cart
    rec("GET", "/cart", sub=alice)
    rec("GET", "/cart")
    rec.record("POST", "/cart/items", add(alice, "tee-s", 2))
    rec("POST", "/cart/items", sub=alice, body={"sku": "tee-s"})
    rec("POST", "/cart/items", sub=alice, raw_body=json.dumps({"sku": "x" * 20000, "quantity": 1}))
    rec("GET", "/cart", sub=alice)
    rec("PATCH", "/cart/items/{sku}", sub=alice, path_params={"sku": "tee-s"}, body={"quantity": 3})
    rec("PATCH", "/cart/items/{sku}", sub=alice, path_params={"sku": "mug-1"}, body={"quantity": 3})
    rec("DELETE", "/cart/items/{sku}", sub=alice, path_params={"sku": "tee-s"})
    rec("DELETE", "/cart/items/{sku}", sub=alice, path_params={"sku": "tee-s"})
    # Checkout: empty cart, placed, replay with another body, declined, out of stock, provider down
    rec.record("POST", "/checkout", checkout(alice, "empty-cart-0001"))
    add(alice, "mug-1", 2)
    placed = rec.record("POST", "/checkout", checkout(alice, "placed-key-0001", shipping_address=ADDRESS))
    assert placed.status == 201, placed.body
    rec.record("POST", "/checkout", checkout(alice, "placed-key-0001", token="tok_mastercard"))
    second_tab = rec.record("POST", "/checkout", checkout(alice, "second-tab-0001"))
    assert second_tab.body["error"]["code"] == "cart_already_checked_out", second_tab.body
    assert second_tab.body["order_id"] == placed.body["order_id"]
    add(alice, "pan-1")
    rec.record("POST", "/checkout", checkout(alice, "declined-key-01", token="tok_chargeDeclined"))
    add(bob, "cap-1")
    rec.record("POST", "/checkout", checkout(bob, "no-stock-key-01"))
    rec("POST", "/checkout", sub=bob, body={"payment_token": "tok_visa"})
    rec("POST", "/checkout", body={"payment_token": "tok_visa"}, headers={"Idempotency-Key": "anon-key-0001"})
    rec("DELETE", "/cart/items/{sku}", sub=bob, path_params={"sku": "cap-1"})
    add(bob, "mug-1")
    payment_provider.set_provider(FailingProvider(webhook_secret=WEBHOOK_SECRET))
    pending = rec.record("POST", "/checkout", checkout(bob, "provider-down-01"))
    assert pending.status == 503, pending.body
    payment_provider.set_provider(sandbox)
    # Orders
    orders = rec("GET", "/orders", sub=alice, query={"limit": "1"})
    rec("GET", "/orders", sub=alice, query={"cursor": orders.body["next_cursor"]})
    rec("GET", "/orders/{order_id}", sub=alice, path_params={"order_id": placed.body["order_id"]})
    rec("GET", "/orders/{order_id}", sub=bob, path_params={"order_id": placed.body["order_id"]})
    rec("GET", "/orders", sub=alice, query={"cursor": "bm9wZQ"})
    # Profile
    rec("GET", "/me", sub=alice)
    rec("PATCH", "/me", sub=alice, body={"given_name": "Ada", "default_address": ADDRESS})
    rec("PATCH", "/me", sub=alice, body={"locale": "english"})
    rec("PUT", "/me/consents", sub=alice, body={"email": True, "sms": False, "push": False})
    rec("PUT", "/me/consents", sub=alice, body={"email": "yes", "sms": False, "push": False})
    rec("GET", "/me")
    # Push device: not configured, registered, refused token shape, forgotten
    monkeypatch.delenv("PUSH_PLATFORM_APPLICATIONS", raising=False)
    rec("PUT", "/me/push-device", sub=alice, body={"platform": "APNS", "token": "ab" * 32})
    application = aws.sns().create_platform_application(
        Name="shop-apns", Platform="APNS", Attributes={"PlatformCredential": "test"})["PlatformApplicationArn"]
    monkeypatch.setenv("PUSH_PLATFORM_APPLICATIONS", json.dumps({"APNS": application}))
    rec("PUT", "/me/push-device", sub=alice, body={"platform": "APNS", "token": "ab" * 32})
    rec("PUT", "/me/push-device", sub=alice, body={"platform": "APNS", "token": "x"})
    rec("DELETE", "/me/push-device", sub=alice)
    rec("DELETE", "/me/push-device")
    # Webhook: bad signature, unknown order, settling the pending order
    rec("POST", "/payments/webhook", raw_body="{}", headers={"Sandbox-Signature": "t=1,v1=00"})
    rec("POST", "/payments/webhook", **_signed({"id": "e1", "type": "payment.authorized",
                                                "data": {"order_id": "nope"}}))
    [bob_order] = call("GET", "/orders", sub=bob).body["items"]
    sandbox.authorize(order_id=bob_order["order_id"], amount=1250, currency="USD", token="tok_visa")
    settled = rec("POST", "/payments/webhook", **_signed({
        "id": "e2", "type": "payment.authorized",
        "data": {"order_id": bob_order["order_id"], "authorization_id": f"sbx_auth_{bob_order['order_id']}"}}))
    assert settled.body["applied"] is True
    # Unsubscribe links: status, one click, forged tokens, a customer that does not exist
    link, nobody = {"token": tokens.issue(alice, "email")}, {"token": tokens.issue("nobody", "email")}
    rec("GET", "/unsubscribe", query=link)
    rec("POST", "/unsubscribe", query=link, raw_body="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    rec("GET", "/unsubscribe", query={"token": "v1.YWxpY2U.email.forged"})
    rec("POST", "/unsubscribe", query={"token": "garbage"})
    rec("GET", "/unsubscribe", query=nobody)
    rec("POST", "/unsubscribe", query=nobody)
    # Search: results with facets, type-ahead, a bad parameter, the engine down
    search_provider.set_provider(loaded_provider(catalog_documents()))
    try:
        rec("GET", "/search", query={"q": "sneekers", "limit": "3"})
        rec("GET", "/search", query={"q": "tee", "limit": "²"})
        rec("GET", "/search/suggest", query={"q": "sonique hea"})
        rec("GET", "/search/suggest", query={"q": " "})
        search_provider.set_provider(OpenSearchProvider(TimingOutClient()))
        rec("GET", "/search", query={"q": "tee"})
        rec("GET", "/search/suggest", query={"q": "tee"})
    finally:
        search_provider.set_provider(None)
    # Recommendations (fallback ranking: no recommender configured), an unknown product, bad input
    rec("GET", "/recommendations", query={"product_id": "p-mug", "limit": "2"})
    rec("GET", "/recommendations")
    rec("GET", "/recommendations", query={"product_id": "p-nope"})
    rec("GET", "/recommendations", query={"limit": "99"})
    rec("GET", "/me/recommendations", sub=alice, query={"kind": "for_you", "limit": "3"})
    rec("GET", "/me/recommendations", query={"limit": "3"})
    # Chat (local mode's bot): a reply, a signed-in reply, bad text, the bot down
    rec("POST", "/chat", body={"text": "hello"})
    rec("POST", "/chat", body={"text": " "})
    rec("POST", "/me/chat", sub=alice, body={"text": f"where is my order {placed.body['order_id']}"})
    rec("POST", "/me/chat", body={"text": "hello"})
    chat_provider.set_provider(UnavailableBot())
    try:
        rec("POST", "/chat", body={"text": "hello"})
        rec("POST", "/me/chat", sub=alice, body={"text": "hello"})
    finally:
        chat_provider.set_provider(None)
    # Store locator: by coordinates, by address, an unknown address, bad input, geocoding down
    location_tests.create_location_table()
    location_stores.put_many(location_tests.STORES)
    location_provider.set_provider(LocalLocation(location_tests.GAZETTEER))
    try:
        rec("GET", "/stores", query={"lat": "52.52", "lon": "13.405", "radius_km": "50"})
        rec("GET", "/stores", query={"q": "Berlin", "limit": "2"})
        rec("GET", "/stores", query={"q": "Atlantis"})
        rec("GET", "/stores", query={"lat": "91", "lon": "0"})
        # Tracking: the owner (no courier yet) and another customer (404)
        tracked = {"order_id": placed.body["order_id"]}
        rec("GET", "/orders/{order_id}/tracking", sub=alice, path_params=tracked)
        rec("GET", "/orders/{order_id}/tracking", sub=bob, path_params=tracked)
        location_provider.set_provider(location_tests.Down())
        rec("GET", "/stores", query={"q": "Berlin"})
    finally:
        location_provider.set_provider(None)

    checked = 0
    for route in routes.ROUTES:
        operation = DOCUMENT["paths"][route.path][route.method.lower()]
        seen = rec.seen[route.operation_id]
        statuses = {status for status, _ in seen}
        assert route.success_status in statuses, (route.operation_id, statuses)
        assert any(s >= 400 for s in statuses), route.operation_id
        for status, body in seen:
            documented = operation["responses"].get(str(status))
            assert documented, f"{route.operation_id} answered an undocumented {status}: {body}"
            schema = documented["content"]["application/json"]["schema"]
            errors = sorted(_validator(schema).iter_errors(body), key=str)
            assert not errors, (route.operation_id, status, body, [e.message for e in errors])
            checked += 1
    assert checked >= 40
