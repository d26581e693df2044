"""The inventory feed: stock per SKU and warehouse by version, never below what unpaid orders
reserve, InventoryChanged in the outbox, one conditional write per record, and a crash mid-batch
that loses nothing."""

import json

from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.feeds import inventory as inventory_feed

from .conftest import add, call, checkout, outbox_stream_records
from .feed_helpers import Topic, failure_messages, failures  # noqa: F401 - fixture

KEY = "sku"


def stock(sku):
    return catalog_repository.get_skus([sku])[sku]


def test_sets_stock_per_warehouse_and_the_api_shows_the_sum(catalog, failures):
    topic = Topic("inventory")
    inventory_feed.handler(topic.batch([
        {"sku": "mug-1", "warehouse": "east", "quantity": 4, "version": 1},
        {"sku": "mug-1", "warehouse": "west", "quantity": 3, "version": 1},
        {"sku": "pan-1", "quantity": 9, "version": 1},
    ], KEY))
    item = stock("mug-1")
    assert item["stock"] == 7 and item["on_hand"] == 7
    assert item["warehouses"] == {"east": {"quantity": 4, "version": 1}, "west": {"quantity": 3, "version": 1}}
    body = call("GET", "/products/{product_id}", path_params={"product_id": "p-mug"}).body
    assert body["available"] == 7
    changed = outbox_stream_records("InventoryChanged")
    assert len(changed) == 3 and failure_messages(failures) == []


def test_unpaid_orders_keep_their_reservation(catalog, sandbox, failures, monkeypatch):
    # The payment provider is down: the order stays PENDING_PAYMENT holding 2 mugs.
    add("alice", "mug-1", 2)
    monkeypatch.setattr(sandbox, "authorize", lambda **kwargs: (_ for _ in ()).throw(ConnectionError("down")))
    assert checkout("alice", "key-inv-0000").status == 503
    assert stock("mug-1")["reserved"] == 2 and stock("mug-1")["stock"] == 8
    topic = Topic("inventory")
    inventory_feed.handler(topic.batch([{"sku": "mug-1", "quantity": 5, "version": 1}], KEY))
    assert stock("mug-1")["stock"] == 3                 # 5 promised - 2 reserved
    inventory_feed.handler(topic.batch([{"sku": "mug-1", "quantity": 1, "version": 2}], KEY))
    assert stock("mug-1")["stock"] == 0                 # never below what the order holds
    assert stock("mug-1")["reserved"] == 2 and stock("mug-1")["on_hand"] == 1


def test_settlement_gives_the_reservation_up(catalog, sandbox, failures):
    add("alice", "mug-1", 2)
    assert checkout("alice", "key-inv-0001").status == 201     # paid: reservation released
    assert stock("mug-1")["reserved"] == 0 and stock("mug-1")["stock"] == 8
    add("bob", "mug-1", 1)
    assert checkout("bob", "key-inv-0002", token="tok_chargeDeclined").status == 402
    assert stock("mug-1")["reserved"] == 0 and stock("mug-1")["stock"] == 8


def test_out_of_order_duplicate_and_conflicting_versions(catalog, failures):
    topic = Topic("inventory", partitions=1)
    result = inventory_feed.handler(topic.batch([
        {"sku": "mug-1", "quantity": 6, "version": 3},
        {"sku": "mug-1", "quantity": 9, "version": 2},     # older: stale
        {"sku": "mug-1", "quantity": 6, "version": 3},     # the same again: duplicate
        {"sku": "mug-1", "quantity": 7, "version": 3},     # same version, other quantity
        {"sku": "nope-1", "quantity": 1, "version": 1},    # unknown SKU
    ], KEY))
    assert result == {"batchItemFailures": []}
    assert stock("mug-1")["stock"] == 6
    assert [(m["offset"], m["reason"]) for m in failure_messages(failures)] == [
        (1, "stale_version"), (3, "conflicting_version"), (4, "unknown_sku")]
    assert len(outbox_stream_records("InventoryChanged")) == 1


def test_one_conditional_write_per_record(catalog, failures, ddb_calls):
    topic = Topic("inventory", partitions=1)
    documents = [{"sku": sku, "quantity": q, "version": 1}
                 for sku, q in (("mug-1", 10), ("pan-1", 4), ("tee-s", 1), ("tee-m", 15))]
    ddb_calls.reset()
    inventory_feed.handler(topic.batch(documents, KEY))
    calls = list(ddb_calls.calls)
    assert calls.count("BatchGetItem") == 1
    writes = [c for c in calls if c != "BatchGetItem"]
    # mug-1 (10 -> 10) and tee-m (15 -> 15) keep their stock: a plain update, no event.
    assert sorted(writes) == ["TransactWriteItems", "TransactWriteItems", "UpdateItem", "UpdateItem"]


