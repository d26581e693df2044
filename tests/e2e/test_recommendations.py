"""Recommendations in local mode over HTTP: the fallback ranking (no Personalize locally) fills
every slot, learns "bought together" from orders placed through checkout (outbox -> bus ->
the OrderPlaced consumer -> counters), and refuses bad input with 4xx."""

from __future__ import annotations

from tests.e2e.conftest import sign_up
from tests.e2e.test_shopper_journey import wait_for

SIGNALS_TIMEOUT_S = 15


def _ids(reply) -> list[str]:
    return [item["product_id"] for item in reply.body["items"]]


def _sku_in_stock(local, product_id: str) -> str:
    product = local.call("GET", f"/products/{product_id}").body
    return next(s["sku"] for s in product["skus"] if s["available"] >= 2)


def test_slots_are_never_empty_and_say_their_source(local):
    home = local.call("GET", "/recommendations?limit=4")
    assert home.status == 200, home.body
    assert home.body["source"] == "fallback" and home.body["kind"] == "for_you"
    assert len(home.body["items"]) == 4
    product = local.call("GET", "/recommendations?product_id=p-0003&limit=5")
    assert len(product.body["items"]) == 5 and "p-0003" not in _ids(product)


def test_orders_teach_bought_together(local):
    # Products far down the demo catalog, which no other test buys.
    first, second = "p-0151", "p-0152"
    skus = [_sku_in_stock(local, first), _sku_in_stock(local, second)]
    for _ in range(2):
        shopper = sign_up(local)
        for sku in skus:
            added = local.call("POST", "/cart/items", body={"sku": sku, "quantity": 1}, token=shopper.token)
            assert added.status == 200, added.body
        placed = local.call("POST", "/checkout", body={"payment_token": "tok_visa"},
                            headers={"Idempotency-Key": f"reco-{shopper.sub}"}, token=shopper.token)
        assert placed.status == 201, placed.body

    def learned():
        reply = local.call("GET", f"/recommendations?product_id={first}&kind=bought_together&limit=3")
        return reply if _ids(reply)[:1] == [second] else None

    reply = wait_for(learned, SIGNALS_TIMEOUT_S)
    assert reply, "the OrderPlaced consumer did not count the orders in time"
    assert reply.body["source"] == "fallback" and len(reply.body["items"]) == 3


def test_bad_input_and_unknown_products(local):
    assert local.call("GET", "/recommendations?product_id=p-none").status == 404
    bad = local.call("GET", "/recommendations?limit=500")
    assert bad.status == 400 and bad.body["error"]["field"] == "limit"
