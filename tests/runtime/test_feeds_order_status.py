"""The order-status feed: fulfilment statuses through the OMS consumer's status function, with
OrderStatusChanged in the outbox; bad, stale and early records handled without losing any."""

from headless_commerce.runtime.common.dynamo import from_item
from headless_commerce.runtime.events.contracts import validate_event
from headless_commerce.runtime.feeds import order_status as status_feed
from headless_commerce.runtime.orders import repository as orders

from .conftest import add, call, checkout, outbox_stream_records
from .feed_helpers import Topic, failure_messages, failures  # noqa: F401 - fixture
from .test_events_order_status import order  # noqa: F401 - fixture

KEY = "order_id"
AT = "2026-11-25T10:00:00Z"


def update(order_id, status, **extra):
    return {"order_id": order_id, "status": status, "occurred_at": AT, **extra}


def status_events():
    envelopes = []
    for record in outbox_stream_records("OrderStatusChanged"):
        item = from_item(record["dynamodb"]["NewImage"])
        envelope = {k: item[k] for k in ("id", "version", "occurred_at", "source", "detail_type", "detail")}
        validate_event(envelope)
        envelopes.append(envelope)
    return envelopes


def test_statuses_move_the_order_forward_with_events(order, failures):
    order_id = order["order_id"]
    topic = Topic("order_status", partitions=1)
    assert status_feed.handler(topic.batch([update(order_id, "PICKED", customer_id="alice"),
                                            update(order_id, "SHIPPED")], KEY)) == {"batchItemFailures": []}
    assert orders.get(order_id)["status"] == "SHIPPED"
    emitted = {(e["detail"]["from"], e["detail"]["to"]) for e in status_events()}
    assert emitted == {("PENDING_PAYMENT", "CONFIRMED"), ("CONFIRMED", "PICKED"), ("PICKED", "SHIPPED")}
    reply = call("GET", "/orders/{order_id}", path_params={"order_id": order_id}, sub="alice")
    assert reply.body["status"] == "SHIPPED"
    assert failure_messages(failures) == []


def test_duplicates_redeliveries_stale_and_bad_records(order, failures):
    order_id = order["order_id"]
    topic = Topic("order_status", partitions=1)
    first = topic.batch([update(order_id, "DELIVERED")], KEY)
    status_feed.handler(first)
    count = len(status_events())
    status_feed.handler(first)                                        # redelivered batch
    result = status_feed.handler(topic.batch([
        update(order_id, "DELIVERED"),                                # same status: duplicate
        update(order_id, "SHIPPED"),                                  # behind DELIVERED: stale
        update("o-missing", "SHIPPED"),                               # unknown order
        update(order_id, "DELIVERED", customer_id="mallory"),         # another customer's order
        update(order_id, "RETURNED"),                                 # not a fulfilment status
    ], KEY))
    assert result == {"batchItemFailures": []}
    assert len(status_events()) == count
    assert [(m["offset"], m["reason"]) for m in failure_messages(failures)] == [
        (2, "stale_status"), (3, "unknown_order"), (4, "customer_mismatch"), (5, "schema_violation")]
    assert orders.get(order_id)["status"] == "DELIVERED"


def test_a_closed_order_is_not_reopened(catalog, sandbox, failures):
    add("bob", "pan-1", 1)
    assert checkout("bob", "key-status-0002", token="tok_chargeDeclined").status == 402
    order_id = orders.list_for_customer("bob", 10, None)[0][0]["order_id"]
    status_feed.handler(Topic("order_status").batch([update(order_id, "SHIPPED")], KEY))
    assert [m["reason"] for m in failure_messages(failures)] == ["order_closed"]
    assert orders.get(order_id)["status"] == "PAYMENT_FAILED"


def test_a_status_before_payment_settles_is_retried_and_holds_its_partition(catalog, sandbox, failures,
                                                                               monkeypatch):
    add("carol", "mug-1", 1)
    monkeypatch.setattr(sandbox, "authorize", lambda **kwargs: (_ for _ in ()).throw(ConnectionError("down")))
    assert checkout("carol", "key-status-0003").status == 503
    (pending,) = orders.list_for_customer("carol", 10, None)[0]
    topic = Topic("order_status", partitions=1)
    result = status_feed.handler(topic.batch([update(pending["order_id"], "PICKED"),
                                              update("o-other", "PICKED")], KEY))
    assert [f["itemIdentifier"]["offset"] for f in result["batchItemFailures"]] == [0, 1]
    assert orders.get(pending["order_id"])["status"] == "PENDING_PAYMENT"
    assert failure_messages(failures) == []           # not set aside: it will apply later
