"""Marketing in local mode, over HTTP: a consenting shopper's welcome and order confirmation land
in the local outbox exactly once each; the one-click unsubscribe link withdraws consent (into
the ledger) and later orders send nothing; a forged link is a 403; no consent, no message."""

from __future__ import annotations

import json
import time
from pathlib import Path

from boto3.dynamodb.types import TypeDeserializer

from tests.e2e.conftest import request
from tests.e2e.test_shopper_journey import in_stock_sku, wait_for

SETTLE_S = 2.0   # after the first messages, long enough for a duplicate to show up


def outbox_to(local, address: str) -> list[dict]:
    reply = local.call("GET", "/local/outbox")
    assert reply.status == 200, reply.body
    return [m for m in reply.body["messages"] if m["to"] == address]


def place_order(local, shopper, key: str) -> str:
    sku, _, _ = in_stock_sku(local, minimum=1)
    assert local.call("POST", "/cart/items", body={"sku": sku, "quantity": 1}, token=shopper.token).status == 200
    headers = {"Idempotency-Key": key}
    placed = local.call("POST", "/checkout", body={"payment_token": "tok_visa"}, headers=headers,
                        token=shopper.token)
    assert placed.status == 201, placed.body
    # A retried checkout is the same order: it must not confirm twice.
    assert local.call("POST", "/checkout", body={"payment_token": "tok_visa"}, headers=headers,
                      token=shopper.token).body["order_id"] == placed.body["order_id"]
    return placed.body["order_id"]


def test_welcome_and_order_confirmation_once_each_then_one_click_unsubscribe(local, shopper):
    reply = local.call("PUT", "/me/consents", body={"email": True, "sms": False, "push": False},
                       token=shopper.token)
    assert reply.status == 200, reply.body
    order_id = place_order(local, shopper, f"mkt-{shopper.sub}")

    messages = wait_for(lambda: (lambda m: m if len(m) >= 2 else None)(outbox_to(local, shopper.email)), 15)
    assert messages, local.call("GET", "/local/outbox").body
    time.sleep(SETTLE_S)
    messages = outbox_to(local, shopper.email)
    assert sorted(m["kind"] for m in messages) == ["order_confirmation", "welcome"]
    confirmation = next(m for m in messages if m["kind"] == "order_confirmation")
    assert order_id in confirmation["subject"] and order_id in confirmation["text"]
    assert confirmation["channel"] == "email"
    # Each message is a readable file in the outbox directory.
    listing = local.call("GET", "/local/outbox").body
    assert (Path(listing["directory"]) / confirmation["file"]).is_file()

    # RFC 8058: the headers a mail client turns into an unsubscribe button.
    url = confirmation["unsubscribe_url"]
    assert url.startswith(f"{local.api}/unsubscribe?token=")
    assert confirmation["headers"] == {"List-Unsubscribe": f"<{url}>",
                                       "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert url.replace("&", "&amp;") in confirmation["html"]
    assert request("GET", url).body == {"channel": "email", "subscribed": True}   # GET changes nothing
    one_click = request("POST", url, raw=b"List-Unsubscribe=One-Click",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert one_click.status == 200 and one_click.body == {"channel": "email", "subscribed": False}
    assert request("POST", url, raw=b"List-Unsubscribe=One-Click").body["subscribed"] is False
    assert local.call("GET", "/me", token=shopper.token).body["consents"]["email"] is False

    # The withdrawal is in the consent ledger like any other consent change.
    dynamodb, decode = local.client("dynamodb"), TypeDeserializer().deserialize

    def withdrawn():
        items = dynamodb.query(TableName="hc-local-consent-ledger", KeyConditionExpression="customer_id = :c",
                               ExpressionAttributeValues={":c": {"S": shopper.sub}})["Items"]
        entries = [{k: decode(v) for k, v in item.items()} for item in items]
        return entries if len(entries) == 2 else None

    entries = wait_for(withdrawn, 10)
    assert entries and entries[-1]["consents"]["email"] is False and entries[-1]["previous"]["email"] is True

    # Consent is checked when sending: a later order sends nothing.
    place_order(local, shopper, f"mkt-after-{shopper.sub}")
    time.sleep(SETTLE_S)
    assert len(outbox_to(local, shopper.email)) == 2


def test_forged_or_altered_unsubscribe_links_are_refused(local, shopper):
    for token in ("v1.abc.email.not-a-signature", "garbage", ""):
        for method in ("GET", "POST"):
            reply = local.call(method, f"/unsubscribe?token={token}")
            assert reply.status == 403, (method, token, reply.body)
            assert reply.body["error"]["code"] == "invalid_token"


def test_no_consent_no_message(local, shopper):
    place_order(local, shopper, f"mkt-none-{shopper.sub}")
    time.sleep(SETTLE_S)
    assert outbox_to(local, shopper.email) == []


def test_a_registered_device_gets_push_messages_in_the_outbox(local, shopper):
    assert local.call("PUT", "/me/consents", body={"email": False, "sms": False, "push": True},
                      token=shopper.token).status == 200
    token = "fcm:" + shopper.sub.replace("-", "_") * 2
    reply = local.call("PUT", "/me/push-device", body={"platform": "GCM", "token": token}, token=shopper.token)
    assert reply.status == 200 and reply.body == {"registered": True, "platform": "GCM"}, reply.body
    # A real (emulated) SNS endpoint under local mode's GCM platform application.
    sns = local.client("sns")
    (application,) = [a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]
                      if ":app/GCM/" in a["PlatformApplicationArn"]]
    (endpoint,) = [e["EndpointArn"] for e in sns.list_endpoints_by_platform_application(
        PlatformApplicationArn=application)["Endpoints"] if e["Attributes"]["Token"] == token]

    # A push campaign run (what its schedule sends); re-sent until the audience has caught up
    # with the consent event: the same run is delivered at most once anyway.
    sqs = local.client("sqs")
    queue = sqs.get_queue_url(QueueName="hc-local-marketing-jobs")["QueueUrl"]
    job = json.dumps({"job": "campaign", "id": "flash", "run": f"run-{shopper.sub}", "channel": "push",
                      "subject": "Flash sale", "text": "Hi {name}, two hours only."})

    def pushed():
        sqs.send_message(QueueUrl=queue, MessageBody=job)
        return wait_for(lambda: outbox_to(local, endpoint) or None, 3)

    messages = wait_for(pushed, 30)
    assert messages, local.call("GET", "/local/outbox").body
    time.sleep(SETTLE_S)
    (message,) = outbox_to(local, endpoint)
    assert (message["channel"], message["subject"]) == ("push", "Flash sale")
    assert message["text"].endswith(", two hours only.") and "{name}" not in message["text"]
    forgotten = local.call("DELETE", "/me/push-device", token=shopper.token)
    assert forgotten.status == 200 and forgotten.body["registered"] is False