def test_a_crash_mid_batch_loses_nothing_and_the_retry_applies_once(catalog, failures, monkeypatch):
    topic = Topic("inventory", partitions=1)
    batch = topic.batch([{"sku": "mug-1", "quantity": 1, "version": 1},
                         {"sku": "pan-1", "quantity": 2, "version": 1},
                         {"sku": "mug-1", "quantity": 3, "version": 2}], KEY)
    real = catalog_repository.set_feed_stock
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("network fault")
        return real(*args, **kwargs)

    monkeypatch.setattr(catalog_repository, "set_feed_stock", flaky)
    result = inventory_feed.handler(batch)
    # The failed record and everything after it on its partition are retried, in order.
    assert result == {"batchItemFailures": [{"itemIdentifier": {"partition": "scm.inventory.v1-0", "offset": o}}
                                            for o in (1, 2)]}
    assert stock("mug-1")["stock"] == 1 and stock("pan-1")["stock"] == 3
    monkeypatch.setattr(catalog_repository, "set_feed_stock", real)
    assert inventory_feed.handler(batch) == {"batchItemFailures": []}   # Lambda redelivers the batch
    assert stock("mug-1")["stock"] == 3 and stock("pan-1")["stock"] == 2
    assert failure_messages(failures) == []
    assert len(outbox_stream_records("InventoryChanged")) == 3


def test_on_demand_pollers_fail_the_whole_batch_and_the_redelivery_applies_once(catalog, failures, monkeypatch):
    """Dev's mappings run on-demand pollers, which ignore batchItemFailures: the consumer raises."""
    import pytest

    from headless_commerce.runtime import settings
    from headless_commerce.runtime.feeds.consumer import BatchRetry

    monkeypatch.setenv(settings.FEED_PARTIAL_BATCH, "false")
    topic = Topic("inventory", partitions=1)
    batch = topic.batch([{"sku": "mug-1", "quantity": 1, "version": 1},
                         {"sku": "pan-1", "quantity": 2, "version": 1}], KEY)
    real = catalog_repository.set_feed_stock
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("network fault")
        return real(*args, **kwargs)

    monkeypatch.setattr(catalog_repository, "set_feed_stock", flaky)
    with pytest.raises(BatchRetry, match="1 record"):
        inventory_feed.handler(batch)
    assert stock("mug-1")["stock"] == 1  # applied before the fault, recognised on redelivery
    monkeypatch.setattr(catalog_repository, "set_feed_stock", real)
    assert inventory_feed.handler(batch) == {"batchItemFailures": []}
    assert stock("mug-1")["stock"] == 1 and stock("pan-1")["stock"] == 2
    assert len(outbox_stream_records("InventoryChanged")) == 2
    assert failure_messages(failures) == []


def test_a_failure_queue_outage_retries_the_record_instead_of_dropping_it(catalog, failures, monkeypatch):
    from headless_commerce.runtime.common import aws

    real = aws.sqs().send_message_batch
    monkeypatch.setattr(
        aws.sqs(), "send_message_batch", lambda **kw: (_ for _ in ()).throw(ConnectionError("sqs down"))
    )
    topic = Topic("inventory", partitions=1)
    batch = topic.batch([{"sku": "nope", "quantity": 1, "version": 1},
                         {"sku": "mug-1", "quantity": 2, "version": 1}], KEY)
    result = inventory_feed.handler(batch)
    # Both are retried from the refused one; the applied record comes back as a redelivery.
    assert [f["itemIdentifier"]["offset"] for f in result["batchItemFailures"]] == [0, 1]
    assert stock("mug-1")["stock"] == 2
    monkeypatch.setattr(aws.sqs(), "send_message_batch", real)
    assert inventory_feed.handler(batch) == {"batchItemFailures": []}
    assert stock("mug-1")["stock"] == 2
    assert [m["reason"] for m in failure_messages(failures)] == ["unknown_sku"]
    assert len(outbox_stream_records("InventoryChanged")) == 1


def test_replaying_a_whole_feed_changes_nothing_and_writes_nothing(catalog, failures, ddb_calls):
    from headless_commerce.runtime.common import aws, dynamo
    from headless_commerce.runtime.feeds import catalog as catalog_feed

    def everything():
        return sorted(json.dumps(dynamo.from_item(i), sort_keys=True)
                      for i in aws.dynamodb().scan(TableName=dynamo.table_name())["Items"])

    products = [{"type": "product", "product_id": f"r-{p}", "version": v, "name": f"R {p} v{v}",
                 "price_amount": 100 + v, "skus": [{"sku": f"r-{p}-a"}, {"sku": f"r-{p}-b"}]}
                for p in range(20) for v in (1, 2)]
    stock_records = [{"sku": f"r-{p}-{s}", "warehouse": w, "quantity": v * 3 + p, "version": v}
                     for p in range(20) for s in "ab" for w in ("east", "west") for v in (1, 2, 3)]
    catalog_topic, inventory_topic = Topic("catalog"), Topic("inventory")
    for _ in range(2):        # the whole feed, then all of it again
        catalog_feed.handler(catalog_topic.batch(products, "product_id"))
        inventory_feed.handler(inventory_topic.batch(stock_records, KEY))
        if _ == 0:
            before = everything()
            assert stock("r-3-a")["stock"] == 2 * (3 * 3 + 3)   # both warehouses at version 3
            ddb_calls.reset()
    assert everything() == before
    assert not {"PutItem", "UpdateItem", "TransactWriteItems", "DeleteItem"} & set(ddb_calls.calls)
    reasons = [m["reason"] for m in failure_messages(failures)]
    assert set(reasons) == {"stale_version"} and len(reasons) == 20 + 20 * 2 * 2 * 2
