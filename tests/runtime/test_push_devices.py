"""Mobile push on moto's SNS: PUT/DELETE /me/push-device create, re-enable and delete platform
endpoints and keep their ARN on the profile; audiences follow consent alone, so a customer
without a device is a member whose sends are `no_contact`; a send to an endpoint SNS disabled
clears it from the profile; without a platform application registering is a 422."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto.core import DEFAULT_ACCOUNT_ID

from headless_commerce.runtime.common import aws
from headless_commerce.runtime.customers import repository as customers
from headless_commerce.runtime.marketing import devices, jobs, membership, messages, outbox, repository, service
from headless_commerce.runtime.marketing.names import CONTACT_ATTRIBUTE
from tests.runtime.conftest import call, example_event
from tests.runtime.test_marketing import campaign_job

APNS_TOKEN = "a1" * 32
FCM_TOKEN = "fcm-token:" + "x" * 40


@pytest.fixture
def push(marketing, monkeypatch) -> dict[str, str]:
    """SNS platform applications for APNS and GCM (moto) named in PUSH_PLATFORM_APPLICATIONS."""
    sns = aws.sns()
    apps = {platform: sns.create_platform_application(
        Name=f"shop-{platform.lower()}", Platform=platform,
        Attributes={"PlatformCredential": "test-credential"})["PlatformApplicationArn"]
        for platform in ("APNS", "GCM")}
    monkeypatch.setenv("PUSH_PLATFORM_APPLICATIONS", json.dumps(apps))
    return apps


def endpoints() -> dict:
    from moto.sns.models import sns_backends

    return sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].platform_endpoints


def register(sub: str, platform: str = "APNS", token: str = APNS_TOKEN):
    return call("PUT", "/me/push-device", sub=sub, body={"platform": platform, "token": token})


def consent_to_push(sub: str) -> None:
    assert call("PUT", "/me/consents", sub=sub, body={"email": False, "sms": False, "push": True}).status == 200
    membership.apply(example_event("CustomerConsentChanged", {
        "customer_id": sub, "consents": {"email": False, "sms": False, "push": True},
        "changed_at": "2026-01-31T12:00:00.000000Z"}))


def test_one_contact_attribute_for_the_audience_and_the_sender():
    assert membership.CONTACT_ATTRIBUTE is service.CONTACT_ATTRIBUTE is CONTACT_ATTRIBUTE
    assert CONTACT_ATTRIBUTE["push"] == "push_endpoint_arn"


def test_registering_stores_the_endpoint_and_the_same_token_keeps_it(push):
    first = register("alice")
    assert first.status == 200 and first.body == {"registered": True, "platform": "APNS"}
    arn = customers.get_profile("alice")["push_endpoint_arn"]
    assert arn.startswith(push["APNS"].replace(":app/", ":endpoint/") + "/")
    assert endpoints()[arn].token == APNS_TOKEN
    # An app registers on every start: the same token is the same endpoint, nothing new.
    assert register("alice").status == 200
    assert customers.get_profile("alice")["push_endpoint_arn"] == arn and len(endpoints()) == 1
    # /me does not expose the endpoint ARN.
    assert "push_endpoint_arn" not in call("GET", "/me", sub="alice").body


def test_a_new_token_replaces_the_old_endpoint_and_delete_forgets_it(push):
    register("alice")
    old = customers.get_profile("alice")["push_endpoint_arn"]
    assert register("alice", "GCM", FCM_TOKEN).body == {"registered": True, "platform": "GCM"}
    new = customers.get_profile("alice")["push_endpoint_arn"]
    assert new != old and old not in endpoints() and endpoints()[new].token == FCM_TOKEN
    gone = call("DELETE", "/me/push-device", sub="alice")
    assert gone.status == 200 and gone.body == {"registered": False, "platform": None}
    assert "push_endpoint_arn" not in customers.get_profile("alice") and new not in endpoints()
    # Nothing registered: still a 200, nothing to delete.
    assert call("DELETE", "/me/push-device", sub="alice").body == {"registered": False, "platform": None}


def test_without_a_platform_application_registering_is_a_422_naming_the_platform(marketing, monkeypatch):
    monkeypatch.delenv("PUSH_PLATFORM_APPLICATIONS", raising=False)
    reply = register("alice")
    assert reply.status == 422 and reply.body["error"]["code"] == "push_not_configured"
    assert reply.body["error"]["field"] == "platform"
    # One platform configured, another asked for.
    gcm_only = {"GCM": "arn:aws:sns:us-east-1:123456789012:app/GCM/x"}
    monkeypatch.setenv("PUSH_PLATFORM_APPLICATIONS", json.dumps(gcm_only))
    assert register("alice", "APNS_SANDBOX").status == 422
    assert customers.get_profile("alice") is None        # refused before anything was written


@pytest.mark.parametrize("body,field", [
    ({"platform": "WNS", "token": APNS_TOKEN}, "platform"),
    ({"platform": "APNS", "token": "short"}, "token"),
    ({"platform": "APNS", "token": "<script>" * 8}, "token"),
    ({"platform": "APNS"}, "token"),
])
def test_bad_registrations_are_400s(push, body, field):
    reply = call("PUT", "/me/push-device", sub="alice", body=body)
    assert reply.status == 400 and reply.body["error"]["field"] == field
    assert endpoints() == {}


def test_registering_needs_sign_in(push):
    assert call("PUT", "/me/push-device", body={"platform": "APNS", "token": APNS_TOKEN}).status == 401


def test_audience_includes_push_consent_without_a_device_and_sends_once_one_registers(push, monkeypatch):
    monkeypatch.setattr(jobs, "PAGE_SIZE", 10)
    consent_to_push("alice")
    assert membership.opted_in_page("push", None, 10)[0] == ["alice"]
    assert membership.membership("push", "alice").get("contact") is None
    job = campaign_job(channel="push", subject="Flash sale", text="Hi {name}, 2 hours only.")
    assert jobs.run_page(job)["outcomes"] == {service.NO_CONTACT: 1}
    register("alice")
    arn = customers.get_profile("alice")["push_endpoint_arn"]
    assert jobs.run_page(job)["outcomes"] == {service.SENT: 1}
    assert list(endpoints()[arn].messages.values()) == ["Hi there, 2 hours only."]
    assert jobs.run_page(job)["outcomes"] == {service.DUPLICATE: 1}


def test_a_disabled_endpoint_is_cleared_on_send_and_re_registering_enables_it(push):
    consent_to_push("alice")
    register("alice")
    arn = customers.get_profile("alice")["push_endpoint_arn"]
    # The push service told SNS the token is invalid (the app was removed).
    aws.sns().set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    job = campaign_job(channel="push", text="Now")
    assert jobs.run_page(job)["outcomes"] == {service.ADDRESS_GONE: 1}
    assert "push_endpoint_arn" not in customers.get_profile("alice")
    ref = f"{job['id']}#{job['run']}"
    assert repository.delivery("alice", messages.CAMPAIGN, ref) is None     # the claim is released
    assert jobs.run_page(job)["outcomes"] == {service.NO_CONTACT: 1}       # nothing is sent to it any more
    # The app starts again with the same token: the endpoint is enabled again and delivers.
    assert register("alice").status == 200
    assert customers.get_profile("alice")["push_endpoint_arn"] == arn
    assert jobs.run_page(job)["outcomes"] == {service.SENT: 1}
    assert list(endpoints()[arn].messages.values()) == ["Now"]


def test_clearing_keeps_a_device_registered_meanwhile(push):
    register("alice")
    old = customers.get_profile("alice")["push_endpoint_arn"]
    register("alice", "GCM", FCM_TOKEN)
    assert customers.clear_push_endpoint("alice", old) is False
    assert customers.get_profile("alice")["push_endpoint_arn"] != old


def test_local_outbox_records_push_messages(push, tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETING_TRANSPORT", "outbox")
    monkeypatch.setenv("MARKETING_OUTBOX_DIR", str(tmp_path))
    consent_to_push("alice")
    register("alice")
    arn = customers.get_profile("alice")["push_endpoint_arn"]
    assert jobs.run_page(campaign_job(channel="push"))["outcomes"] == {service.SENT: 1}
    [message] = outbox.messages(tmp_path)
    assert (message["channel"], message["to"], message["subject"]) == ("push", arn, "Spring sale")


def test_applications_ignore_unreadable_configuration(monkeypatch):
    monkeypatch.setenv("PUSH_PLATFORM_APPLICATIONS", "not json")
    assert devices.applications() == {}


def test_a_token_the_push_service_refuses_is_a_400_and_nothing_is_stored(push):
    with Stubber(aws.sns()) as stub:
        stub.add_client_error("create_platform_endpoint", "InvalidParameter",
                              "Invalid parameter: Token Reason: iOS device tokens must be 64 hexadecimal characters")
        reply = register("alice")
    assert reply.status == 400 and reply.body["error"] == {
        "code": "invalid_push_token", "message": "The device token is not valid for this platform", "field": "token"}
    assert "push_endpoint_arn" not in (customers.get_profile("alice") or {})


def test_a_token_registered_with_other_attributes_reuses_and_re_enables_its_endpoint(push):
    # What SNS answers when the token's endpoint exists but differs (for example, disabled).
    arn = push["APNS"].replace(":app/", ":endpoint/") + "/0b1c2d3e-aaaa-bbbb-cccc-000000000001"
    with Stubber(aws.sns()) as stub:
        stub.add_client_error("create_platform_endpoint", "InvalidParameter",
                              f"Invalid parameter: Token Reason: Endpoint {arn} already exists with the same "
                              "Token, but different attributes.")
        stub.add_response("set_endpoint_attributes", {}, {
            "EndpointArn": arn, "Attributes": {"Token": APNS_TOKEN, "Enabled": "true"}})
        reply = register("alice")
        stub.assert_no_pending_responses()
    assert reply.status == 200 and customers.get_profile("alice")["push_endpoint_arn"] == arn


def test_an_sns_outage_is_not_a_client_error(push):
    with Stubber(aws.sns()) as stub:
        stub.add_client_error("create_platform_endpoint", "InternalError", "try again", http_status_code=500)
        with pytest.raises(ClientError):
            devices.register("alice", None, "APNS", APNS_TOKEN)
    assert "push_endpoint_arn" not in (customers.get_profile("alice") or {})
