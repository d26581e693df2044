from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from headless_commerce import model
from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.common import aws, dynamo
from headless_commerce.runtime.common.domain_errors import OrderRejected
from headless_commerce.runtime.fraud.screen import FraudDecision, Outcome
from headless_commerce.runtime.orders import checkout as checkout_service
from tests.runtime.conftest import add, call, checkout

KEY = "key-0001-abcdef"


def outbox_events(detail_type: str | None = None) -> list[dict]:
    items = aws.dynamodb().scan(TableName=dynamo.table_name(),
                                FilterExpression="entity = :e",
                                ExpressionAttributeValues=dynamo.values(e="OUTBOX"))["Items"]
    events = [dynamo.from_item(i) for i in items]
    return [e for e in events if detail_type is None or e["detail_type"] == detail_type]


def test_checkout_confirms_order_decrements_stock_and_clears_cart(catalog, sandbox):
    add("alice", "mug-1", 2)
    add("alice", "tee-s", 1)
    reply = checkout("alice", KEY)
    assert reply.status == 201
    order = reply.body
    assert order["status"] == "CONFIRMED"
    assert order["total"] == {"amount": 2 * 1250 + 1999, "currency": "USD"}
    assert order["payment"] == {"provider": "sandbox", "status": "authorized", "decline_code": None}
    assert catalog_repository.get_stock("mug-1") == 8 and catalog_repository.get_stock("tee-s") == 19
    assert call("GET", "/cart", sub="alice").body["lines"] == []
    assert len(sandbox.charges) == 1 and sandbox.charges[0].amount == 4499
    placed = outbox_events("OrderPlaced")
    assert len(placed) == 1
    event = placed[0]
    assert event["version"] == 1 and event["source"] == "commerce.orders"
    assert event["detail"]["order_id"] == order["order_id"]
    assert event["expires_at"] > 0 and event["entity"] == "OUTBOX"
    assert {e["detail_type"] for e in outbox_events()} == {
        "OrderPlaced", "PaymentAuthorized", "OrderStatusChanged"}
    stored = call("GET", "/orders/{order_id}", sub="alice",
                  path_params={"order_id": order["order_id"]}).body
    assert stored == order


@pytest.mark.parametrize("card_number", ["4111111111111111", "378282246310005", "0000"])
def test_a_card_number_in_place_of_a_token_is_refused_before_anything_is_stored(catalog, sandbox, card_number):
    add("alice", "mug-1", 1)
    reply = checkout("alice", KEY, token=card_number)
    assert reply.status == 400
    assert reply.body["error"]["field"] == "payment_token"
    assert "never a card number" in reply.body["error"]["message"]
    assert sandbox.charges == [] and outbox_events() == []
    items = aws.dynamodb().scan(TableName=dynamo.table_name())["Items"]
    assert card_number not in json.dumps(items)
    assert call("GET", "/cart", sub="alice").body["lines"][0]["sku"] == "mug-1"


def test_checkout_dynamodb_calls(catalog, sandbox, ddb_calls):
    add("alice", "mug-1", 1)
    ddb_calls.reset()
    assert checkout("alice", KEY).status == 201
    # Cart + key, prices, the fraud scorer's customer velocity counter (a test token, no public
    # address and a small order add nothing more), then the placing transaction...
    assert ddb_calls.calls[:4] == ["BatchGetItem", "BatchGetItem", "UpdateItem", "TransactWriteItems"]
    # ...plus one transaction settling the payment (status, payment, events, cart).
    assert ddb_calls.calls[4:] == ["TransactWriteItems"]


def test_checkout_charges_catalog_price_not_cart_snapshot(catalog, sandbox):
    add("alice", "pan-1", 1)
    catalog_repository.put_product({"product_id": "p-pan", "name": "Frying Pan", "category_id": "kitchen",
                              "price_amount": 5000}, [{"sku": "pan-1", "stock": 3}])
    reply = checkout("alice", KEY, unit_price=1)  # unknown property: rejected, not trusted
    assert reply.status == 400 and reply.body["error"]["field"] == "unit_price"
    reply = checkout("alice", KEY)
    assert reply.body["total"]["amount"] == 5000
    assert sandbox.charges[0].amount == 5000


