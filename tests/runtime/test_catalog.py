from __future__ import annotations

import sys
import types

from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.common import aws
from tests.runtime.conftest import call


def test_get_product_has_price_stock_images_and_skus(catalog):
    reply = call("GET", "/products/{product_id}", path_params={"product_id": "p-tee"})
    assert reply.status == 200
    body = reply.body
    assert body["price"] == {"amount": 1999, "currency": "USD"}
    assert body["available"] == 35 and isinstance(body["available"], int)
    assert body["images"] == ["https://assets.example/p-tee.jpg"]
    assert [s["sku"] for s in body["skus"]] == ["tee-m", "tee-s"]
    assert body["skus"][0]["available"] == 15 and body["skus"][0]["attributes"] == {"size": "M"}
    assert reply.headers["Access-Control-Allow-Origin"] == "https://shop.example"


def test_get_product_is_one_dynamodb_call(catalog, ddb_calls):
    ddb_calls.reset()
    assert call("GET", "/products/{product_id}", path_params={"product_id": "p-mug"}).status == 200
    assert len(ddb_calls.calls) == 1


def test_unknown_product_is_404(catalog):
    reply = call("GET", "/products/{product_id}", path_params={"product_id": "nope"})
    assert reply.status == 404
    assert reply.body["error"]["code"] == "not_found"


def test_list_paginates_through_every_product_once(catalog):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        reply = call("GET", "/products", query=query)
        assert reply.status == 200
        assert len(reply.body["items"]) <= 3
        seen += [i["product_id"] for i in reply.body["items"]]
        cursor, pages = reply.body["next_cursor"], pages + 1
        if cursor is None:
            break
    assert sorted(seen) == sorted(p[0] for p in catalog)
    assert pages == 2


def test_list_by_category(catalog):
    reply = call("GET", "/products", query={"category": "kitchen"})
    assert sorted(i["product_id"] for i in reply.body["items"]) == ["p-mug", "p-pan"]
    assert reply.body["items"][0]["price"]["currency"] == "USD"
    assert reply.body["next_cursor"] is None


def test_cursor_from_another_category_or_garbage_is_400(catalog):
    first = call("GET", "/products", query={"category": "kitchen", "limit": "1"})
    cursor = first.body["next_cursor"]
    assert cursor
    assert call("GET", "/products", query={"category": "kitchen", "cursor": cursor}).status == 200
    for bad in (cursor + "x", "!!!", "e30", cursor[:-4]):
        reply = call("GET", "/products", query={"category": "kitchen", "cursor": bad})
        assert reply.status == 400, bad
        assert reply.body["error"]["field"] == "cursor"
    assert call("GET", "/products", query={"category": "apparel", "cursor": cursor}).status == 400


def test_limit_bounds(catalog):
    for bad in ("0", "101", "-1", "abc", "1.5", ""):
        reply = call("GET", "/products", query={"limit": bad})
        assert reply.status == 400 and reply.body["error"]["field"] == "limit"
    assert call("GET", "/products", query={"limit": "100"}).status == 200


def test_category_tree(catalog):
    reply = call("GET", "/categories")
    assert reply.status == 200
    tree = {c["category_id"]: c for c in reply.body["items"]}
    assert set(tree) == {"apparel", "kitchen"}
    assert [c["category_id"] for c in tree["apparel"]["children"]] == ["tops"]


def test_dax_endpoint_without_client_falls_back_to_dynamodb(catalog, monkeypatch):
    monkeypatch.setenv("DAX_ENDPOINT", "dax://cluster.example:8111")
    monkeypatch.setitem(sys.modules, "amazondax", None)  # import raises ImportError
    catalog_repository.catalog_reader.cache_clear()
    assert catalog_repository.catalog_reader() is aws.dynamodb()
    assert call("GET", "/products/{product_id}", path_params={"product_id": "p-mug"}).status == 200


def test_dax_endpoint_with_client_uses_dax(table, monkeypatch):
    created = {}

    class FakeDax:
        def __init__(self, endpoint_url):
            created["endpoint"] = endpoint_url

    monkeypatch.setenv("DAX_ENDPOINT", "dax://cluster.example:8111")
    monkeypatch.setitem(sys.modules, "amazondax", types.SimpleNamespace(AmazonDaxClient=FakeDax))
    catalog_repository.catalog_reader.cache_clear()
    assert isinstance(catalog_repository.catalog_reader(), FakeDax)
    assert created["endpoint"] == "dax://cluster.example:8111"


def test_unreachable_dax_cluster_falls_back_to_dynamodb(catalog, monkeypatch):
    class UnreachableDax:
        def __init__(self, endpoint_url):
            raise ConnectionError(f"no route to {endpoint_url}")

    monkeypatch.setenv("DAX_ENDPOINT", "daxs://cluster.example:9111")
    monkeypatch.setitem(sys.modules, "amazondax", types.SimpleNamespace(AmazonDaxClient=UnreachableDax))
    catalog_repository.catalog_reader.cache_clear()
    assert catalog_repository.catalog_reader() is aws.dynamodb()
    assert call("GET", "/products/{product_id}", path_params={"product_id": "p-mug"}).status == 200
