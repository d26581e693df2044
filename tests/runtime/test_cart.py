from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.catalog import repository as catalog_repository
from tests.runtime.conftest import add, call


def test_add_get_and_price(catalog):
    reply = add("alice", "tee-m", 2)
    assert reply.status == 200
    line = reply.body["lines"][0]
    assert line == {"sku": "tee-m", "product_id": "p-tee", "name": "Classic Tee", "quantity": 2,
                    "unit_price": {"amount": 1999, "currency": "USD"},
                    "line_total": {"amount": 3998, "currency": "USD"}}
    cart = call("GET", "/cart", sub="alice").body
    assert cart["subtotal"] == {"amount": 3998, "currency": "USD"}
    assert cart["item_count"] == 2
    assert cart["lines"][0]["available"] == 15


def test_get_cart_shows_current_price(catalog):
    add("alice", "mug-1", 1)
    catalog_repository.put_product({"product_id": "p-mug", "name": "Coffee Mug", "category_id": "kitchen",
                              "price_amount": 1500}, [{"sku": "mug-1", "stock": 10}])
    assert call("GET", "/cart", sub="alice").body["lines"][0]["unit_price"]["amount"] == 1500


def test_empty_cart(table):
    reply = call("GET", "/cart", sub="nobody")
    assert reply.status == 200
    assert reply.body["lines"] == [] and reply.body["subtotal"]["amount"] == 0


def test_adding_existing_sku_merges_and_clamps_at_99(catalog):
    add("alice", "mug-1", 40)
    assert add("alice", "mug-1", 50).body["lines"][0]["quantity"] == 90
    reply = add("alice", "mug-1", 30)
    assert reply.status == 200
    assert reply.body["lines"][0]["quantity"] == model.MAX_LINE_QUANTITY
    assert len(reply.body["lines"]) == 1


def test_add_to_cart_is_at_most_two_calls(catalog, ddb_calls):
    for _ in range(2):  # new cart, then existing cart
        ddb_calls.reset()
        assert add("alice", "tee-s").status == 200
        assert len(ddb_calls.calls) <= 2, ddb_calls.calls


def test_unknown_sku_is_400_on_sku(catalog):
    reply = add("alice", "ghost")
    assert reply.status == 400
    assert reply.body["error"] == {"code": "unknown_sku", "message": "SKU ghost does not exist",
                                   "field": "sku"}


def test_quantity_bounds(catalog):
    for bad in (0, -1, 100, 10**30, 1.5, "2", True, None):
        reply = add("alice", "mug-1", bad)
        assert reply.status == 400, bad
        assert reply.body["error"]["field"] == "quantity"


def test_cart_line_limit(catalog):
    for i in range(model.MAX_CART_LINES):
        catalog_repository.put_product({"product_id": f"bulk{i}", "name": "Bulk", "price_amount": 100},
                                 [{"sku": f"bulk-{i}", "stock": 5}])
    assert add("alice", "bulk-0").status == 200
    # Fill the rest through the service's own write path (49 HTTP adds would only cost time).
    from headless_commerce.runtime.cart import repository as carts
    from headless_commerce.runtime.common import dynamo

    cart = dynamo.get(model.cart_key("alice"))
    lines = {f"bulk-{i}": {"product_id": f"bulk{i}", "name": "Bulk", "quantity": 1, "unit_price": 100}
             for i in range(model.MAX_CART_LINES)}
    assert carts.save("alice", cart, lines) is not None
    reply = add("alice", "mug-1")
    assert reply.status == 409 and reply.body["error"]["code"] == "cart_full"
    assert add("alice", "bulk-0").status == 200  # merging into an existing line still works


def test_patch_sets_quantity_and_zero_removes(catalog):
    add("alice", "mug-1", 3)
    add("alice", "pan-1", 1)
    reply = call("PATCH", "/cart/items/{sku}", sub="alice", path_params={"sku": "mug-1"},
                 body={"quantity": 7})
    assert reply.status == 200
    assert {line["sku"]: line["quantity"] for line in reply.body["lines"]} == {"mug-1": 7, "pan-1": 1}
    reply = call("PATCH", "/cart/items/{sku}", sub="alice", path_params={"sku": "mug-1"},
                 body={"quantity": 0})
    assert [line["sku"] for line in reply.body["lines"]] == ["pan-1"]


def test_delete_line_and_missing_line(catalog):
    add("alice", "mug-1", 3)
    reply = call("DELETE", "/cart/items/{sku}", sub="alice", path_params={"sku": "mug-1"})
    assert reply.status == 200 and reply.body["lines"] == []
    reply = call("DELETE", "/cart/items/{sku}", sub="alice", path_params={"sku": "mug-1"})
    assert reply.status == 404
    reply = call("PATCH", "/cart/items/{sku}", sub="alice", path_params={"sku": "pan-1"},
                 body={"quantity": 2})
    assert reply.status == 404


def test_cart_requires_sign_in(catalog):
    assert call("GET", "/cart").status == 401
    reply = call("POST", "/cart/items", body={"sku": "mug-1", "quantity": 1})
    assert reply.status == 401 and reply.body["error"]["code"] == "unauthorized"


def test_carts_are_isolated_between_customers(catalog):
    add("alice", "mug-1", 2)
    assert call("GET", "/cart", sub="bob").body["lines"] == []
    # Bob's PATCH/DELETE on the same SKU addresses Bob's (empty) cart, never Alice's.
    assert call("PATCH", "/cart/items/{sku}", sub="bob", path_params={"sku": "mug-1"},
                body={"quantity": 9}).status == 404
    assert call("DELETE", "/cart/items/{sku}", sub="bob", path_params={"sku": "mug-1"}).status == 404
    assert call("GET", "/cart", sub="alice").body["lines"][0]["quantity"] == 2


def test_concurrent_adds_are_not_lost(catalog):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: add("alice", "tee-s", 1), range(8)))
    assert all(r.status in (200, 409) for r in replies)
    succeeded = sum(r.status == 200 for r in replies)
    assert call("GET", "/cart", sub="alice").body["lines"][0]["quantity"] == succeeded
