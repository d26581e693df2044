"""The storefront's store locator and delivery tracking pages, with the commerce API faked over
HTTP: the footer link, searches by place and by coordinates (nearest first, with distance), no
results, an unknown place (404), Location unavailable (503), bad and fuzzed input (an inline 400
that never reaches the API, never a 5xx), the flag; tracking for the order's owner only."""

from __future__ import annotations

import re
import urllib.parse

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headless_commerce.runtime.routes import PATH_PARAM_PATTERN
from headless_commerce.runtime.storefront import locator
from tests.storefront.test_bff import FakeApi, FakeFlags, make_client, sign_in

MITTE = {"store_id": "ber-mitte", "name": "Mitte", "line1": "Alexanderplatz 1", "city": "Berlin",
         "postal_code": "10178", "country": "DE", "phone": "+49 30 1234567", "lat": 52.5219, "lon": 13.4132,
         "distance_km": 0.594}
KUDAMM = {"store_id": "ber-kudamm", "name": "Kurfuerstendamm", "line1": "Kurfuerstendamm 21", "city": "Berlin",
          "postal_code": "10719", "country": "DE", "lat": 52.5031, "lon": 13.3307, "distance_km": 5.118}
OWNER = "id-token-a@example.com"


def _error(status: int, code: str, field: str | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": code, "field": field}})


class LocatingApi(FakeApi):
    def __init__(self) -> None:
        super().__init__()
        self.stores_status = 200
        self.tracking: dict = {"order_id": "o-1", "status": "SHIPPED", "courier": None, "eta": None}

    def store_queries(self) -> list[dict]:
        return [dict(r.url.params) for r in self.calls if r.url.path == "/stores"]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/stores":
            self.calls.append(request)
            query = dict(request.url.params)
            if self.stores_status != 200:
                return _error(self.stores_status, "location_unavailable")
            if query.get("q") == "Atlantis":
                return _error(404, "address_not_found", "q")
            if query.get("q") == "York":
                return httpx.Response(200, json={"origin": {"label": "York", "lat": 53.96, "lon": -1.08},
                                                 "radius_km": float(query["radius_km"]), "items": []})
            label = "Berlin" if "q" in query else None
            lat, lon = (52.52, 13.405) if "q" in query else (float(query["lat"]), float(query["lon"]))
            return httpx.Response(200, json={"origin": {"label": label, "lat": lat, "lon": lon},
                                             "radius_km": float(query["radius_km"]), "items": [MITTE, KUDAMM]})
        match = re.fullmatch(r"/orders/([^/]+)(/tracking)?", path)
        if match:
            self.calls.append(request)
            if not request.headers.get("authorization"):
                return _error(401, "unauthorized")
            # Only the owner's token finds the order; anyone else's is a plain 404.
            if match.group(1) != "o-1" or request.headers["authorization"] != OWNER:
                return _error(404, "not_found", "order_id")
            if match.group(2):
                if self.tracking is None:
                    return _error(503, "location_unavailable")
                return httpx.Response(200, json=self.tracking)
            return httpx.Response(200, json={
                "order_id": "o-1", "status": self.tracking["status"] if self.tracking else "SHIPPED",
                "created_at": "2026-11-26T08:00:00Z", "lines": [], "total": {"amount": 1999, "currency": "USD"},
                "shipping_address": None})
        return super().__call__(request)


def _alert(html: str) -> str:
    found = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', html, re.S)
    return found.group(1).strip() if found else ""


def _stores(html: str) -> list[str]:
    return re.findall(r'<li class="store" data-store="([^"]+)"', html)


# ---- the locator ------------------------------------------------------------------------------

def test_the_footer_links_to_the_locator_whose_forms_work_without_javascript():
    fake = LocatingApi()
    with make_client(fake) as client:
        assert '<a href="/stores">Find a store near you</a>' in client.get("/").text
        page = client.get("/stores")
    assert page.status_code == 200
    assert page.text.count('<form action="/stores" method="get"') == 2
    for name in ("q", "lat", "lon", "radius_km"):
        assert f'name="{name}"' in page.text
    # The geolocation button is site.js's to show: hidden when JavaScript is off.
    assert re.search(r'<p class="geolocate" hidden>\s*<button type="button" data-geolocate-button>', page.text)
    assert not _stores(page.text) and not fake.store_queries()


def test_a_place_search_lists_stores_nearest_first_with_distance_and_details():
    fake = LocatingApi()
    with make_client(fake) as client:
        page = client.get("/stores", params={"q": "  Berlin   Mitte ", "radius_km": "10"})
    assert page.status_code == 200
    assert fake.store_queries() == [{"q": "Berlin Mitte", "radius_km": "10", "limit": str(locator.RESULTS)}]
    assert _stores(page.text) == ["ber-mitte", "ber-kudamm"]
    assert "Stores near Berlin" in page.text and "2 stores within 10 km, nearest first" in page.text
    assert "594 m away" in page.text and "5.1 km away" in page.text
    assert "Alexanderplatz 1<br>10178 Berlin, DE" in page.text
    assert '<a href="tel:+49 30 1234567">' in page.text
    assert 'value="Berlin Mitte"' in page.text and '<option value="10" selected>' in page.text


def test_a_coordinate_search_sends_the_shoppers_digits_and_names_the_point():
    fake = LocatingApi()
    with make_client(fake) as client:
        page = client.get("/stores?lat=52.52&lon=%2B13.405")
    assert page.status_code == 200
    assert fake.store_queries() == [{"lat": "52.52", "lon": "+13.405", "radius_km": "25", "limit": "10"}]
    assert "Stores near 52.5200, 13.4050" in page.text and _stores(page.text) == ["ber-mitte", "ber-kudamm"]


def test_results_are_cached_like_other_public_listings():
    fake = LocatingApi()
    with make_client(fake) as client:
        client.get("/stores?q=Berlin")
        client.get("/stores?q=Berlin")
        client.get("/stores?q=Berlin&radius_km=50")
    assert len(fake.store_queries()) == 2


def test_no_stores_nearby_says_so():
    fake = LocatingApi()
    with make_client(fake) as client:
        page = client.get("/stores?q=York&radius_km=5")
    assert page.status_code == 200 and not _stores(page.text)
    assert "No stores within 5 km. Try a larger distance." in page.text


def test_an_unknown_place_is_a_404_with_the_form_kept():
    fake = LocatingApi()
    with make_client(fake) as client:
        page = client.get("/stores?q=Atlantis")
    assert page.status_code == 404
    assert _alert(page.text) == locator.PLACE_NOT_FOUND
    assert 'value="Atlantis" aria-invalid="true"' in page.text


def test_location_unavailable_is_a_503_locator_page_and_the_shop_keeps_working():
    fake = LocatingApi()
    fake.stores_status = 503
    with make_client(fake) as client:
        page = client.get("/stores?q=Berlin")
        assert page.status_code == 503 and page.headers["retry-after"] == "5"
        assert _alert(page.text) == locator.UNAVAILABLE and 'value="Berlin"' in page.text
        fake.stores_status = 504          # the API gateway timing out reads the same
        assert client.get("/stores?q=Paris").status_code == 503
        assert client.get("/products/p-1").status_code == 200
        # An outage is not cached: once Location answers, the same search finds the stores.
        fake.stores_status = 200
        assert _stores(client.get("/stores?q=Berlin").text) == ["ber-mitte", "ber-kudamm"]


@pytest.mark.parametrize("query,field", [
    ({"lat": "95", "lon": "0"}, "lat"),
    ({"lat": "0", "lon": "-180.5"}, "lon"),
    ({"lat": "52.5"}, "lon"),
    ({"lon": "13.4"}, "lat"),
    ({"lat": "nan", "lon": "0"}, "lat"),
    ({"lat": "1e5", "lon": "0"}, "lat"),
    ({"lat": "\u0663", "lon": "0"}, "lat"),
    ({"lat": "0x10", "lon": "0"}, "lat"),
    ({"lat": "52", "lon": "13", "radius_km": "5000"}, "radius_km"),
    ({"lat": "52", "lon": "13", "radius_km": "0"}, "radius_km"),
    ({"q": "Berlin", "lat": "52", "lon": "13"}, "q"),
    ({"q": "x" * 201}, "q"),
    ({"q": "Berlin\x00"}, "q"),
    ({"q": "\u202eBerlin"}, "q"),
    ({"q": "Berlin", "radius_km": "-5"}, "radius_km"),
])
def test_bad_input_is_an_inline_400_that_never_reaches_the_api(query, field):
    fake = LocatingApi()
    with make_client(fake) as client:
        page = client.get("/stores?" + urllib.parse.urlencode(query))
    assert page.status_code == 400, page.text
    assert _alert(page.text) and "Traceback" not in page.text
    assert f'name="{field}"' in page.text
    if field in ("q", "lat", "lon"):
        assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', page.text)
    assert not fake.store_queries()


def test_the_flag_hides_the_link_and_the_page():
    fake = LocatingApi()
    with make_client(fake, flags=FakeFlags(store_locator=False)) as client:
        assert 'href="/stores"' not in client.get("/").text
        assert client.get("/stores?q=Berlin").status_code == 404
    assert not fake.store_queries()


# Any query string a client can send: text with controls, bidi marks and emoji, raw
# percent-encoded bytes that are not UTF-8, numbers in every notation. The answer is a page
# (200, 400 or 404), never a 5xx, and only a query the API's parser accepts reaches the API.
_NUMBERISH = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                       st.decimals(allow_nan=False, allow_infinity=False).map(str),
                       st.from_regex(r"[+-]?[0-9]{0,5}(\.[0-9]{0,14})?", fullmatch=True),
                       st.text(max_size=12))