def test_idempotency_key_header_required_and_validated(catalog, sandbox):
    add("alice", "mug-1")
    reply = call("POST", "/checkout", sub="alice", body={"payment_token": "tok_visa"})
    assert reply.status == 400 and reply.body["error"]["field"] == "Idempotency-Key"
    for bad in ("short", "has space in it", "x" * 200, "ü-nicode-key"):
        reply = checkout("alice", bad)
        assert reply.status == 400, bad
        assert reply.body["error"]["code"] == "invalid_idempotency_key"
    assert catalog_repository.get_stock("mug-1") == 10


def test_sequential_retries_make_one_order_and_one_authorization(catalog, sandbox):
    add("alice", "mug-1", 2)
    replies = [checkout("alice", KEY) for _ in range(10)]
    assert {r.status for r in replies} == {201}
    assert len({json.dumps(r.body, sort_keys=True) for r in replies}) == 1
    assert sandbox.authorize_calls == 1 and len(sandbox.authorizations) == 1
    assert catalog_repository.get_stock("mug-1") == 8
    assert len(call("GET", "/orders", sub="alice").body["items"]) == 1
    assert len(outbox_events("OrderPlaced")) == 1


def test_parallel_retries_make_one_order_and_one_authorization(catalog, sandbox):
    add("alice", "mug-1", 2)
    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(lambda _: checkout("alice", KEY), range(10)))
    assert {r.status for r in replies} == {201}, [r.body for r in replies]
    assert len({r.body["order_id"] for r in replies}) == 1
    assert sandbox.authorize_calls == 1 and len(sandbox.charges) == 1
    assert catalog_repository.get_stock("mug-1") == 8
    assert len(call("GET", "/orders", sub="alice").body["items"]) == 1


def test_same_key_different_request_or_cart_is_422(catalog, sandbox):
    add("alice", "mug-1", 1)
    assert checkout("alice", KEY, token="tok_chargeDeclined").status == 402
    reply = checkout("alice", KEY, token="tok_visa")
    assert reply.status == 422 and reply.body["error"]["code"] == "idempotency_key_reused"
    add("alice", "pan-1", 1)  # cart differs from the one the key consumed
    reply = checkout("alice", KEY, token="tok_chargeDeclined")
    assert reply.status == 422 and reply.body["error"]["code"] == "idempotency_key_reused"
    assert sandbox.authorize_calls == 1


def test_keys_are_scoped_per_customer(catalog, sandbox):
    add("alice", "mug-1", 1)
    add("bob", "pan-1", 1)
    alice = checkout("alice", KEY)
    bob = checkout("bob", KEY)
    assert alice.status == bob.status == 201
    assert alice.body["order_id"] != bob.body["order_id"]
    assert bob.body["lines"][0]["sku"] == "pan-1"


def test_declined_payment_releases_stock_once(catalog, sandbox):
    add("alice", "pan-1", 2)
    reply = checkout("alice", KEY, token="tok_chargeDeclined")
    assert reply.status == 402
    assert reply.body["error"]["code"] == "payment_declined"
    assert reply.body["order"]["status"] == "PAYMENT_FAILED"
    assert reply.body["order"]["payment"]["decline_code"] == "card_declined"
    assert catalog_repository.get_stock("pan-1") == 3
    # The cart survives a declined payment so the shopper can pay another way.
    assert call("GET", "/cart", sub="alice").body["lines"][0]["quantity"] == 2
    again = checkout("alice", KEY, token="tok_chargeDeclined")
    assert (again.status, again.body) == (reply.status, reply.body)
    assert catalog_repository.get_stock("pan-1") == 3
    assert sandbox.authorize_calls == 1
    assert len(outbox_events("PaymentFailed")) == 1
    # A new key places a new order from the same cart.
    assert checkout("alice", "key-0002-abcdef").status == 201
    assert catalog_repository.get_stock("pan-1") == 1


def test_fraudulent_token_declines(catalog, sandbox):
    add("alice", "mug-1", 1)
    reply = checkout("alice", KEY, token="tok_fraudulent")
    assert reply.status == 402 and reply.body["order"]["payment"]["decline_code"] == "fraudulent"
    assert catalog_repository.get_stock("mug-1") == 10


