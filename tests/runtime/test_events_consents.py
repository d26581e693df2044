"""Consent fan-out: the append-only ledger and the marketing audience, under redelivery,
replay and out-of-order delivery."""

from __future__ import annotations

from headless_commerce.runtime.common import aws
from headless_commerce.runtime.consents import ledger, service
from headless_commerce.runtime.events.relay import relay
from headless_commerce.runtime.marketing import audience, membership
from tests.runtime.conftest import call, eventbridge_event, example_event, outbox_stream_records, sqs_event

T1, T2, T3 = (f"2026-01-31T12:00:0{i}.000000Z" for i in (1, 2, 3))


def consent(customer: str, at: str, email: bool, sms: bool = False, push: bool = False) -> dict:
    return example_event("CustomerConsentChanged", {
        "customer_id": customer, "consents": {"email": email, "sms": sms, "push": push},
        "changed_at": at}, occurred_at=at)


def deliver(handler, *envelopes: dict) -> dict:
    return handler(sqs_event(*[eventbridge_event(e) for e in envelopes]), None)


def test_ledger_appends_each_event_once_in_time_order(ledger_table, dead_letters):
    first, second = consent("alice", T1, True), consent("alice", T2, False)
    assert deliver(ledger.handler, second, first, second, first) == {"batchItemFailures": []}
    history = service.history("alice")
    assert [h["event_id"] for h in history] == [first["id"], second["id"]]
    assert history[0]["consents"] == {"email": True, "sms": False, "push": False}
    assert history[0]["previous"] == {"email": False, "sms": False, "push": False}
    assert history[0]["entry"] == f"{T1}#{first['id']}" and history[0]["source"] == "commerce.customers"
    assert service.history("bob") == []


def test_ledger_redelivery_does_not_overwrite(ledger_table):
    event = consent("alice", T1, True)
    assert service.record(event) is True
    tampered = {**event, "detail": {**event["detail"], "consents": {"email": False, "sms": True, "push": True}}}
    assert service.record(tampered) is False
    assert service.history("alice")[0]["consents"]["email"] is True


def test_audience_opt_in_carries_contact_and_opt_out_leaves_tombstone(audience_table, dead_letters):
    assert call("PATCH", "/me", sub="alice", body={"phone": "+14155550100", "locale": "en-US"}).status == 200
    assert deliver(audience.handler, consent("alice", T1, email=True, sms=True)) == {"batchItemFailures": []}
    email = membership.membership("email", "alice")
    assert email["opted_in"] is True and email["contact"] == "alice@example.com"
    assert email["locale"] == "en-US"
    assert membership.membership("sms", "alice")["contact"] == "+14155550100"
    assert membership.membership("push", "alice")["opted_in"] is False

    assert deliver(audience.handler, consent("alice", T2, email=False)) == {"batchItemFailures": []}
    tombstone = membership.membership("email", "alice")
    assert tombstone["opted_in"] is False and "contact" not in tombstone   # contact data removed


def test_audience_ignores_older_and_redelivered_events(audience_table, dead_letters):
    opt_in, opt_out, opt_in_again = (consent("bob", T1, True), consent("bob", T2, False),
                                     consent("bob", T3, True))
    # Out of order: the opt-out lands first, the older opt-in after it must not re-add bob.
    assert deliver(audience.handler, opt_out, opt_in) == {"batchItemFailures": []}
    assert membership.membership("email", "bob")["opted_in"] is False
    assert membership.apply(opt_in) == {"email": False, "push": False, "sms": False}
    assert membership.apply(opt_out) == {"email": False, "push": False, "sms": False}  # redelivery
    assert membership.apply(opt_in_again)["email"] is True
    member = membership.membership("email", "bob")
    assert member["opted_in"] is True and member["event_id"] == opt_in_again["id"]
    # A replay of the whole history (archive replay) ends where it started.
    assert deliver(audience.handler, opt_in, opt_out, opt_in_again, opt_out) == {"batchItemFailures": []}
    assert membership.membership("email", "bob") == member


def test_audience_opt_in_without_profile_or_table_still_records_membership(audience_table, monkeypatch):
    membership.apply(consent("ghost", T1, True))          # no profile
    assert membership.membership("email", "ghost")["opted_in"] is True
    assert membership.membership("email", "ghost").get("contact") is None
    call("GET", "/me", sub="dora")                          # creates dora's profile
    monkeypatch.delenv("TABLE_NAME")                        # function without commerce-table access
    membership.apply(consent("dora", T1, True))
    member = membership.membership("email", "dora")
    assert member["opted_in"] is True and member.get("contact") is None


def test_consent_put_fans_out_to_both_consumers(ledger_table, audience_table, dead_letters):
    assert call("PUT", "/me/consents", sub="carol", body={"email": True, "sms": False, "push": True}).status == 200
    [entry] = relay(outbox_stream_records("CustomerConsentChanged"))
    for handler in (ledger.handler, audience.handler):
        assert deliver(handler, entry["detail"], entry["detail"]) == {"batchItemFailures": []}
    assert len(service.history("carol")) == 1
    assert membership.membership("push", "carol")["opted_in"] is True
    assert aws.sqs().get_queue_attributes(
        QueueUrl=dead_letters, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"] == "0"
