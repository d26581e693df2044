"""The recommendations slot on the home, product and cart pages (API faked over HTTP), and the
shopper interaction events the storefront publishes after the page is sent."""

from __future__ import annotations

import json
import re

import httpx
from starlette.testclient import TestClient

from headless_commerce.runtime.storefront.app import create_app
from headless_commerce.runtime.storefront.cache import MemoryCache
from headless_commerce.runtime.storefront.config import StorefrontConfig
from headless_commerce.runtime.storefront.interactions import Interactions
from headless_commerce.runtime.storefront.sessions import MemorySessionStore
from tests.storefront.test_bff import BASE, FakeApi, FakeFlags, FakeIdentity, csrf, product


class RecommendingApi(FakeApi):
    """Answers /recommendations like the real route: three products, never the one asked about."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/recommendations":
            self.calls.append(request)
            about = request.url.params.get("product_id")
            items = [product(p) for p in ("p-1", "p-2", "p-3") if p != about]
            return httpx.Response(200, json={"items": items, "source": "fallback",
                                             "kind": request.url.params.get("kind", "for_you")})
        return super().__call__(request)

    def recommendation_params(self) -> list[dict]:
        return [dict(r.url.params) for r in self.calls if r.url.path == "/recommendations"]


class Events:
    """EventBridge PutEvents, recorded."""

    def __init__(self) -> None:
        self.entries: list[dict] = []

    def put_events(self, Entries):
        self.entries += Entries
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]}

    def details(self) -> list[dict]:
        return [json.loads(e["Detail"]) for e in self.entries]


def client_for(fake: FakeApi, events: Events, flags: FakeFlags | None = None) -> TestClient:
    app = create_app(StorefrontConfig(api_url="http://api.internal", session_key="k" * 48),
                     cache=MemoryCache(), transport=httpx.MockTransport(fake), flags=flags or FakeFlags(),
                     sessions=MemorySessionStore(), identity=FakeIdentity(),
                     interactions=Interactions("commerce-bus", client=events))
    return TestClient(app, base_url=BASE, raise_server_exceptions=False, follow_redirects=False)


def slot(html: str) -> list[str]:
    section = re.search(r'<section[^>]*data-slot="recommendations".*?</section>', html, re.S)
    return re.findall(r'href="/products/([^"?]+)', section.group(0)) if section else []


def test_product_page_shows_also_viewed_and_publishes_the_view_after_the_page():
    fake, events = RecommendingApi(), Events()
    with client_for(fake, events) as client:
        page = client.get("/products/p-1")
    assert page.status_code == 200
    assert "p-1" not in slot(page.text) and set(slot(page.text)) == {"p-2", "p-3"}
    assert fake.recommendation_params()[-1] == {"product_id": "p-1", "limit": "4"}   # shared, cacheable
    (view,) = events.details()
    assert view["detail_type"] == "ProductViewed" and view["source"] == "commerce.storefront"
    assert view["detail"]["product_id"] == "p-1" and len(view["detail"]["visitor_id"]) == 32
    assert "customer_id" not in view["detail"]
    assert events.entries[0]["EventBusName"] == "commerce-bus"


def test_the_visitor_id_is_stable_opaque_and_personalises_home():
    fake, events = RecommendingApi(), Events()
    with client_for(fake, events) as client:
        first = client.get("/").text
        assert slot(first) and "visitor_id" not in fake.recommendation_params()[-1]   # no session yet
        client.get("/products/p-1")
        client.get("/products/p-2")
        home = client.get("/")
    visitors = {d["detail"]["visitor_id"] for d in events.details()}
    assert len(visitors) == 1
    (visitor,) = visitors
    assert visitor not in client.cookies.get("__Host-sid", "")        # not derived from the cookie
    assert fake.recommendation_params()[-1] == {"limit": "4", "visitor_id": visitor}
    assert slot(home.text)


def test_cart_page_shows_bought_together_without_what_is_in_the_cart_and_publishes_the_add():
    fake, events = RecommendingApi(), Events()
    with client_for(fake, events) as client:
        token = csrf(client, "/products/p-1")
        added = client.post("/cart/items", data={"csrf_token": token, "product_id": "p-1", "sku": "p-1-1",
                                                 "quantity": "2"})
        assert added.status_code == 303
        cart = client.get("/cart")
    assert "Frequently bought together" in cart.text
    assert set(slot(cart.text)) == {"p-2", "p-3"}
    assert fake.recommendation_params()[-1] == {"product_id": "p-1", "limit": "4", "kind": "bought_together"}
    added_event = [d for d in events.details() if d["detail_type"] == "CartItemAdded"]
    assert [e["detail"]["sku"] for e in added_event] == ["p-1-1"] and added_event[0]["detail"]["quantity"] == 2


def test_an_empty_cart_gets_the_shoppers_own_picks():
    fake, events = RecommendingApi(), Events()
    with client_for(fake, events) as client:
        cart = client.get("/cart")
    assert "Recommended for you" in cart.text and len(slot(cart.text)) == 3


def test_flag_off_hides_every_slot_and_publishes_nothing():
    fake, events = RecommendingApi(), Events()
    with client_for(fake, events, FakeFlags(recommendations=False)) as client:
        pages = [client.get(path).text for path in ("/", "/products/p-1", "/cart")]
    assert all('data-slot="recommendations"' not in html for html in pages)
    assert fake.recommendation_params() == [] and events.entries == []


def test_a_failing_bus_or_api_never_breaks_the_page():
    class Broken(Events):
        def put_events(self, Entries):
            raise ConnectionError("bus down")

    class NoRecommendations(RecommendingApi):
        def __call__(self, request):
            if request.url.path == "/recommendations":
                return httpx.Response(503, json={"error": {"code": "unavailable", "message": "x", "field": None}})
            return super().__call__(request)

    with client_for(NoRecommendations(), Broken()) as client:
        page = client.get("/products/p-1")
    assert page.status_code == 200 and 'data-slot="recommendations"' not in page.text
