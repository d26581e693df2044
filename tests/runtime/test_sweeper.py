"""The pending-order sweeper: stuck PENDING_PAYMENT orders are confirmed or failed (stock
released once), found through the sparse pending-order index, racing checkout retries safely."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from headless_commerce import model
from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.common import aws, dynamo
from headless_commerce.runtime.events.contracts import validate_event
from headless_commerce.runtime.orders import checkout as checkout_service
from headless_commerce.runtime.orders import repository as orders_repository
from headless_commerce.runtime.orders import sweeper
from headless_commerce.runtime.payments.stripe_provider import StripeProvider
from tests.runtime.conftest import add, call, checkout
from tests.runtime.test_checkout import outbox_events
from tests.runtime.test_payments import FakeStripeHttp, intent

TIMEOUT = timedelta(minutes=15)
INDEX_KEYS = (model.GSI2.partition_key, model.GSI2.sort_key)


def later(minutes: float) -> datetime:
    """A sweep `minutes` from now: orders placed now are that old then."""
    return datetime.now(UTC) + timedelta(minutes=minutes)


def raw_order(order_id: str) -> dict:
    """The order item as stored, attribute names only matter here (DynamoDB JSON)."""
    return aws.dynamodb().get_item(TableName=dynamo.table_name(),
                                   Key=dynamo.to_item(model.order_key(order_id)),
                                   ConsistentRead=True)["Item"]


def index_entries() -> list[dict]:
    """Everything in the pending-order index, all shards."""
    found = []
    for partition in model.pending_order_partitions():
        items, _ = dynamo.query(IndexName=model.GSI2.name, KeyConditionExpression="#pk = :pk",
                                ExpressionAttributeNames={"#pk": model.GSI2.partition_key},
                                ExpressionAttributeValues=dynamo.values(pk=partition))
        found += items
    return found


def stuck_order(sandbox, monkeypatch, sub: str = "alice", sku: str = "pan-1", quantity: int = 1,
                key: str = "key-stuck-0001", authorized_with: str | None = None) -> str:
    """An order whose checkout lost its provider call and whose client never retried.

    authorized_with: the provider recorded an authorization with this token before the call
    failed (a timeout after the provider acted); None: the provider never saw the call."""
    assert add(sub, sku, quantity).status == 200
    real = sandbox.authorize

    def lost(**kwargs):
        if authorized_with is not None:
            real(**{**kwargs, "token": authorized_with})
        raise TimeoutError("provider timed out")

    with monkeypatch.context() as patch:
        patch.setattr(sandbox, "authorize", lost)
        assert checkout(sub, key).status == 503
    (summary,) = [o for o in call("GET", "/orders", sub=sub).body["items"]
                  if o["status"] == "PENDING_PAYMENT"]
    return summary["order_id"]


def events_of(order_id: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for event in outbox_events():
        if event["detail"].get("order_id") == order_id:
            found.setdefault(event["detail_type"], []).append(event)
    return found


# ---- the index -------------------------------------------------------------------------

def test_pending_order_is_indexed_and_settling_removes_the_entry(catalog, sandbox, monkeypatch):
    order_id = stuck_order(sandbox, monkeypatch)
    item = raw_order(order_id)
    assert item["gsi2pk"]["S"].startswith("ORDERS#PENDING_PAYMENT#")
    assert item["gsi2pk"]["S"] in model.pending_order_partitions()
    assert item["gsi2sk"]["S"] == f"{item['created_at']['S']}#{order_id}"
    assert [o["order_id"] for o in index_entries()] == [order_id]
    # Checkout's own settlement (confirmed and declined) leaves nothing in the index either.
    add("bob", "mug-1")
    assert checkout("bob", "key-bob-00001").status == 201
    add("carol", "mug-1")
    assert checkout("carol", "key-carol-0001", token="tok_chargeDeclined").status == 402
    for sub in ("bob", "carol"):
        (order,) = call("GET", "/orders", sub=sub).body["items"]
        assert not set(INDEX_KEYS) & set(raw_order(order["order_id"]))
    assert [o["order_id"] for o in index_entries()] == [order_id]
    # The catalog's use of GSI2 (products by category) never sees orders.
    products = call("GET", "/products", query={"category": "kitchen"}).body["items"]
    assert {p["product_id"] for p in products} == {"p-mug", "p-pan"}


def test_index_keys_spread_over_shards():
    keys = [model.pending_order_index_keys("2026-01-31T12:00:00.000000Z", f"order{i}")
            for i in range(64)]
    assert {k["gsi2pk"] for k in keys} == set(model.pending_order_partitions())
    assert len(model.pending_order_partitions()) == model.PENDING_ORDER_SHARDS
    again = model.pending_order_index_keys("2026-01-31T12:00:00.000000Z", "order7")
    assert again == keys[7]  # a pure function of the order id


# ---- settling --------------------------------------------------------------------------

def test_stuck_order_without_authorization_fails_and_releases_stock(catalog, sandbox, monkeypatch):
    order_id = stuck_order(sandbox, monkeypatch, quantity=2)
    assert catalog_repository.get_stock("pan-1") == 1
    counts = sweeper.sweep(later(16), TIMEOUT)
    assert counts == {"found": 1, "confirmed": 0, "failed": 1, "already_settled": 0,
                      "deferred": 0, "more": False}
    assert catalog_repository.get_stock("pan-1") == 3
    order = orders_repository.get(order_id)
    assert order["status"] == "PAYMENT_FAILED"
    assert order["payment"]["status"] == "declined"
    assert order["payment"]["decline_code"] == sweeper.NO_AUTHORIZATION
    assert not set(INDEX_KEYS) & set(raw_order(order_id))
    events = events_of(order_id)
    assert {name: len(found) for name, found in events.items()} == {
        "OrderPlaced": 1, "PaymentFailed": 1, "OrderStatusChanged": 1}
    for found in events.values():
        validate_event({k: v for k, v in found[0].items()
                        if k not in ("pk", "sk", "entity", "expires_at")})
    assert events["OrderStatusChanged"][0]["detail"] == {
        "order_id": order_id, "customer_id": "alice", "from": "PENDING_PAYMENT",
        "to": "PAYMENT_FAILED"}
    assert events["PaymentFailed"][0]["detail"]["decline_code"] == "payment_timeout"
    assert sandbox.authorize_calls == 0  # the call was lost; the sweeper never authorizes


def test_stuck_order_with_authorization_is_confirmed_and_cart_cleared(catalog, sandbox, monkeypatch):
    order_id = stuck_order(sandbox, monkeypatch, authorized_with="tok_visa")
    calls = sandbox.authorize_calls
    counts = sweeper.sweep(later(16), TIMEOUT)
    assert (counts["confirmed"], counts["failed"]) == (1, 0)
    order = orders_repository.get(order_id)
    assert order["status"] == "CONFIRMED" and order["payment"]["status"] == "authorized"
    assert order["payment"]["reference"] == f"sbx_auth_{order_id}"
    assert catalog_repository.get_stock("pan-1") == 2  # stays sold
    assert sandbox.authorize_calls == calls and len(sandbox.charges) == 1
    assert {name: len(found) for name, found in events_of(order_id).items()} == {
        "OrderPlaced": 1, "PaymentAuthorized": 1, "OrderStatusChanged": 1}
    # Settled like checkout would: the unchanged cart that became the order is cleared.
    assert call("GET", "/cart", sub="alice").body["lines"] == []
    assert not set(INDEX_KEYS) & set(raw_order(order_id))


def test_confirmed_order_keeps_the_new_cart_the_shopper_started(catalog, sandbox, monkeypatch):
    stuck_order(sandbox, monkeypatch, authorized_with="tok_visa")
    # Placing the order consumed the cart: what the shopper adds now is a new cart.
    add("alice", "mug-1")
    assert sweeper.sweep(later(16), TIMEOUT)["confirmed"] == 1
    skus = {line["sku"] for line in call("GET", "/cart", sub="alice").body["lines"]}
    assert skus == {"mug-1"}


def test_declined_authorization_fails_with_its_decline_code(catalog, sandbox, monkeypatch):
    order_id = stuck_order(sandbox, monkeypatch, authorized_with="tok_chargeDeclined")
    assert sweeper.sweep(later(16), TIMEOUT)["failed"] == 1
    order = orders_repository.get(order_id)
    assert order["status"] == "PAYMENT_FAILED" and order["payment"]["decline_code"] == "card_declined"
    assert catalog_repository.get_stock("pan-1") == 3


def test_orders_younger_than_the_timeout_are_untouched(catalog, sandbox, monkeypatch):
    order_id = stuck_order(sandbox, monkeypatch)
    before = raw_order(order_id)
    counts = sweeper.sweep(later(14), TIMEOUT)
    assert counts["found"] == 0
    assert raw_order(order_id) == before
    assert catalog_repository.get_stock("pan-1") == 2
    assert set(events_of(order_id)) == {"OrderPlaced"}


def test_settled_orders_are_not_swept(catalog, sandbox, monkeypatch):
    add("bob", "mug-1")
    assert checkout("bob", "key-bob-00001").status == 201
    (order,) = call("GET", "/orders", sub="bob").body["items"]
    before = raw_order(order["order_id"])
    assert sweeper.sweep(later(60), TIMEOUT)["found"] == 0
    assert raw_order(order["order_id"]) == before


def test_sweeping_twice_changes_nothing_the_second_time(catalog, sandbox, monkeypatch):
    failed = stuck_order(sandbox, monkeypatch, sub="alice", key="key-alice-001")
    confirmed = stuck_order(sandbox, monkeypatch, sub="bob", sku="mug-1", key="key-bob-00001",
                            authorized_with="tok_visa")
    first = sweeper.sweep(later(16), TIMEOUT)
    assert (first["failed"], first["confirmed"]) == (1, 1)
    snapshot = ([raw_order(failed), raw_order(confirmed)], len(outbox_events()),
                catalog_repository.get_stock("pan-1"), catalog_repository.get_stock("mug-1"))
    second = sweeper.sweep(later(16), TIMEOUT)
    assert second == {"found": 0, "confirmed": 0, "failed": 0, "already_settled": 0,
                      "deferred": 0, "more": False}
    assert ([raw_order(failed), raw_order(confirmed)], len(outbox_events()),
            catalog_repository.get_stock("pan-1"), catalog_repository.get_stock("mug-1")) == snapshot


def test_checkout_retry_after_the_sweep_returns_the_settled_order(catalog, sandbox, monkeypatch):
    failed = stuck_order(sandbox, monkeypatch, sub="alice", key="key-alice-001")
    confirmed = stuck_order(sandbox, monkeypatch, sub="bob", sku="mug-1", key="key-bob-00001",
                            authorized_with="tok_visa")
    sweeper.sweep(later(16), TIMEOUT)
    calls, events = sandbox.authorize_calls, len(outbox_events())
    monkeypatch.setattr(checkout_service, "RESUME_AFTER_S", -1)
    reply = checkout("alice", "key-alice-001")
    assert reply.status == 402 and reply.body["order"]["order_id"] == failed
    assert reply.body["order"]["status"] == "PAYMENT_FAILED"
    reply = checkout("bob", "key-bob-00001")
    assert reply.status == 201 and reply.body["order_id"] == confirmed
    assert reply.body["status"] == "CONFIRMED"
    assert sandbox.authorize_calls == calls and len(outbox_events()) == events
    assert catalog_repository.get_stock("pan-1") == 3 and catalog_repository.get_stock("mug-1") == 9


# ---- races -----------------------------------------------------------------------------

def test_retry_authorizing_while_the_sweeper_fails_the_order_voids_its_hold(
        catalog, sandbox, monkeypatch):
    """The interleaving that matters, made deterministic: the retry has read the order as
    pending and is talking to the provider when the sweeper (seeing no authorization) fails it."""
    order_id = stuck_order(sandbox, monkeypatch)
    real = sandbox.authorize

    def authorize_after_sweep(**kwargs):
        assert sweeper.sweep(later(16), TIMEOUT)["failed"] == 1
        return real(**kwargs)

    monkeypatch.setattr(sandbox, "authorize", authorize_after_sweep)
    monkeypatch.setattr(checkout_service, "RESUME_AFTER_S", -1)
    reply = checkout("alice", "key-stuck-0001")
    assert reply.status == 402 and reply.body["order"]["status"] == "PAYMENT_FAILED"
    assert catalog_repository.get_stock("pan-1") == 3  # released once, by the sweeper
    assert f"sbx_auth_{order_id}" in sandbox.voided and sandbox.charges == []
    assert sandbox.find_authorization(order_id).approved is False
    assert len(events_of(order_id)["PaymentFailed"]) == 1
    assert "PaymentAuthorized" not in events_of(order_id)


@pytest.mark.parametrize("round_", range(6))
def test_sweeper_and_checkout_retry_race(catalog, sandbox, monkeypatch, round_):
    order_id = stuck_order(sandbox, monkeypatch, quantity=2)
    real = sandbox.authorize

    def slow_authorize(**kwargs):
        time.sleep(0.002 * round_)  # vary the interleaving from round to round
        return real(**kwargs)

    monkeypatch.setattr(sandbox, "authorize", slow_authorize)
    monkeypatch.setattr(checkout_service, "RESUME_AFTER_S", -1)
    start = threading.Barrier(3)

    def sweep():
        start.wait()
        return sweeper.sweep(later(16), TIMEOUT)

    def retry():
        start.wait()
        return checkout("alice", "key-stuck-0001")

    with ThreadPoolExecutor(3) as pool:
        sweeps = [pool.submit(sweep), pool.submit(sweep)]
        reply = pool.submit(retry).result()
        counts = [s.result() for s in sweeps]

    order = orders_repository.get(order_id)
    status = order["status"]
    assert status in ("CONFIRMED", "PAYMENT_FAILED")
    events = events_of(order_id)
    assert len(events["OrderStatusChanged"]) == 1
    assert events["OrderStatusChanged"][0]["detail"]["to"] == status
    assert sum(c["confirmed"] + c["failed"] for c in counts) <= 1
    if status == "CONFIRMED":
        assert reply.status == 201 and reply.body["status"] == "CONFIRMED"
        assert catalog_repository.get_stock("pan-1") == 1
        assert [a.order_id for a in sandbox.charges] == [order_id]
        assert set(events) == {"OrderPlaced", "PaymentAuthorized", "OrderStatusChanged"}
    else:
        assert reply.status == 402 and reply.body["order"]["status"] == "PAYMENT_FAILED"
        assert catalog_repository.get_stock("pan-1") == 3  # released exactly once
        assert sandbox.charges == []  # an authorization that lost the race was voided
        assert set(events) == {"OrderPlaced", "PaymentFailed", "OrderStatusChanged"}
    assert not set(INDEX_KEYS) & set(raw_order(order_id))


def test_sweeper_loses_to_a_concurrent_settle_without_changing_anything(
        catalog, sandbox, monkeypatch):
    """A checkout retry settles the order while the sweeper is asking the provider."""
    order_id = stuck_order(sandbox, monkeypatch, quantity=2)
    monkeypatch.setattr(checkout_service, "RESUME_AFTER_S", -1)
    real = sandbox.find_authorization
    replies = []

    def retry_meanwhile(order_id):
        found = real(order_id)  # nothing yet: the sweeper would fail the order...
        replies.append(checkout("alice", "key-stuck-0001"))  # ...but the retry confirms it
        return found

    monkeypatch.setattr(sandbox, "find_authorization", retry_meanwhile)
    counts = sweeper.sweep(later(16), TIMEOUT)
    assert (counts["already_settled"], counts["failed"], counts["confirmed"]) == (1, 0, 0)
    assert replies[0].status == 201
    order = orders_repository.get(order_id)
    assert order["status"] == "CONFIRMED" and order["payment"]["status"] == "authorized"
    assert catalog_repository.get_stock("pan-1") == 1  # not released
    assert len(events_of(order_id)["OrderStatusChanged"]) == 1
    assert "PaymentFailed" not in events_of(order_id)


# ---- work bounds, index paging, provider failures ----------------------------------------

def test_oldest_first_bounded_per_run_across_shards(table, sandbox, monkeypatch):
    catalog_repository.put_product({"product_id": "p-bulk", "name": "Bulk", "price_amount": 100},
                             [{"sku": "bulk-1", "stock": 100}])
    order_ids = [stuck_order(sandbox, monkeypatch, sub=f"shopper{i:02d}", sku="bulk-1",
                             key=f"key-shopper{i:02d}") for i in range(12)]
    assert len({raw_order(o)["gsi2pk"]["S"] for o in order_ids}) > 1  # spread over shards
    first = sweeper.sweep(later(16), TIMEOUT, limit=5)
    assert (first["found"], first["failed"], first["more"]) == (5, 5, True)
    settled = {o for o in order_ids if orders_repository.get(o)["status"] == "PAYMENT_FAILED"}
    assert settled == set(order_ids[:5])  # the oldest five, whatever their shard
    rest = sweeper.sweep(later(16), TIMEOUT, limit=100)
    assert (rest["found"], rest["failed"], rest["more"]) == (7, 7, False)
    assert catalog_repository.get_stock("bulk-1") == 100


def test_index_pages_are_followed(catalog, sandbox, monkeypatch):
    order_ids = {stuck_order(sandbox, monkeypatch, sub=f"s{i}", sku="mug-1", key=f"key-s{i}-0001")
                 for i in range(4)}
    real_query = dynamo.query
    pages = []

    def one_item_pages(**kwargs):  # what a 1 MB page limit does to large orders
        items, last = real_query(**{**kwargs, "Limit": 1})
        pages.append(len(items))
        return items, last

    monkeypatch.setattr(orders_repository.dynamo, "query", one_item_pages)
    found, more = orders_repository.pending_before(later(16).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), 100)
    assert {o["order_id"] for o in found} == order_ids and more is False
    assert sum(pages) == 4


def test_provider_failure_defers_that_order_only(catalog, sandbox, monkeypatch):
    broken = stuck_order(sandbox, monkeypatch, sub="alice", key="key-alice-001")
    fine = stuck_order(sandbox, monkeypatch, sub="bob", sku="mug-1", key="key-bob-00001")
    real = sandbox.find_authorization

    def flaky(order_id):
        if order_id == broken:
            raise ConnectionError("provider down")
        return real(order_id)

    monkeypatch.setattr(sandbox, "find_authorization", flaky)
    counts = sweeper.sweep(later(16), TIMEOUT)
    assert (counts["failed"], counts["deferred"]) == (1, 1)
    assert orders_repository.get(broken)["status"] == "PENDING_PAYMENT"
    assert orders_repository.get(fine)["status"] == "PAYMENT_FAILED"
    assert [o["order_id"] for o in index_entries()] == [broken]  # picked up next run
    monkeypatch.setattr(sandbox, "find_authorization", real)
    assert sweeper.sweep(later(16), TIMEOUT)["failed"] == 1
    assert index_entries() == []


def test_stops_starting_orders_near_the_invocation_timeout(catalog, sandbox, monkeypatch):
    order_id = stuck_order(sandbox, monkeypatch)
    counts = sweeper.sweep(later(16), TIMEOUT, time_left_ms=lambda: sweeper.RESERVE_MS - 1)
    assert (counts["found"], counts["failed"], counts["more"]) == (1, 0, True)
    assert orders_repository.get(order_id)["status"] == "PENDING_PAYMENT"


def test_sweep_refuses_a_timeout_that_would_race_checkouts_in_flight(table, sandbox):
    with pytest.raises(ValueError, match="checkout"):
        sweeper.sweep(later(0), timedelta(seconds=10))
    with pytest.raises(ValueError, match="timezone"):
        sweeper.sweep(datetime.now(), TIMEOUT)


# ---- the Lambda handler ----------------------------------------------------------------

class Context:
    def __init__(self, remaining_ms: int = 120_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def backdate(order_id: str, minutes: float) -> None:
    """Make a stuck order `minutes` old (created_at and its index sort key)."""
    created = (datetime.now(UTC) - timedelta(minutes=minutes)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    aws.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.to_item(model.order_key(order_id)),
        UpdateExpression="SET created_at = :c, gsi2sk = :s",
        ExpressionAttributeValues=dynamo.values(c=created, s=f"{created}#{order_id}"))


def test_handler_reads_the_timeout_from_the_environment(catalog, sandbox, monkeypatch):
    old = stuck_order(sandbox, monkeypatch, sub="alice", key="key-alice-001")
    newer = stuck_order(sandbox, monkeypatch, sub="bob", sku="mug-1", key="key-bob-00001")
    backdate(old, 40)
    backdate(newer, 20)
    monkeypatch.setenv("PENDING_ORDER_TIMEOUT_MINUTES", "30")
    assert sweeper.handler({}, Context())["failed"] == 1
    assert orders_repository.get(old)["status"] == "PAYMENT_FAILED"
    assert orders_repository.get(newer)["status"] == "PENDING_PAYMENT"
    monkeypatch.delenv("PENDING_ORDER_TIMEOUT_MINUTES")  # default: 15
    assert sweeper.timeout_from_env() == timedelta(minutes=15)
    assert sweeper.handler({}, Context())["failed"] == 1
    assert orders_repository.get(newer)["status"] == "PAYMENT_FAILED"


@pytest.mark.parametrize("value", ["abc", "", " ", "0", "-5", "1.5", "15m"])
def test_handler_rejects_a_bad_timeout_before_touching_any_order(
        catalog, sandbox, monkeypatch, ddb_calls, value):
    order_id = stuck_order(sandbox, monkeypatch)
    backdate(order_id, 60)
    monkeypatch.setenv("PENDING_ORDER_TIMEOUT_MINUTES", value)
    ddb_calls.reset()
    with pytest.raises(ValueError, match="PENDING_ORDER_TIMEOUT_MINUTES") as raised:
        sweeper.handler({}, Context())
    assert repr(value) in str(raised.value)
    assert ddb_calls.calls == []
    assert orders_repository.get(order_id)["status"] == "PENDING_PAYMENT"


def test_handler_fails_the_invocation_when_the_provider_fails_for_every_order(
        catalog, sandbox, monkeypatch):
    order_id = stuck_order(sandbox, monkeypatch)
    backdate(order_id, 60)

    def down(order_id):
        raise ConnectionError("provider down")

    monkeypatch.setattr(sandbox, "find_authorization", down)
    with pytest.raises(RuntimeError, match="could not settle any"):
        sweeper.handler({}, Context())
    assert orders_repository.get(order_id)["status"] == "PENDING_PAYMENT"


def test_handler_with_nothing_to_do(table, sandbox):
    assert sweeper.handler({}, None) == {"found": 0, "confirmed": 0, "failed": 0,
                                         "already_settled": 0, "deferred": 0, "more": False}


# ---- providers: read-only lookup and void ------------------------------------------------

def test_sandbox_find_authorization_is_read_only(table):
    from headless_commerce.runtime.payments.sandbox import SandboxProvider

    sandbox = SandboxProvider()
    assert sandbox.find_authorization("o1") is None  # e.g. another process's ledger
    approved = sandbox.authorize(order_id="o1", amount=100, currency="USD", token="tok_visa")
    assert sandbox.find_authorization("o1") == approved
    assert sandbox.authorize_calls == 1 and len(sandbox.authorizations) == 1
    assert sandbox.void(approved.id)["status"] == "canceled"
    assert sandbox.charges == [] and sandbox.find_authorization("o1").decline_code == "voided"
    with pytest.raises(ValueError):
        sandbox.capture(approved.id)
    captured = sandbox.authorize(order_id="o2", amount=100, currency="USD", token="tok_visa")
    sandbox.capture(captured.id)
    with pytest.raises(ValueError):
        sandbox.void(captured.id)


def search_result(*intents: dict) -> dict:
    return {"object": "search_result", "data": list(intents), "has_more": False,
            "next_page": None, "url": "/v1/payment_intents/search"}


def stripe(*responses) -> tuple[StripeProvider, FakeStripeHttp]:
    http = FakeStripeHttp(list(responses))
    return StripeProvider(lambda: {"api_key": "sk_test_x"}, http_client=http), http


def test_stripe_find_authorization_searches_by_order_metadata():
    provider, http = stripe((200, search_result(intent("requires_capture", created=2))))
    auth = provider.find_authorization("o1")
    assert auth.approved and auth.id == "pi_123" and auth.amount == 500 and auth.currency == "USD"
    method, url, headers, form = http.requests[0]
    assert method == "get" and "/v1/payment_intents/search" in url and form == {}
    query = parse_qs(urlsplit(url).query)
    assert query["query"] == ["metadata['order_id']:'o1'"]
    assert "Idempotency-Key" not in headers


def test_stripe_find_authorization_outcomes():
    provider, _ = stripe((200, search_result()))
    assert provider.find_authorization("o1") is None
    other_order = intent("requires_capture", metadata={"order_id": "o10"})
    provider, _ = stripe((200, search_result(other_order)))
    assert provider.find_authorization("o1") is None
    declined = intent("requires_payment_method", last_payment_error={"code": "card_declined"})
    provider, _ = stripe((200, search_result(declined)))
    auth = provider.find_authorization("o1")
    assert not auth.approved and auth.decline_code == "card_declined"
    provider, _ = stripe((200, search_result(intent("canceled"))))
    assert provider.find_authorization("o1").decline_code == "canceled"
    provider, _ = stripe((200, search_result(intent("canceled", id="pi_1", created=1),
                                             intent("succeeded", id="pi_2", created=2))))
    assert provider.find_authorization("o1").id == "pi_2"
    provider, _ = stripe((200, search_result(intent("processing"))))
    with pytest.raises(RuntimeError, match="processing"):
        provider.find_authorization("o1")


def test_stripe_void_cancels_the_payment_intent():
    provider, http = stripe((200, intent("canceled")))
    assert provider.void("pi_123") == {"id": "pi_123", "status": "canceled"}
    method, url, headers, form = http.requests[0]
    assert method == "post" and url.endswith("/v1/payment_intents/pi_123/cancel")
    assert form["cancellation_reason"] == ["abandoned"]
    assert headers["Idempotency-Key"] == "void-pi_123"


def test_sweeper_with_stripe_confirms_an_authorized_order(catalog, sandbox, monkeypatch):
    order_id = stuck_order(sandbox, monkeypatch)
    found = intent("requires_capture", metadata={"order_id": order_id}, amount=4500)
    provider, http = stripe((200, search_result(found)))
    counts = sweeper.sweep(later(16), TIMEOUT, provider=provider)
    assert counts["confirmed"] == 1 and len(http.requests) == 1
    order = orders_repository.get(order_id)
    assert order["status"] == "CONFIRMED" and order["payment"]["provider"] == "stripe"
    assert order["payment"]["reference"] == "pi_123"