_RAW = st.binary(max_size=40).map(lambda b: urllib.parse.quote_from_bytes(b, safe=""))
_FIELD = st.sampled_from(["q", "lat", "lon", "radius_km", "limit", "q[]"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(_FIELD, st.one_of(_NUMBERISH, st.text(max_size=250))), max_size=5),
       raw=st.lists(st.tuples(_FIELD, _RAW), max_size=2))
def test_fuzzed_locator_queries_never_give_a_5xx(pairs, raw):
    from headless_commerce.runtime.location import params

    fake = LocatingApi()
    query = "&".join([urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)]
                     + [f"{name}={value}" for name, value in raw])
    with make_client(fake) as client:
        page = client.get("/stores?" + query)
    assert page.status_code in (200, 400, 404), (query, page.status_code)
    assert "Traceback" not in page.text
    for sent in fake.store_queries():
        params.parse(sent)          # raises if the storefront let anything invalid through


# ---- tracking ---------------------------------------------------------------------------------

def test_tracking_needs_a_signed_in_customer():
    fake = LocatingApi()
    with make_client(fake) as client:
        reply = client.get("/account/orders/o-1/tracking")
    assert reply.status_code == 303
    assert reply.headers["location"] == "/account/sign-in?next=/account/orders/o-1/tracking"