def test_out_of_stock_names_the_skus_and_reserves_nothing(catalog, sandbox):
    add("alice", "pan-1", 4)  # stock 3
    add("alice", "cap-1", 1)  # stock 0
    add("alice", "mug-1", 1)
    reply = checkout("alice", KEY)
    assert reply.status == 409
    assert reply.body["error"]["code"] == "out_of_stock"
    assert reply.body["skus"] == ["cap-1", "pan-1"]
    assert "cap-1" in reply.body["error"]["message"] and "pan-1" in reply.body["error"]["message"]
    assert catalog_repository.get_stock("mug-1") == 10 and catalog_repository.get_stock("pan-1") == 3
    assert sandbox.authorize_calls == 0
    assert outbox_events() == []


def test_empty_cart_is_409(table, sandbox):
    reply = checkout("alice", KEY)
    assert reply.status == 409 and reply.body["error"]["code"] == "cart_empty"


def test_sku_removed_from_catalog_is_409(catalog, sandbox):
    add("alice", "mug-1", 1)
    dynamo.delete(model.inventory_key("mug-1"))
    reply = checkout("alice", KEY)
    assert reply.status == 409 and reply.body["skus"] == ["mug-1"]


def test_fraud_screen_can_reject_before_stock_is_reserved(catalog, sandbox):
    add("alice", "mug-1", 1)
    seen = []

    def reject(context):
        seen.append(context)
        return FraudDecision(outcome=Outcome.DENY, reasons=("test",))

    with pytest.raises(OrderRejected):
        checkout_service.checkout("alice", None, KEY, {"payment_token": "tok_visa"}, screen=reject)
    assert seen[0].amount == 1250 and seen[0].customer_id == "alice"
    assert catalog_repository.get_stock("mug-1") == 10 and sandbox.authorize_calls == 0


def test_provider_outage_leaves_order_pending_and_retry_resumes(catalog, sandbox, monkeypatch):
    add("alice", "mug-1", 1)
    real = sandbox.authorize

    def broken(**kwargs):
        raise ConnectionError("provider down")

    monkeypatch.setattr(sandbox, "authorize", broken)
    reply = checkout("alice", KEY)
    assert reply.status == 503 and reply.body["error"]["code"] == "payment_unavailable"
    assert "provider down" not in json.dumps(reply.body)
    monkeypatch.setattr(sandbox, "authorize", real)
    monkeypatch.setattr(checkout_service, "RESUME_AFTER_S", -1)  # the failed invocation is over
    reply = checkout("alice", KEY)
    assert reply.status == 201 and reply.body["status"] == "CONFIRMED"
    assert catalog_repository.get_stock("mug-1") == 9 and len(sandbox.charges) == 1


def test_fifty_shoppers_race_for_ten_units(table, sandbox):
    catalog_repository.put_product({"product_id": "p-hot", "name": "Hot Item", "price_amount": 999},
                             [{"sku": "hot-1", "stock": 10}])
    shoppers = [f"shopper{i:02d}" for i in range(50)]
    for sub in shoppers:
        assert add(sub, "hot-1", 1).status == 200
    start = threading.Barrier(50)

    def go(sub):
        start.wait()
        return checkout(sub, f"key-{sub}")

    with ThreadPoolExecutor(50) as pool:
        replies = list(pool.map(go, shoppers))
    statuses = [r.status for r in replies]
    assert statuses.count(201) == 10, statuses
    assert statuses.count(409) == 40
    assert all(r.body["error"]["code"] == "out_of_stock" for r in replies if r.status == 409)
    assert catalog_repository.get_stock("hot-1") == 0
    assert len(sandbox.charges) == 10
    assert len(outbox_events("OrderPlaced")) == 10


def test_one_cart_checked_out_concurrently_with_different_keys_makes_one_order(catalog, sandbox):
    """A double click or two tabs: N checkouts of one cart, each with its own key."""
    add("alice", "mug-1", 2)
    add("alice", "tee-s", 1)
    start = threading.Barrier(4)

    def go(index):
        start.wait()
        return checkout("alice", f"tab-{index}-key-0001")

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(go, range(4)))
    winners = [r for r in replies if r.status == 201]
    losers = [r for r in replies if r.status != 201]
    assert len(winners) == 1, [(r.status, r.body) for r in replies]
    order_id = winners[0].body["order_id"]
    assert {r.status for r in losers} == {409}
    assert {r.body["error"]["code"] for r in losers} == {"cart_already_checked_out"}
    assert {r.body["order_id"] for r in losers} == {order_id}   # where to redirect
    assert sandbox.authorize_calls == 1 and len(sandbox.authorizations) == 1
    assert catalog_repository.get_stock("mug-1") == 8 and catalog_repository.get_stock("tee-s") == 19
    assert [o["order_id"] for o in call("GET", "/orders", sub="alice").body["items"]] == [order_id]
    assert [e["detail"]["order_id"] for e in outbox_events("OrderPlaced")] == [order_id]


