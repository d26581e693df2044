"""Marketing on moto (SES v2 sends, DynamoDB, SQS) and botocore Stubber (End User Messaging SMS,
which moto does not implement; SES request shapes): consent enforced at send time, at most
once per message, bounces and complaints suppressed for good, audience jobs in pages, the
abandoned-cart check, signed one-click unsubscribe links."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import ANY, Stubber
from moto.core import DEFAULT_ACCOUNT_ID

from headless_commerce import model
from headless_commerce.runtime.common import aws, dynamo
from headless_commerce.runtime.common.domain_errors import InvalidUnsubscribeToken
from headless_commerce.runtime.marketing import (
    jobs,
    lifecycle,
    membership,
    messages,
    repository,
    service,
    suppression,
    tokens,
    transport,
)
from tests.runtime.conftest import (
    MARKETING_SENDER,
    UNSUBSCRIBE_KEY,
    call,
    eventbridge_event,
    example_event,
    sqs_event,
)

KEY = UNSUBSCRIBE_KEY.encode()


def sent_emails(address: str | None = None) -> list:
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [m for m in sent if address is None or address in m.destinations["ToAddresses"]]


def customer(sub: str, *, email: bool = True, sms: bool = False, phone: str | None = None) -> None:
    """A profile with consents, and its audience membership as the fan-out would write it."""
    assert call("GET", "/me", sub=sub).status == 200
    if phone:
        assert call("PATCH", "/me", sub=sub, body={"phone": phone}).status == 200
    assert call("PUT", "/me/consents", sub=sub, body={"email": email, "sms": sms, "push": False}).status == 200
    membership.apply(example_event("CustomerConsentChanged", {
        "customer_id": sub, "consents": {"email": email, "sms": sms, "push": False},
        "changed_at": "2026-01-31T12:00:00.000000Z"}))


def lifecycle_batch(*envelopes: dict) -> dict:
    return lifecycle.handler(sqs_event(*[eventbridge_event(e) for e in envelopes]), None)


def consent_event(sub: str, email: bool) -> dict:
    return example_event("CustomerConsentChanged", {
        "customer_id": sub, "consents": {"email": email, "sms": False, "push": False},
        "changed_at": "2026-01-31T12:00:00.000000Z"})


def order_event(sub: str, order_id: str) -> dict:
    return example_event("OrderPlaced", {"customer_id": sub, "order_id": order_id})


# ---- unsubscribe tokens ---------------------------------------------------------------------------

def test_token_round_trip_and_every_alteration_is_refused():
    token = tokens.issue("alice", "email", KEY)
    assert tokens.verify(token, KEY) == ("alice", "email")
    version, customer_part, channel, signature = token.split(".")
    bob = tokens.issue("bob", "email", KEY).split(".")[1]
    altered = [
        f"{version}.{bob}.{channel}.{signature}",            # someone else's id, same signature
        f"{version}.{customer_part}.sms.{signature}",          # another channel
        f"{version}.{customer_part}.{channel}.{signature[:-2]}AA",
        f"v2.{customer_part}.{channel}.{signature}",
        token + ".x", "", "not-a-token", "v1.!!.email.sig", "x" * 600,
    ]
    for bad in altered:
        with pytest.raises(InvalidUnsubscribeToken):
            tokens.verify(bad, KEY)
    with pytest.raises(InvalidUnsubscribeToken):
        tokens.verify(token, b"another-key-of-enough-length-000000000")


# ---- lifecycle: consent at send time, at most once --------------------------------------------------

def test_welcome_and_order_confirmation_go_once_each_to_a_consenting_customer(marketing):
    customer("alice")
    opt_in, order = consent_event("alice", True), order_event("alice", "o-1")
    # Redelivered events (SQS at least once, archive replays) send nothing more.
    assert lifecycle_batch(opt_in, order, opt_in, order) == {"batchItemFailures": []}
    assert lifecycle_batch(order) == {"batchItemFailures": []}
    sent = sent_emails("alice@example.com")
    assert sorted(m.subject for m in sent) == ["Order o-1 received", "Welcome to the shop"]
    assert all(m.source == MARKETING_SENDER for m in sent)
    record = repository.delivery("alice", messages.ORDER_CONFIRMATION, "o-1")
    assert record["sent_at"] and record["message_id"]
    assert lifecycle_batch(order_event("alice", "o-2")) == {"batchItemFailures": []}
    assert len(sent_emails("alice@example.com")) == 3


def test_consent_withdrawn_between_scheduling_and_sending_sends_nothing(marketing):
    customer("bob")
    # The opt-in event is still in flight when bob withdraws: the send re-reads his profile.
    stale_opt_in = consent_event("bob", True)
    assert call("PUT", "/me/consents", sub="bob", body={"email": False, "sms": False, "push": False}).status == 200
    assert lifecycle_batch(stale_opt_in, order_event("bob", "o-9")) == {"batchItemFailures": []}
    assert sent_emails("bob@example.com") == []
    assert repository.delivery("bob", messages.WELCOME, lifecycle.WELCOME_REF) is None


def test_a_customer_who_never_consented_gets_no_order_confirmation(marketing):
    assert call("GET", "/me", sub="carol").status == 200
    assert lifecycle_batch(order_event("carol", "o-3")) == {"batchItemFailures": []}
    assert sent_emails() == []


def test_a_failed_send_releases_its_claim_so_the_retry_sends_once(marketing, monkeypatch):
    customer("dave")
    real_send = transport.send
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise ConnectionError("SES endpoint unreachable")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(transport, "send", flaky)
    order = order_event("dave", "o-4")
    assert lifecycle_batch(order) == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert repository.delivery("dave", messages.ORDER_CONFIRMATION, "o-4") is None
    assert lifecycle_batch(order) == {"batchItemFailures": []}
    assert lifecycle_batch(order) == {"batchItemFailures": []}
    assert len(calls) == 2 and len(sent_emails("dave@example.com")) == 1


def test_without_a_sender_identity_nothing_is_sent_and_nothing_is_claimed(marketing, monkeypatch):
    monkeypatch.delenv("MARKETING_EMAIL_FROM")
    customer("erin")
    assert lifecycle_batch(order_event("erin", "o-5")) == {"batchItemFailures": []}
    assert sent_emails() == []
    assert repository.delivery("erin", messages.ORDER_CONFIRMATION, "o-5") is None


# ---- SES request shape (Stubber) ------------------------------------------------------------------

def test_email_carries_one_click_unsubscribe_headers_and_the_configuration_set(marketing):
    customer("frank")
    profile = call("GET", "/me", sub="frank").body
    client = aws.sesv2()
    url = tokens.unsubscribe_url("frank", "email")
    expected = {
        "FromEmailAddress": MARKETING_SENDER, "Destination": {"ToAddresses": ["frank@example.com"]},
        "ConfigurationSetName": "marketing-events", "EmailTags": [{"Name": "kind", "Value": "welcome"}],
        "Content": {"Simple": {
            "Subject": {"Data": "Welcome to the shop", "Charset": "UTF-8"},
            "Body": {"Text": {"Data": ANY, "Charset": "UTF-8"}, "Html": {"Data": ANY, "Charset": "UTF-8"}},
            "Headers": [{"Name": "List-Unsubscribe", "Value": f"<{url}>"},
                        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}]}}}
    with Stubber(client) as stub:
        stub.add_response("send_email", {"MessageId": "ses-1"}, expected)
        assert service.deliver("frank", profile | {"consents": {"email": True}}, "email", messages.WELCOME,
                               "signup", messages.welcome) == service.SENT
        stub.assert_no_pending_responses()
    assert url.startswith("https://api.shop.example/v1/unsubscribe?token=")
    assert tokens.verify(url.split("token=")[1], KEY) == ("frank", "email")


def test_html_part_escapes_what_customers_and_operators_typed():
    message = messages.campaign({"given_name": "<script>x</script>"}, "Sale", "Hi {name} & <b>friends</b>")
    html = message.html('https://api.example/unsubscribe?token=a"b')
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html
    assert 'href="https://api.example/unsubscribe?token=a&quot;b"' in html


# ---- SMS through End User Messaging (Stubber: moto has no pinpoint-sms-voice-v2) -----------------

def test_sms_goes_through_the_origination_identity_and_configuration_set(marketing, monkeypatch):
    identity = "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-1"
    monkeypatch.setenv("MARKETING_SMS_ORIGINATION_IDENTITY", identity)
    monkeypatch.setenv("MARKETING_SMS_CONFIGURATION_SET", "sms-events")
    customer("gina", sms=True, phone="+14155550100")
    profile = call("GET", "/me", sub="gina").body
    client = aws.sms_voice()
    with Stubber(client) as stub:
        stub.add_response("send_text_message", {"MessageId": "sms-1"}, {
            "DestinationPhoneNumber": "+14155550100", "OriginationIdentity": identity,
            "MessageBody": ANY, "MessageType": "TRANSACTIONAL", "ConfigurationSetName": "sms-events"})
        outcome = service.deliver("gina", profile, "sms", messages.ORDER_CONFIRMATION, "o-7",
                                  lambda p: messages.order_confirmation(p, order_event("gina", "o-7")["detail"]),
                                  transactional=True)
        stub.assert_no_pending_responses()
    assert outcome == service.SENT
    assert repository.delivery("gina", messages.ORDER_CONFIRMATION, "o-7")["message_id"] == "sms-1"


def test_sms_without_an_origination_identity_is_not_sent(marketing):
    customer("hank", sms=True, phone="+14155550101")
    profile = call("GET", "/me", sub="hank").body
    with Stubber(aws.sms_voice()) as stub:   # any call would fail: no response is queued
        assert service.deliver("hank", profile, "sms", messages.WELCOME, "signup",
                               messages.welcome) == service.CHANNEL_UNAVAILABLE
        stub.assert_no_pending_responses()


# ---- bounces and complaints -> suppression ----------------------------------------------------------

def ses_event(detail_type: str, addresses: list[str], message_id: str = "ses-msg-1") -> dict:
    reason, field = ("bounce", "bouncedRecipients") if detail_type == suppression.BOUNCED else (
        "complaint", "complainedRecipients")
    return {"version": "0", "id": "e-1", "source": "aws.ses", "detail-type": detail_type,
            "detail": {"eventType": reason.title(), "mail": {"messageId": message_id},
                       reason: {field: [{"emailAddress": a} for a in addresses],
                                **({"bounceType": "Permanent"} if reason == "bounce" else {})}}}


def test_bounced_or_complaining_address_is_never_mailed_again(marketing):
    customer("ivan")
    customer("judy")
    batch = sqs_event(ses_event(suppression.BOUNCED, ["Ivan@Example.com"]),
                      ses_event(suppression.COMPLAINED, ["judy@example.com"]),
                      ses_event(suppression.BOUNCED, ["ivan@example.com"]))   # redelivered
    assert suppression.handler(batch, None) == {"batchItemFailures": []}
    assert repository.is_suppressed("email", "ivan@example.com")
    assert repository.is_suppressed("email", "JUDY@example.com")
    assert lifecycle_batch(order_event("ivan", "o-10"), order_event("judy", "o-11"),
                           consent_event("ivan", True)) == {"batchItemFailures": []}
    assert sent_emails() == []
    # Suppression outlives consent changes: opting in again does not un-suppress.
    assert call("PUT", "/me/consents", sub="ivan", body={"email": True, "sms": False, "push": False}).status == 200
    assert lifecycle_batch(order_event("ivan", "o-12")) == {"batchItemFailures": []}
    assert sent_emails() == []


def test_unreadable_ses_events_are_dead_lettered_with_a_reason(marketing):
    batch = sqs_event("not json", {"source": "aws.ses", "detail-type": suppression.BOUNCED, "detail": {}},
                      {"source": "evil", "detail-type": suppression.BOUNCED})
    assert suppression.handler(batch, None) == {"batchItemFailures": []}
    dead = aws.sqs().receive_message(QueueUrl=marketing.dead_letter_url, MaxNumberOfMessages=10,
                                     MessageAttributeNames=["All"])["Messages"]
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in dead)
    assert reasons == ["body is not JSON", "bounce event without recipients", "not an SES bounce or complaint event"]


# ---- audience jobs: campaigns in pages, the abandoned-cart check ---------------------------------------

def drain_jobs(marketing) -> int:
    """Run the job worker until the queue is empty (what the event source mapping does)."""
    pages = 0
    while True:
        received = aws.sqs().receive_message(QueueUrl=marketing.jobs_queue_url, MaxNumberOfMessages=1)
        if not received.get("Messages"):
            return pages
        message = received["Messages"][0]
        assert jobs.handler(sqs_event(message["Body"]), None) == {"batchItemFailures": []}
        aws.sqs().delete_message(QueueUrl=marketing.jobs_queue_url, ReceiptHandle=message["ReceiptHandle"])
        pages += 1


def campaign_job(**overrides) -> dict:
    return {"job": "campaign", "id": "spring-sale", "run": "2026-03-01T09:00:00Z", "channel": "email",
            "subject": "Spring sale", "text": "Hi {name}, 20% off this week.", **overrides}


def test_campaign_pages_through_the_audience_and_honours_consent_at_send_time(marketing, monkeypatch):
    monkeypatch.setattr(jobs, "PAGE_SIZE", 2)
    for sub in ("c1", "c2", "c3", "c4", "c5"):
        customer(sub)
    # c2 withdrew after the audience was built (the fan-out has not caught up): not sent.
    assert call("PUT", "/me/consents", sub="c2", body={"email": False, "sms": False, "push": False}).status == 200
    aws.sqs().send_message(QueueUrl=marketing.jobs_queue_url, MessageBody=json.dumps(campaign_job()))
    assert drain_jobs(marketing) == 3
    assert sorted(m.destinations["ToAddresses"][0] for m in sent_emails()) == [
        "c1@example.com", "c3@example.com", "c4@example.com", "c5@example.com"]
    # The same run again (a Scheduler retry) sends nothing; the next run sends again.
    aws.sqs().send_message(QueueUrl=marketing.jobs_queue_url, MessageBody=json.dumps(campaign_job()))
    drain_jobs(marketing)
    assert len(sent_emails()) == 4
    aws.sqs().send_message(QueueUrl=marketing.jobs_queue_url,
                           MessageBody=json.dumps(campaign_job(run="2026-03-08T09:00:00Z")))
    drain_jobs(marketing)
    assert len(sent_emails()) == 8


@pytest.mark.parametrize("body,reason", [
    ("{", "not JSON"),
    (json.dumps({"job": "campaign", "id": "x", "run": "r"}), "a campaign needs channel, subject and text"),
    (json.dumps({"job": "spam", "id": "x", "run": "r"}), "job"),
    (json.dumps({"job": "campaign", "id": "../x", "run": "r", "channel": "email", "subject": "s", "text": "t"}), "id"),
])
def test_invalid_jobs_are_dead_lettered_with_a_reason(marketing, body, reason):
    assert jobs.handler(sqs_event(body), None) == {"batchItemFailures": []}
    (dead,) = aws.sqs().receive_message(QueueUrl=marketing.dead_letter_url, MessageAttributeNames=["All"])["Messages"]
    assert reason in dead["MessageAttributes"]["reason"]["StringValue"]
    assert sent_emails() == []


def age_cart(sub: str, hours: float) -> None:
    then = (datetime.now(UTC) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    aws.dynamodb().update_item(TableName=dynamo.table_name(), Key=dynamo.to_item(model.cart_key(sub)),
                               UpdateExpression="SET updated_at = :t", ExpressionAttributeValues=dynamo.values(t=then))


def test_abandoned_cart_reminder_once_per_cart_only_to_consenting_customers(marketing, catalog):
    sku = "mug-1"
    for sub in ("old", "fresh", "quiet"):
        customer(sub, email=sub != "quiet")
        assert call("POST", "/cart/items", sub=sub, body={"sku": sku, "quantity": 1}).status == 200
    age_cart("old", 25)
    age_cart("quiet", 25)
    age_cart("fresh", 2)
    job = {"job": "abandoned_cart", "id": "abandoned-cart", "run": "2026-03-01T10:00:00Z"}
    for run in range(2):   # the next hourly run does not remind again
        aws.sqs().send_message(QueueUrl=marketing.jobs_queue_url, MessageBody=json.dumps({**job, "run": str(run)}))
        drain_jobs(marketing)
    assert [(m.destinations["ToAddresses"][0], m.subject) for m in sent_emails()] == [
        ("old@example.com", "You left something in your cart")]
    # A changed cart is a new cart version: reminded once more after it sits again.
    assert call("POST", "/cart/items", sub="old", body={"sku": sku, "quantity": 1}).status == 200
    age_cart("old", 30)
    aws.sqs().send_message(QueueUrl=marketing.jobs_queue_url, MessageBody=json.dumps({**job, "run": "9"}))
    drain_jobs(marketing)
    assert len(sent_emails("old@example.com")) == 2


# ---- the unsubscribe route ---------------------------------------------------------------------------

def test_one_click_unsubscribe_withdraws_consent_through_the_consent_event(marketing):
    customer("kate")
    token = tokens.issue("kate", "email")
    got = call("GET", "/unsubscribe", query={"token": token})
    assert got.status == 200 and got.body == {"channel": "email", "subscribed": True}
    posted = call("POST", "/unsubscribe", query={"token": token}, raw_body="List-Unsubscribe=One-Click",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert posted.status == 200 and posted.body == {"channel": "email", "subscribed": False}
    profile = call("GET", "/me", sub="kate").body
    assert profile["consents"] == {"email": False, "sms": False, "push": False}
    # Recorded like PUT /me/consents: a CustomerConsentChanged in the outbox, for the ledger.
    events = [dynamo.from_item(i) for i in aws.dynamodb().scan(TableName=dynamo.table_name())["Items"]
              if dynamo.from_item(i).get(model.ENTITY_ATTRIBUTE) == model.Entity.OUTBOX]
    withdrawals = [e for e in events if e["detail_type"] == "CustomerConsentChanged"
                   and e["detail"]["customer_id"] == "kate" and e["detail"]["consents"]["email"] is False]
    assert len(withdrawals) == 1 and withdrawals[0]["detail"]["previous"]["email"] is True
    # Clicking again changes nothing and records nothing more.
    assert call("POST", "/unsubscribe", query={"token": token}).body["subscribed"] is False
    assert lifecycle_batch(order_event("kate", "o-20")) == {"batchItemFailures": []}
    assert sent_emails() == []


@pytest.mark.parametrize("query", [None, {"token": ""}, {"token": "v1.a2F0ZQ.email.forged"}, {"token": "x" * 513}])
def test_bad_unsubscribe_tokens_are_403_json(marketing, query):
    for method in ("GET", "POST"):
        reply = call(method, "/unsubscribe", query=query)
        assert reply.status == 403, reply.body
        assert reply.body["error"] == {"code": "invalid_token", "message": "The unsubscribe link is not valid",
                                       "field": "token"}


def test_a_genuine_token_for_an_unknown_customer_is_404(marketing):
    reply = call("POST", "/unsubscribe", query={"token": tokens.issue("nobody", "email")})
    assert reply.status == 404 and reply.body["error"]["code"] == "not_found"