def test_the_order_page_links_to_tracking_which_says_not_yet_on_its_way():
    fake = LocatingApi()
    with make_client(fake) as client:
        sign_in(client)
        order = client.get("/account/orders/o-1")
        assert order.status_code == 200
        assert '<a class="button" href="/account/orders/o-1/tracking">Track this delivery</a>' in order.text
        page = client.get("/account/orders/o-1/tracking")
    assert page.status_code == 200
    assert '<strong class="status">shipped</strong>' in page.text
    assert "Not yet on its way" in page.text and "Last position" not in page.text
    [call] = [r for r in fake.calls if r.url.path == "/orders/o-1/tracking"]
    assert call.headers["authorization"] == OWNER


@pytest.mark.parametrize("status,words", [("OUT_FOR_DELIVERY", "out for delivery"), ("ARRIVING", "arriving")])
def test_tracking_shows_the_couriers_last_position_and_eta(status, words):
    fake = LocatingApi()
    fake.tracking = {"order_id": "o-1", "status": status,
                     "courier": {"lat": 52.52191, "lon": 13.41317, "updated_at": "2026-11-26T09:41:07.25Z"},
                     "eta": {"duration_s": 421, "distance_km": 2.634, "arrive_by": "2026-11-26T09:48:30Z"}}
    with make_client(fake) as client:
        sign_in(client)
        page = client.get("/account/orders/o-1/tracking")
    assert page.status_code == 200
    assert f'<strong class="status">{words}</strong>' in page.text
    text = re.sub(r"\s+", " ", page.text)
    assert "52.5219, 13.4132, seen 09:41 UTC on 2026-11-26" in text
    assert "in about 8 min (2.6 km to go), by 09:48 UTC" in text
    assert "Not yet on its way" not in text


