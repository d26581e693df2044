"""What feeds Personalize: interactions to the event tracker (stubbed personalize-events) and
the scheduled catalog export to the items dataset; and the storefront's interaction events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from headless_commerce.runtime.common import aws
from headless_commerce.runtime.events.relay import handler as relay_handler
from headless_commerce.runtime.recommendations import catalog_export, tracker, users
from headless_commerce.runtime.storefront import interactions
from tests.runtime.conftest import call, eventbridge_event, example_event, outbox_stream_records, sqs_event

TRACKING_ID = "tracking-1234"
ITEMS = "arn:aws:personalize:us-east-1:123456789012:dataset/hc-shop/ITEMS"
SENT_AT = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def tracker_stub(table, monkeypatch):
    monkeypatch.setenv("PERSONALIZE_TRACKING_ID", TRACKING_ID)
    monkeypatch.setenv("PERSONALIZE_ITEMS_DATASET_ARN", ITEMS)
    with Stubber(aws.personalize_events()) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_a_view_from_a_guest_is_a_view_event_in_the_visitors_session(tracker_stub):
    event = example_event("ProductViewed", {"product_id": "p-mug", "visitor_id": "v" * 32})
    tracker_stub.add_response("put_events", {}, {
        "trackingId": TRACKING_ID, "sessionId": "v" * 32,
        "eventList": [{"eventId": f"{event['id']}:0", "eventType": "View", "itemId": "p-mug", "sentAt": SENT_AT}]})
    assert tracker.handler(sqs_event(eventbridge_event(event)), None) == {"batchItemFailures": []}


def test_a_signed_in_cart_add_carries_the_user(tracker_stub):
    event = example_event("CartItemAdded")
    tracker_stub.add_response("put_events", {}, {
        "trackingId": TRACKING_ID, "sessionId": "v" * 32, "userId": "alice",
        "eventList": [{"eventId": f"{event['id']}:0", "eventType": "AddToCart", "itemId": "p-mug",
                       "sentAt": SENT_AT}]})
    assert tracker.handler(sqs_event(eventbridge_event(event)), None) == {"batchItemFailures": []}


def test_an_order_is_one_purchase_per_product_in_calls_of_ten(tracker_stub, catalog):
    from headless_commerce.runtime.catalog import repository as catalog_repository

    for n in range(12):
        catalog_repository.put_product({"product_id": f"p-{n:02d}", "name": f"Item {n}", "price_amount": 100},
                                       [{"sku": f"s-{n:02d}", "stock": 5}])
    lines = [{"sku": f"s-{n:02d}", "quantity": 1, "unit_price": 100} for n in range(12)]
    lines.append({"sku": "tee-s", "quantity": 1, "unit_price": 100})
    lines.append({"sku": "tee-m", "quantity": 1, "unit_price": 100})     # same product: one purchase
    event = example_event("OrderPlaced", {"lines": lines})
    products = [f"p-{n:02d}" for n in range(12)] + ["p-tee"]
    expected = [{"eventId": f"{event['id']}:{n}", "eventType": "Purchase", "itemId": p, "sentAt": SENT_AT}
                for n, p in enumerate(products)]
    for chunk in (expected[:10], expected[10:]):
        tracker_stub.add_response("put_events", {}, {"trackingId": TRACKING_ID, "sessionId": "alice",
                                                     "userId": "alice", "eventList": chunk})
    assert tracker.handler(sqs_event(eventbridge_event(event)), None) == {"batchItemFailures": []}


def test_a_throttled_put_is_retried_by_the_queue(tracker_stub):
    tracker_stub.add_client_error("put_events", "ThrottlingException", http_status_code=400)
    reply = tracker.handler(sqs_event(eventbridge_event(example_event("ProductViewed"))), None)
    assert reply == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}


def test_the_catalog_export_sends_every_product_ten_at_a_time(tracker_stub, catalog):
    from headless_commerce.runtime.catalog import repository as catalog_repository

    for n in range(17):
        catalog_repository.put_product({"product_id": f"p-{n:02d}", "name": f"Item {n}", "price_amount": 250 + n,
                                        "brand": "Acme" if n % 2 else None}, [{"sku": f"s-{n:02d}", "stock": 5}])
    sent: list[dict] = []
    for _ in range(3):     # 21 products: 10 + 10 + 1
        tracker_stub.add_response("put_items", {})
    tracker_stub.client.meta.events.register("before-parameter-build.personalize-events.PutItems",
                                             lambda params, **kw: sent.extend(params["items"]))
    assert catalog_export.handler({}, None) == {"items": 21}
    by_id = {i["itemId"]: json.loads(i["properties"]) for i in sent}
    assert len(by_id) == 21
    assert by_id["p-01"] == {"brand": "Acme", "categoryL1": catalog_export.NO_CATEGORY, "price": 2.51}
    assert by_id["p-mug"] == {"categoryL1": "kitchen", "price": 12.5}


def test_storefront_events_name_an_opaque_visitor_and_publish_after_the_page():
    class Session(dict):
        pass

    session = Session()
    visitor = interactions.visitor_id(session)
    assert len(visitor) == 32 and interactions.visitor_id(session) == visitor
    event = interactions.product_viewed(product_id="p-mug", visitor=visitor, customer_id=None)
    assert event["detail"] == {"product_id": "p-mug", "visitor_id": visitor}
    assert event["source"] == "commerce.storefront"

    class Events:
        def __init__(self, fail: bool = False) -> None:
            self.entries, self.fail = [], fail

        def put_events(self, Entries):
            if self.fail:
                raise ConnectionError("bus unreachable")
            self.entries += Entries
            return {"FailedEntryCount": 0, "Entries": [{}]}

    events = Events()
    publisher = interactions.Interactions("commerce-bus", client=events)
    task = publisher.after_response(event)
    assert task is not None and events.entries == []            # nothing sent before the response
    publisher.put(event)
    (entry,) = events.entries
    assert entry["EventBusName"] == "commerce-bus" and entry["DetailType"] == "ProductViewed"
    assert json.loads(entry["Detail"]) == event
    interactions.Interactions("commerce-bus", client=Events(fail=True)).put(event)     # logged, not raised
    assert interactions.Interactions(None).after_response(event) is None


# ---- the users dataset: CustomerProfileChanged -> PutUsers (locale and country only) ------------

USERS = "arn:aws:personalize:us-east-1:123456789012:dataset/hc-shop/USERS"
ADDRESS = {"name": "Ada Lovelace", "line1": "12 Rue X", "city": "Paris", "postal_code": "75001", "country": "FR"}


@pytest.fixture
def users_stub(table, monkeypatch):
    monkeypatch.setenv("PERSONALIZE_USERS_DATASET_ARN", USERS)
    with Stubber(aws.personalize_events()) as stub:
        yield stub
        stub.assert_no_pending_responses()


def profile_changes() -> list[dict]:
    """The CustomerProfileChanged events PATCH /me wrote to the outbox, as the bus delivers them."""
    return [e["detail"] for e in relay_handler(outbox_stream_records("CustomerProfileChanged"), None)]


def test_a_profile_change_puts_only_locale_and_country_in_the_users_dataset(users_stub):
    reply = call("PATCH", "/me", sub="alice", body={"given_name": "Ada", "phone": "+33612345678",
                                                    "locale": "fr-FR", "default_address": ADDRESS})
    assert reply.status == 200 and reply.body["locale"] == "fr-FR"
    (event,) = profile_changes()
    # No personal data on the bus: the event names fields, never their values.
    assert event["detail"] == {"customer_id": "alice", "changed_at": event["detail"]["changed_at"],
                               "fields": ["default_address", "given_name", "locale", "phone"]}
    put = {"datasetArn": USERS, "users": [{"userId": "alice", "properties": json.dumps(
        {"locale": "fr-FR", "country": "FR"})}]}
    users_stub.add_response("put_users", {}, put)
    assert users.handler(sqs_event(eventbridge_event(event)), None) == {"batchItemFailures": []}
    # Redelivered: the same current values again (PutUsers stores them as they are).
    users_stub.add_response("put_users", {}, put)
    assert users.handler(sqs_event(eventbridge_event(event)), None) == {"batchItemFailures": []}


def test_changes_the_dataset_does_not_hold_send_nothing(users_stub):
    assert call("PATCH", "/me", sub="bob", body={"given_name": "Bob", "phone": "+14155550100"}).status == 200
    (event,) = profile_changes()
    assert users.handler(sqs_event(eventbridge_event(event)), None) == {"batchItemFailures": []}
    # A profile deleted meanwhile: nothing to send, nothing to retry.
    gone = example_event("CustomerProfileChanged", {"customer_id": "nobody", "fields": ["locale"]})
    assert users.handler(sqs_event(eventbridge_event(gone)), None) == {"batchItemFailures": []}


def test_a_failed_put_is_retried(users_stub):
    assert call("PATCH", "/me", sub="carol", body={"locale": "en-GB"}).status == 200
    (event,) = profile_changes()
    users_stub.add_client_error("put_users", "ThrottlingException")
    result = users.handler(sqs_event(eventbridge_event(event)), None)
    assert len(result["batchItemFailures"]) == 1
