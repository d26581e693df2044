"""Event contracts, both sides: the files are Draft 4 and fully understood by the runtime
validator (which agrees with jsonschema), every producer's envelope validates, and every
consumer accepts a valid example and dead-letters an invalid one with its reason."""

from __future__ import annotations

import copy
import json

import pytest
from jsonschema import Draft4Validator

from headless_commerce import model
from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.consents import ledger
from headless_commerce.runtime.events.contracts import CONTRACTS, CONTRACTS_DIR, ContractError, validate_event
from headless_commerce.runtime.events.relay import relay
from headless_commerce.runtime.fraud import review as fraud_review
from headless_commerce.runtime.fraud.screen import FraudDecision, Outcome
from headless_commerce.runtime.marketing import audience
from headless_commerce.runtime.oms import consumer as oms_consumer
from headless_commerce.runtime.oms import service as oms_service
from headless_commerce.runtime.orders import checkout as checkout_service
from headless_commerce.runtime.orders import status_events
from headless_commerce.runtime.recommendations import signals as recommendation_signals
from headless_commerce.runtime.recommendations import tracker, users
from headless_commerce.runtime.storefront import interactions
from tests.runtime.conftest import (
    add,
    call,
    checkout,
    eventbridge_event,
    example_event,
    outbox_stream_records,
    queue_messages,
    sqs_event,
)
from tests.runtime.test_recommendation_events import tracker_stub, users_stub  # noqa: F401 - fixtures of consumer cases
from tests.runtime.test_recommendations import signals_table  # noqa: F401 - fixture of a consumer case

NAMES = sorted({**model.EVENT_SOURCES, **model.DIRECT_EVENT_SOURCES})


def test_one_contract_file_per_event_named_after_it():
    assert sorted(p.stem for p in CONTRACTS_DIR.glob("*.json")) == NAMES
    assert list(CONTRACTS) == NAMES and len(CONTRACTS) == len(NAMES)
    for name in ("../common/contracts/OrderPlaced", "OrderPlaced.json", "", 7):
        with pytest.raises(KeyError):
            CONTRACTS[name]
    with pytest.raises(ContractError):
        validate_event(example_event("OrderPlaced", detail_type="../common/contracts/OrderPlaced"))