def test_a_consumed_cart_cannot_be_checked_out_again_with_a_new_key(catalog, sandbox):
    add("alice", "mug-1", 1)
    first = checkout("alice", KEY)
    assert first.status == 201
    again = checkout("alice", "key-0002-abcdef")
    assert again.status == 409 and again.body["error"]["code"] == "cart_already_checked_out"
    assert again.body["order_id"] == first.body["order_id"]
    # The next line starts a new cart, which checks out normally.
    add("alice", "pan-1", 1)
    assert call("GET", "/cart", sub="alice").body["lines"][0]["sku"] == "pan-1"
    assert checkout("alice", "key-0003-abcdef").status == 201
    assert sandbox.authorize_calls == 2


def test_placing_fails_when_the_cart_changed_after_it_was_priced(catalog, sandbox, monkeypatch):
    """The cart condition is checked in the placing transaction itself: a cart changed between
    the read and the write places nothing (no order, no stock, no event)."""
    add("alice", "mug-1", 1)
    real_price = checkout_service._price

    def price_then_shopper_edits(lines):
        priced = real_price(lines)
        assert add("alice", "pan-1", 1).status == 200
        return priced

    monkeypatch.setattr(checkout_service, "_price", price_then_shopper_edits)
    reply = checkout("alice", KEY)
    assert reply.status == 409 and reply.body["error"]["code"] == "cart_changed"
    assert catalog_repository.get_stock("mug-1") == 10 and sandbox.authorize_calls == 0
    assert outbox_events() == []


def test_declined_payment_gives_the_lines_back_and_a_confirmed_one_keeps_the_cart_empty(catalog, sandbox):
    """A declined payment returns the lines to the cart; a confirmed one never touches it."""
    add("alice", "mug-1", 1)
    declined = checkout("alice", KEY, token="tok_chargeDeclined")
    assert declined.status == 402
    cart = call("GET", "/cart", sub="alice").body
    assert [line["sku"] for line in cart["lines"]] == ["mug-1"]
    placed = checkout("alice", "key-0002-abcdef")
    assert placed.status == 201
    assert call("GET", "/cart", sub="alice").body["lines"] == []
    assert catalog_repository.get_stock("mug-1") == 9


def published_metrics(out: str) -> list[str]:
    """Names of the metrics each invocation published (CloudWatch embedded metric format)."""
    names = []
    for line in out.splitlines():
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if isinstance(blob, dict) and "_aws" in blob:
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                assert directive["Namespace"] == "HeadlessCommerce"
                for metric in directive["Metrics"]:
                    value = blob[metric["Name"]]
                    names += [metric["Name"]] * (len(value) if isinstance(value, list) else int(value))
    return names


def test_checkout_publishes_business_metrics(catalog, sandbox, capsys):
    add("alice", "pan-1", 4)   # stock 3
    capsys.readouterr()
    assert checkout("alice", KEY).status == 409
    assert published_metrics(capsys.readouterr().out) == ["FraudApproved", "OutOfStock"]
    call("PATCH", "/cart/items/{sku}", sub="alice", path_params={"sku": "pan-1"}, body={"quantity": 1})
    capsys.readouterr()
    assert checkout("alice", "key-0002-abcdef", token="tok_chargeDeclined").status == 402
    assert sorted(published_metrics(capsys.readouterr().out)) == ["FraudApproved", "OrdersPlaced", "PaymentDeclines"]
    assert checkout("alice", "key-0003-abcdef").status == 201
    assert checkout("alice", "key-0004-abcdef").status == 409   # the cart is consumed
    # A consumed cart is refused before screening: one decision, for the order placed.
    assert sorted(published_metrics(capsys.readouterr().out)) == [
        "CheckoutConflicts", "FraudApproved", "OrdersPlaced"]
