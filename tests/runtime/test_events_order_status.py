"""Applying OrderStatusChanged to orders: forward only, idempotent, never ahead of payment."""

from __future__ import annotations

import pytest

from headless_commerce import model
from headless_commerce.runtime.common import dynamo
from headless_commerce.runtime.orders import repository as orders_repository
from headless_commerce.runtime.orders import status_events
from headless_commerce.runtime.orders.status_events import APPLY, SKIP, WAIT, decide
from tests.runtime.conftest import add, checkout, eventbridge_event, example_event, sqs_event

S = model.OrderStatus


@pytest.mark.parametrize("current,target,expected", [
    ("CONFIRMED", "ACCEPTED_BY_OMS", APPLY),
    ("CONFIRMED", "SHIPPED", APPLY),              # a skipped step is fine, backwards is not
    ("ACCEPTED_BY_OMS", "SHIPPED", APPLY),
    ("SHIPPED", "DELIVERED", APPLY),
    ("SHIPPED", "CANCELLED", APPLY),
    ("ACCEPTED_BY_OMS", "ACCEPTED_BY_OMS", SKIP),  # the same event again
    ("SHIPPED", "ACCEPTED_BY_OMS", SKIP),          # an older event after a newer one
    ("DELIVERED", "SHIPPED", SKIP),
    ("CANCELLED", "SHIPPED", SKIP),                # terminal
    ("PAYMENT_FAILED", "ACCEPTED_BY_OMS", SKIP),   # terminal: the OMS accepted an unpaid order
    ("ACCEPTED_BY_OMS", "CONFIRMED", SKIP),        # payment-owned statuses are never applied
    ("PENDING_PAYMENT", "CONFIRMED", SKIP),
    ("PENDING_PAYMENT", "ACCEPTED_BY_OMS", WAIT),  # payment has not settled yet
    ("PENDING_PAYMENT", "CANCELLED", WAIT),
    ("ON_HOLD", "CANCELLED", WAIT),  # held for fraud review: only a reviewer moves it
    ("ON_HOLD", "ACCEPTED_BY_OMS", WAIT),
])
def test_decide(current, target, expected):
    assert decide(current, target) == expected


def test_every_status_has_a_rank_and_terminals_outrank_the_rest():
    assert set(model.ORDER_STATUS_RANK) == {s.value for s in S}
    ordered = ["PENDING_PAYMENT", "CONFIRMED", "ACCEPTED_BY_OMS", "SHIPPED", "DELIVERED"]
    assert [model.ORDER_STATUS_RANK[s] for s in ordered] == sorted(model.ORDER_STATUS_RANK[s] for s in ordered)
    for terminal in model.TERMINAL_ORDER_STATUSES:
        assert model.ORDER_STATUS_RANK[terminal] > max(model.ORDER_STATUS_RANK[s] for s in ordered)


@pytest.fixture
def order(catalog, sandbox) -> dict:
    add("alice", "mug-1", 1)
    return checkout("alice", "key-status-0001").body


def status(order_id: str, to: str, **detail) -> dict:
    return example_event("OrderStatusChanged", {"order_id": order_id, "to": to, **detail})


def deliver(*envelopes: dict) -> dict:
    return status_events.handler(sqs_event(*[eventbridge_event(e) for e in envelopes]), None)


def test_status_moves_forward_and_records_the_event(order, dead_letters):
    accepted, shipped = status(order["order_id"], "ACCEPTED_BY_OMS"), status(order["order_id"], "SHIPPED")
    assert deliver(accepted) == {"batchItemFailures": []}
    stored = orders_repository.get(order["order_id"])
    assert stored["status"] == "ACCEPTED_BY_OMS" and stored["status_event_id"] == accepted["id"]
    assert stored["updated_at"] > order["updated_at"]
    assert deliver(shipped, accepted) == {"batchItemFailures": []}   # late duplicate after newer
    after = orders_repository.get(order["order_id"])
    assert after["status"] == "SHIPPED" and after["status_event_id"] == shipped["id"]
    assert deliver(status(order["order_id"], "CONFIRMED", **{"from": "PENDING_PAYMENT"})) == {"batchItemFailures": []}
    assert orders_repository.get(order["order_id"]) == after


def test_pending_order_is_retried_not_overtaken(catalog, sandbox, dead_letters):
    """The OMS hears of an order before its payment settles; the status must wait, or
    settlement (conditioned on PENDING_PAYMENT) would no longer apply."""
    add("alice", "mug-1", 1)
    placed = checkout("alice", "key-status-0002", token="tok_visa").body
    order_id = placed["order_id"]
    # Put the order back in the window between placement and settlement.
    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.to_item(model.order_key(order_id)),
        UpdateExpression="SET #s = :p", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=dynamo.values(p="PENDING_PAYMENT"))
    assert deliver(status(order_id, "ACCEPTED_BY_OMS")) == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert orders_repository.get(order_id)["status"] == "PENDING_PAYMENT"


def test_unknown_order_and_foreign_customer_are_dropped_not_retried(order, dead_letters):
    assert deliver(status("no-such-order", "SHIPPED")) == {"batchItemFailures": []}
    assert deliver(status(order["order_id"], "SHIPPED", customer_id="mallory")) == {"batchItemFailures": []}
    assert orders_repository.get(order["order_id"])["status"] == "CONFIRMED"


def test_concurrent_change_is_re_decided_not_overwritten(order, monkeypatch):
    """The order moves to DELIVERED between the read and the write: the compare-and-set
    fails, the re-read sees DELIVERED, and SHIPPED is dropped instead of moving it back."""
    real_get = orders_repository.get
    calls = []

    def racing_get(order_id):
        found = real_get(order_id)
        if not calls:
            delivered = status(order_id, "DELIVERED")
            orders_repository.set_status_if(order_id, found["status"], to="DELIVERED",
                                            at=delivered["occurred_at"], event_id=delivered["id"])
        calls.append(order_id)
        return found

    monkeypatch.setattr(status_events.orders, "get", racing_get)
    assert status_events.apply(status(order["order_id"], "SHIPPED")) == SKIP
    assert len(calls) == 2
    assert real_get(order["order_id"])["status"] == "DELIVERED"