@pytest.mark.parametrize("name", NAMES)
def test_contract_is_draft4(name):
    schema = json.loads((CONTRACTS_DIR / f"{name}.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    Draft4Validator.check_schema(schema)
    props = schema["properties"]
    assert props["detail_type"]["enum"] == [name]
    assert props["version"]["enum"] == [model.EVENT_VERSION]
    assert props["source"]["enum"] == list(model.EVENT_ALLOWED_SOURCES[name])
    assert set(schema["required"]) == {"id", "version", "occurred_at", "source", "detail_type", "detail"}
    assert schema["properties"]["detail"]["required"], "every detail has typed required fields"


def _invalid_variants(name: str) -> list[tuple[dict, str]]:
    """(event, field the validator must name) pairs that break the contract in one place."""
    base = example_event(name)
    first_required = CONTRACTS[name]["properties"]["detail"]["required"][0]
    variants = []

    def variant(field: str, change) -> None:
        event = copy.deepcopy(base)
        change(event)
        variants.append((event, field))

    variant("id", lambda e: e.pop("id"))
    variant("id", lambda e: e.update(id="not-a-uuid"))
    variant("version", lambda e: e.update(version=2))
    variant("version", lambda e: e.update(version=True))
    variant("occurred_at", lambda e: e.update(occurred_at="yesterday"))
    variant("source", lambda e: e.update(source="commerce.elsewhere"))
    variant("detail", lambda e: e.update(detail="text"))
    variant(f"detail.{first_required}", lambda e: e["detail"].pop(first_required))
    variant(f"detail.{first_required}", lambda e: e["detail"].update({first_required: 12}))
    return variants


@pytest.mark.parametrize("name", NAMES)
def test_runtime_validator_agrees_with_jsonschema_on_examples(name):
    schema = CONTRACTS[name]
    good = example_event(name)
    assert Draft4Validator(schema).is_valid(good)
    validate_event(good)
    for bad, field in _invalid_variants(name):
        assert not Draft4Validator(schema).is_valid(bad), bad
        with pytest.raises(ContractError) as raised:
            validate_event(bad)
        assert raised.value.field == field and raised.value.reason.startswith(field)


def test_specific_detail_rules_agree_with_jsonschema():
    cases = [
        ("OrderPlaced", {"lines": []}, "detail.lines"),
        ("OrderPlaced", {"lines": [{"sku": "a", "quantity": 0, "unit_price": 1}]}, "detail.lines[0].quantity"),
        ("OrderPlaced", {"total": 1.5}, "detail.total"),
        ("OrderPlaced", {"currency": "usd"}, "detail.currency"),
        ("OrderStatusChanged", {"to": "LOST"}, "detail.to"),
        ("PaymentAuthorized", {"decline_code": "x"}, "detail.decline_code"),
        ("CustomerConsentChanged", {"consents": {"email": True, "sms": False}}, "detail.consents.push"),
        ("CustomerConsentChanged", {"consents": {"email": 1, "sms": False, "push": False}}, "detail.consents.email"),
        ("InventoryChanged", {"available": -1}, "detail.available"),
        ("ProductModified", {"change": "MOVED"}, "detail.change"),
    ]
    for name, detail, field in cases:
        event = example_event(name, detail)
        assert not Draft4Validator(CONTRACTS[name]).is_valid(event), (name, detail)
        with pytest.raises(ContractError) as raised:
            validate_event(event)
        assert raised.value.field == field
    # Tolerant reader: an optional property a newer producer adds does not break consumers.
    newer = example_event("OrderPlaced", {"channel": "web"})
    assert Draft4Validator(CONTRACTS["OrderPlaced"]).is_valid(newer)
    validate_event(newer)
    with pytest.raises(ContractError):
        validate_event(example_event("OrderPlaced", detail_type="OrderShipped"))


# ---- producer side -------------------------------------------------------------------------

def _assert_produced_matches(envelope: dict) -> None:
    schema = CONTRACTS[envelope["detail_type"]]
    assert Draft4Validator(schema).is_valid(envelope), list(Draft4Validator(schema).iter_errors(envelope))
    validate_event(envelope)
    # Consumers tolerate extra fields, so the producer side is where drift is caught: every
    # field a producer emits is documented in its contract.
    documented = set(schema["properties"]["detail"]["properties"])
    assert set(envelope["detail"]) <= documented, set(envelope["detail"]) - documented


def test_every_producer_emits_contract_valid_events(catalog, sandbox):
    add("alice", "mug-1", 2)
    assert checkout("alice", "key-approved-0001").status == 201
    add("bob", "pan-1", 1)
    assert checkout("bob", "key-declined-0001", token="tok_chargeDeclined").status == 402
    assert call("PUT", "/me/consents", sub="alice", body={"email": True, "sms": False, "push": True}).status == 200
    # An order the fraud screen holds for review, then a reviewer's release (OrderPlaced,
    # OrderStatusChanged from ON_HOLD).
    add("carol", "mug-1", 1)
    held = checkout_service.checkout("carol", None, "key-held-0001", {"payment_token": "tok_visa"},
                                     screen=lambda _: FraudDecision(outcome=Outcome.REVIEW, reasons=("test",)))
    fraud_review.release(held.body["order_id"], reviewer="auditor")
    assert call("PATCH", "/me", sub="alice", body={"locale": "en-GB"}).status == 200

    produced = [entry["detail"] for entry in relay(outbox_stream_records())]
    produced.append(oms_service.status_event("o-1", "alice"))  # the OMS publishes directly
    # The storefront publishes shopper interactions directly too (guest and signed in).
    produced.append(interactions.product_viewed(product_id="p-mug", visitor="v" * 32, customer_id=None))
    produced.append(interactions.cart_item_added(product_id="p-mug", sku="mug-1", quantity=2, visitor="v" * 32,
                                                 customer_id="alice"))
    for envelope in produced:
        _assert_produced_matches(envelope)
    kinds = {(e["detail_type"], e["source"]) for e in produced}
    assert kinds == {
        ("OrderPlaced", "commerce.orders"), ("PaymentAuthorized", "commerce.payments"),
        ("PaymentFailed", "commerce.payments"), ("OrderStatusChanged", "commerce.orders"),
        ("OrderStatusChanged", "commerce.oms"), ("CustomerConsentChanged", "commerce.customers"),
        ("CustomerProfileChanged", "commerce.customers"),
        ("ProductViewed", "commerce.storefront"), ("CartItemAdded", "commerce.storefront"),
        ("OrderHeldForReview", "commerce.orders"),
    }
    # ProductModified and InventoryChanged have no producer yet; their contracts are checked
    # through the examples above until one exists.
    assert {n for n, _ in kinds} == set(NAMES) - {"ProductModified", "InventoryChanged"}


# ---- consumer side -------------------------------------------------------------------------

def _prepare_oms(request):
    request.getfixturevalue("bus")
    return example_event("OrderPlaced")


def _prepare_status(request):
    catalog_repository.put_product({"product_id": "p1", "name": "P", "price_amount": 100},
                             [{"sku": "s1", "stock": 5}])
    add("alice", "s1", 1)
    order = checkout("alice", "key-consumer-0001").body
    return example_event("OrderStatusChanged", {"order_id": order["order_id"]})


def _prepare_ledger(request):
    request.getfixturevalue("ledger_table")
    return example_event("CustomerConsentChanged")


def _prepare_audience(request):
    request.getfixturevalue("audience_table")
    return example_event("CustomerConsentChanged")


def _prepare_signals(request):
    request.getfixturevalue("signals_table")
    return example_event("OrderPlaced")


def _prepare_tracker(request):
    stub = request.getfixturevalue("tracker_stub")
    stub.add_response("put_events", {})
    return example_event("ProductViewed")


def _prepare_users(request):
    stub = request.getfixturevalue("users_stub")
    call("PATCH", "/me", sub="alice", body={"locale": "en-GB"})
    stub.add_response("put_users", {})
    return example_event("CustomerProfileChanged")


CONSUMERS = {
    "personalize_users": (users.handler, _prepare_users, False),
    "oms": (oms_consumer.handler, _prepare_oms, True),
    "recommendation_signals": (recommendation_signals.handler, _prepare_signals, False),
    "personalize_events": (tracker.handler, _prepare_tracker, False),
    "order_status": (status_events.handler, _prepare_status, False),
    "consent_ledger": (ledger.handler, _prepare_ledger, False),
    "marketing_audience": (audience.handler, _prepare_audience, False),
}


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_consumer_accepts_valid_and_dead_letters_invalid(name, request, sandbox, dead_letters):
    handler, prepare, fifo_envelope_body = CONSUMERS[name]
    valid = prepare(request)
    body = valid if fifo_envelope_body else eventbridge_event(valid)
    assert handler(sqs_event(body, fifo=fifo_envelope_body), None) == {"batchItemFailures": []}
    assert queue_messages(dead_letters) == []

    invalid = copy.deepcopy(valid)
    del invalid["detail"][CONTRACTS[valid["detail_type"]]["properties"]["detail"]["required"][0]]
    body = invalid if fifo_envelope_body else eventbridge_event(invalid)
    assert handler(sqs_event(body, "{not json", fifo=fifo_envelope_body), None) == {"batchItemFailures": []}
    letters = queue_messages(dead_letters)
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in letters)
    assert len(reasons) == 2
    assert reasons[0] == "body is not JSON" and reasons[1].startswith("detail.") and "is required" in reasons[1]
