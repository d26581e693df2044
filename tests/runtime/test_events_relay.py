"""The outbox relay (Pipes enrichment): stream records in, bus entries out."""

from __future__ import annotations

import pytest

from headless_commerce.runtime.common import dynamo, outbox
from headless_commerce.runtime.events import relay
from headless_commerce.runtime.events.contracts import ContractError
from tests.runtime.conftest import add, checkout, example_event, outbox_stream_records, stream_record


def outbox_image(envelope: dict) -> dict:
    """The DynamoDB JSON of the outbox item the runtime writes for this event."""
    item = dynamo.to_item(outbox.item(envelope["detail_type"], envelope["detail"]))
    body = {k: envelope[k] for k in ("id", "version", "occurred_at", "source")}
    return {**item, **dynamo.to_item(body), "pk": {"S": f"OUTBOX#{envelope['id']}"}}


def test_outbox_insert_becomes_a_bus_entry_with_the_whole_envelope():
    envelope = example_event("PaymentAuthorized")
    entries = relay.handler([stream_record("INSERT", outbox_image(envelope))], None)
    assert entries == [{"source": "commerce.payments", "detail_type": "PaymentAuthorized",
                        "detail": envelope}]
    # Numbers come back as JSON numbers, not Decimals (PutEvents serializes them).
    assert type(entries[0]["detail"]["detail"]["amount"]) is int
    assert type(entries[0]["detail"]["version"]) is int


def test_storage_attributes_stay_out_of_the_event():
    envelope = example_event("OrderPlaced")
    detail = relay.to_envelope(stream_record("INSERT", outbox_image(envelope)))
    assert set(detail) == {"id", "version", "occurred_at", "source", "detail_type", "detail"}


def test_non_outbox_modify_and_remove_records_are_skipped():
    outbox = outbox_image(example_event("OrderPlaced"))
    order = dynamo.to_item({"pk": "ORDER#1", "sk": "ORDER", "entity": "ORDER", "status": "CONFIRMED"})
    records = [
        stream_record("INSERT", order),
        stream_record("MODIFY", outbox, old_image=outbox),
        stream_record("REMOVE", None, old_image=outbox),   # the outbox TTL expiring
        {"eventName": "INSERT"},                            # no image at all
        "garbage",
        stream_record("INSERT", outbox),
    ]
    entries = relay.handler(records, None)
    assert [e["detail_type"] for e in entries] == ["OrderPlaced"]
    # A direct stream trigger shape is read the same way; an empty batch is fine.
    assert relay.handler({"Records": records}, None) == entries
    assert relay.handler([], None) == [] and relay.handler(None, None) == []


def test_an_invalid_outbox_item_fails_the_batch():
    broken = example_event("OrderPlaced", {"total": -5})
    good = example_event("OrderPlaced")
    with pytest.raises(ContractError) as raised:
        relay.handler([stream_record("INSERT", outbox_image(good)),
                       stream_record("INSERT", outbox_image(broken))], None)
    assert raised.value.field == "detail.total"


def test_a_checkout_relays_every_event_it_wrote(catalog, sandbox):
    add("alice", "mug-1", 1)
    assert checkout("alice", "key-relay-00001").status == 201
    entries = relay.handler(outbox_stream_records(), None)
    assert sorted(e["detail_type"] for e in entries) == ["OrderPlaced", "OrderStatusChanged",
                                                          "PaymentAuthorized"]
    assert all(e["detail"]["detail"]["customer_id"] == "alice" for e in entries)