def test_a_delivered_order_shows_the_last_position_without_an_eta():
    fake = LocatingApi()
    fake.tracking = {"order_id": "o-1", "status": "DELIVERED", "eta": None,
                     "courier": {"lat": 52.5, "lon": 13.4, "updated_at": "2026-11-26T09:50:00Z"}}
    with make_client(fake) as client:
        sign_in(client)
        page = client.get("/account/orders/o-1/tracking")
    assert "Your order was delivered." in page.text and "Estimated arrival" not in page.text


def test_another_customers_order_is_the_same_not_found_as_a_missing_one():
    fake = LocatingApi()
    with make_client(fake) as client:
        sign_in(client, "mallory@example.com")
        theirs = client.get("/account/orders/o-1/tracking")
        missing = client.get("/account/orders/o-404/tracking")
        malformed = client.get("/account/orders/o%20'1/tracking")
    assert theirs.status_code == missing.status_code == malformed.status_code == 404

    def main(html: str) -> str:
        return re.search(r"<main.*?</main>", html, re.S).group(0)

    assert main(theirs.text) == main(missing.text) == main(malformed.text)
    assert "o-1" not in main(theirs.text)


def test_tracking_unavailable_is_the_storefronts_503_page():
    fake = LocatingApi()
    fake.tracking = None
    with make_client(fake) as client:
        sign_in(client)
        page = client.get("/account/orders/o-1/tracking")
    assert page.status_code == 503 and "Traceback" not in page.text


def test_a_cancelled_order_has_no_tracking_link():
    fake = LocatingApi()
    fake.tracking = {"order_id": "o-1", "status": "CANCELLED", "courier": None, "eta": None}
    with make_client(fake) as client:
        sign_in(client)
        order = client.get("/account/orders/o-1")
        page = client.get("/account/orders/o-1/tracking")
    assert order.status_code == 200 and "Track this delivery" not in order.text
    assert "This order will not be delivered." in page.text and "Not yet on its way" not in page.text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order_id=st.one_of(st.text(min_size=1, max_size=80), st.binary(min_size=1, max_size=40).map(bytes.hex)))
def test_any_order_id_in_the_tracking_path_is_a_page_never_a_5xx(order_id):
    fake = LocatingApi()
    with make_client(fake) as client:
        sign_in(client)
        reply = client.get(f"/account/orders/{urllib.parse.quote(order_id, safe='')}/tracking")
    assert reply.status_code in (200, 404), (order_id, reply.status_code)
    assert "Traceback" not in reply.text
    # Only an id of the API's path pattern is ever sent to it. (An id of "." collapses the path to
    # /account/orders/tracking: the order page of an order named "tracking", a valid id.)
    for call in fake.calls:
        if call.url.path.startswith("/orders/"):
            assert re.fullmatch(f"/orders/{PATH_PARAM_PATTERN}(/tracking)?", call.url.path), call.url.path
