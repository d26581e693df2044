"""The PIM catalog feed: products, SKUs and categories upserted by version, ProductModified in
the outbox, bad records set aside with a reason, and the API showing the change."""

import json

from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.events.contracts import validate_event
from headless_commerce.runtime.feeds import catalog as catalog_feed

from .conftest import call, outbox_stream_records
from .feed_helpers import Topic, failure_messages, failures  # noqa: F401 - fixture

KEY = "product_id"


def product(version, *, product_id="p-lamp", name="Desk Lamp", price=3900, skus=None, **extra):
    return {"type": "product", "product_id": product_id, "version": version, "name": name,
            "price_amount": price, "category_id": "home", "brand": "Lumen",
            "images": ["https://assets.example/lamp.jpg"],
            "skus": skus if skus is not None else [{"sku": "lamp-w", "attributes": {"color": "white"}},
                                                   {"sku": "lamp-b", "price_amount": 4200}], **extra}


def events(detail_type="ProductModified"):
    return [json.loads(json.dumps(r["dynamodb"]["NewImage"])) for r in outbox_stream_records(detail_type)]


def test_a_new_product_appears_in_the_api_with_its_skus_and_an_event(catalog, failures):
    topic = Topic("catalog")
    assert catalog_feed.handler(topic.batch([product(1)], KEY)) == {"batchItemFailures": []}
    body = call("GET", "/products/{product_id}", path_params={"product_id": "p-lamp"}).body
    assert body["name"] == "Desk Lamp" and body["price"] == {"amount": 3900, "currency": "USD"}
    assert [s["sku"] for s in body["skus"]] == ["lamp-b", "lamp-w"]
    assert body["available"] == 0                    # stock comes from the inventory feed
    assert {s["sku"]: s["price"]["amount"] for s in body["skus"]} == {"lamp-w": 3900, "lamp-b": 4200}
    (event,) = outbox_stream_records("ProductModified")
    from headless_commerce.runtime.common.dynamo import from_item
    envelope = {k: v for k, v in from_item(event["dynamodb"]["NewImage"]).items()
                if k in ("id", "version", "occurred_at", "source", "detail_type", "detail")}
    validate_event(envelope)
    assert envelope["detail"]["skus"] == ["lamp-w", "lamp-b"] and envelope["detail"]["price_amount"] == 3900
    assert failure_messages(failures) == []


def test_a_newer_version_changes_the_product_and_keeps_stock_of_existing_skus(catalog, failures):
    topic = Topic("catalog")
    catalog_feed.handler(topic.batch([product(1, product_id="p-mug", name="Mug",
                                              skus=[{"sku": "mug-1"}])], KEY))
    assert catalog_repository.get_stock("mug-1") == 10   # seeded stock survives the upsert
    catalog_feed.handler(topic.batch([product(2, product_id="p-mug", name="Big Mug", price=1500,
                                              skus=[{"sku": "mug-1"}, {"sku": "mug-2"}])], KEY))
    body = call("GET", "/products/{product_id}", path_params={"product_id": "p-mug"}).body
    assert body["name"] == "Big Mug" and body["available"] == 10
    assert {s["sku"]: s["available"] for s in body["skus"]} == {"mug-1": 10, "mug-2": 0}
    assert len(outbox_stream_records("ProductModified")) == 2


def test_duplicates_and_redeliveries_change_nothing(catalog, failures, ddb_calls):
    topic = Topic("catalog", partitions=1)
    first = topic.batch([product(1)], KEY)
    catalog_feed.handler(first)
    ddb_calls.reset()
    catalog_feed.handler(first)                           # the same batch again (a retry)
    catalog_feed.handler(topic.batch([product(1)], KEY))  # the same version republished
    assert "TransactWriteItems" not in ddb_calls.calls and "PutItem" not in ddb_calls.calls
    assert len(outbox_stream_records("ProductModified")) == 1
    assert failure_messages(failures) == []


def test_an_older_version_is_set_aside_as_stale(catalog, failures):
    topic = Topic("catalog", partitions=1)
    catalog_feed.handler(topic.batch([product(5, name="Five"), product(4, name="Four")], KEY))
    assert call("GET", "/products/{product_id}", path_params={"product_id": "p-lamp"}).body["name"] == "Five"
    (stale,) = failure_messages(failures)
    assert stale["reason"] == stale["attribute_reason"] == "stale_version"
    assert stale["field"] == "version" and stale["offset"] == 1
    assert json.loads(__import__("base64").b64decode(stale["value"]))["name"] == "Four"


def test_sku_dropped_from_a_product_is_withdrawn_from_sale(catalog, failures):
    topic = Topic("catalog")
    catalog_feed.handler(topic.batch([product(1)], KEY))
    catalog_feed.handler(topic.batch([product(2, skus=[{"sku": "lamp-w"}])], KEY))
    body = call("GET", "/products/{product_id}", path_params={"product_id": "p-lamp"}).body
    assert [s["sku"] for s in body["skus"]] == ["lamp-w"]
    withdrawn = catalog_repository.get_skus(["lamp-b"])["lamp-b"]
    assert withdrawn["discontinued"] is True and withdrawn["stock"] == 0


def test_bad_records_go_to_the_failure_queue_with_reasons_and_the_rest_applies(catalog, failures):
    topic = Topic("catalog", partitions=1)
    batch = topic.batch([
        b"{not json",
        {"type": "product", "product_id": "p-x", "version": 1},            # schema: no name
        {"type": "brand", "brand_id": "b"},                                  # unknown record type
        product(1, product_id="p-steal", skus=[{"sku": "mug-1"}]),           # another product's SKU
        product(1, skus=[{"sku": "a"}, {"sku": "a"}]),                       # the same SKU twice
        {"type": "category", "category_id": "home", "version": 1, "name": "Home"},
        product(1),
    ], KEY)
    assert catalog_feed.handler(batch) == {"batchItemFailures": []}
    reasons = [(m["offset"], m["reason"], m["field"]) for m in failure_messages(failures)]
    assert sorted(reasons) == [(0, "malformed_json", None), (1, "schema_violation", "name"),
                               (2, "schema_violation", "type"), (3, "sku_owned_by_other_product", "skus"),
                               (4, "schema_violation", "skus")]
    assert call("GET", "/products/{product_id}", path_params={"product_id": "p-lamp"}).status == 200
    assert call("GET", "/products/{product_id}", path_params={"product_id": "p-steal"}).status == 404
    tree = call("GET", "/categories").body["items"]
    assert "home" in {c["category_id"] for c in tree}


def test_categories_upsert_by_version(catalog, failures):
    topic = Topic("catalog", partitions=1)
    catalog_feed.handler(topic.batch([
        {"type": "category", "category_id": "home", "version": 2, "name": "Home & Living"},
        {"type": "category", "category_id": "lamps", "version": 1, "name": "Lamps", "parent_id": "home"},
        {"type": "category", "category_id": "home", "version": 1, "name": "Home"},
    ], "category_id"))
    tree = {c["category_id"]: c for c in call("GET", "/categories").body["items"]}
    assert tree["home"]["name"] == "Home & Living"
    assert [c["category_id"] for c in tree["home"]["children"]] == ["lamps"]
    assert [m["reason"] for m in failure_messages(failures)] == ["stale_version"]
