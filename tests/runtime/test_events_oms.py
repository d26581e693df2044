"""The example OMS consumer: one acceptance and one OrderStatusChanged per order, however
often OrderPlaced is delivered, and no lost status event when publishing fails."""

from __future__ import annotations

import json

import pytest

from headless_commerce import model
from headless_commerce.runtime.common import dynamo
from headless_commerce.runtime.events.contracts import ContractError
from headless_commerce.runtime.oms import consumer, service
from tests.runtime.conftest import example_event, queue_messages, sqs_event


def published(bus) -> list[dict]:
    """OrderStatusChanged envelopes that reached the bus (the capture rule's queue)."""
    return [json.loads(m["Body"])["detail"] for m in queue_messages(bus.status_queue_url)]


def deliver(envelope: dict) -> dict:
    return consumer.handler(sqs_event(envelope, fifo=True, groups=[envelope["detail"]["order_id"]]), None)


def test_order_is_accepted_once_and_announced_once(bus, dead_letters):
    placed = example_event("OrderPlaced", {"order_id": "o-42", "customer_id": "carol"})
    for _ in range(3):                      # first delivery and two redeliveries
        assert deliver(placed) == {"batchItemFailures": []}
    events = published(bus)
    assert len(events) == 1
    status = events[0]
    assert status["source"] == model.EventSource.OMS and status["detail_type"] == "OrderStatusChanged"
    assert status["detail"] == {"order_id": "o-42", "customer_id": "carol", "to": "ACCEPTED_BY_OMS"}
    record = dynamo.get(model.oms_acceptance_key("o-42"))
    assert record["published"] is True and record["placed_event_id"] == placed["id"]
    assert record["status_event"] == status


def test_a_failed_publish_is_retried_with_the_same_event(bus, dead_letters, monkeypatch):
    placed = example_event("OrderPlaced", {"order_id": "o-7"})
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    assert deliver(placed) == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert published(bus) == []
    assert dynamo.get(model.oms_acceptance_key("o-7"))["published"] is False

    monkeypatch.setenv("EVENT_BUS_NAME", bus.name)
    assert deliver(placed) == {"batchItemFailures": []}
    assert deliver(placed) == {"batchItemFailures": []}
    events = published(bus)
    assert len(events) == 1
    assert events[0] == dynamo.get(model.oms_acceptance_key("o-7"))["status_event"]


def test_crash_after_publish_republishes_the_same_event_id(bus, dead_letters, monkeypatch):
    """PutEvents succeeded but the flag was not saved: the retry publishes again, with the
    stored id, so downstream sees a duplicate it can recognise, never a second change."""
    placed = example_event("OrderPlaced", {"order_id": "o-8"})

    def crash(order_id: str) -> None:
        raise RuntimeError("timed out")

    monkeypatch.setattr(service.repository, "mark_published", crash)
    assert deliver(placed)["batchItemFailures"]
    monkeypatch.undo()
    monkeypatch.setenv("EVENT_BUS_NAME", bus.name)
    assert deliver(placed) == {"batchItemFailures": []}
    assert deliver(placed) == {"batchItemFailures": []}
    ids = [e["id"] for e in published(bus)]
    assert len(ids) == 2 and len(set(ids)) == 1


def test_status_event_is_checked_against_its_contract_before_publishing(table):
    envelope = service.status_event("o-1", "alice")
    assert envelope["source"] == "commerce.oms" and envelope["detail"]["to"] == "ACCEPTED_BY_OMS"
    with pytest.raises(ContractError):
        service.status_event("", "alice")
