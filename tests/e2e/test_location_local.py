"""The store locator in local mode over HTTP: the demo stores are seeded, searches by
coordinates and by a city or postcode (the local gazetteer) answer nearest first, across the
antimeridian too, and bad input is a 4xx."""

from __future__ import annotations

import urllib.parse


def _stores(local, **query):
    return local.call("GET", "/stores?" + urllib.parse.urlencode(query))


def test_nearest_demo_stores_by_coordinates(local):
    reply = _stores(local, lat="40.73", lon="-73.99", radius_km="10")
    assert reply.status == 200, reply.body
    ids = [s["store_id"] for s in reply.body["items"]]
    assert ids == ["nyc-soho", "nyc-fifth"]
    assert reply.body["items"][0]["distance_km"] < reply.body["items"][1]["distance_km"]


def test_stores_by_city_and_postcode(local):
    by_city = _stores(local, q="Oxford Street, London", limit="1")
    assert by_city.status == 200, by_city.body
    assert by_city.body["origin"]["label"] == "London" and len(by_city.body["items"]) == 1
    by_postcode = _stores(local, q="10719")
    assert by_postcode.body["origin"]["label"] == "Berlin"
    assert {s["store_id"] for s in by_postcode.body["items"]} == {"ber-mitte", "ber-kudamm"}


def test_a_search_across_the_antimeridian_finds_the_other_side(local):
    # West of the antimeridian (179.9 W); Suva is at 178.4 E, about 175 km away.
    reply = _stores(local, lat="-18.2", lon="-179.9", radius_km="200")
    assert reply.status == 200, reply.body
    assert [s["store_id"] for s in reply.body["items"]] == ["suv-victoria"]


def test_far_north_stores_are_found(local):
    reply = _stores(local, lat="78.9", lon="11.9", radius_km="150")
    assert [s["store_id"] for s in reply.body["items"]] == ["lyr-sentrum"]


def test_bad_input_is_refused(local):
    assert _stores(local, lat="95", lon="0").status == 400
    assert _stores(local, lat="0", lon="0", radius_km="5000").body["error"]["field"] == "radius_km"
    assert _stores(local, q="Atlantis").status == 404


def test_a_simulated_courier_delivers_a_shipped_order(local):
    from tests.e2e.conftest import sign_up
    from tests.e2e.test_shopper_journey import wait_for

    shopper = sign_up(local)
    product = local.call("GET", "/products?limit=1").body["items"][0]["product_id"]
    sku = next(s["sku"] for s in local.call("GET", f"/products/{product}").body["skus"] if s["available"] > 0)
    assert local.call("POST", "/cart/items", body={"sku": sku, "quantity": 1}, token=shopper.token).status == 200
    address = {"name": "Ada", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117",
               "country": "DE"}
    placed = local.call("POST", "/checkout", body={"payment_token": "tok_visa", "shipping_address": address},
                        headers={"Idempotency-Key": f"courier-{shopper.sub}"}, token=shopper.token)
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    path = f"/orders/{order_id}/tracking"
    assert wait_for(lambda: local.call("GET", f"/orders/{order_id}", token=shopper.token).body["status"]
                    == "ACCEPTED_BY_OMS", 20)
    assert order_id in local.call("POST", "/_local/couriers/simulate").body["started"]
    arrived = wait_for(lambda: (r := local.call("GET", path, token=shopper.token)).body["status"] == "ARRIVING"
                       and r, 60)
    assert arrived, local.call("GET", path, token=shopper.token).body
    assert arrived.body["courier"] is not None
    stranger = sign_up(local)
    assert local.call("GET", path, token=stranger.token).status == 404
