from __future__ import annotations

from headless_commerce.runtime.customers import post_confirmation
from headless_commerce.runtime.customers import repository as customers_repository
from tests.runtime.conftest import call
from tests.runtime.test_checkout import outbox_events


def confirmation_event(sub: str, source: str = "PostConfirmation_ConfirmSignUp") -> dict:
    return {"version": "1", "triggerSource": source, "region": "us-east-1",
            "userPoolId": "us-east-1_test", "userName": sub,
            "request": {"userAttributes": {"sub": sub, "email": f"{sub}@example.com",
                                           "email_verified": "true"}},
            "response": {}}


def test_post_confirmation_creates_profile_once(table):
    event = confirmation_event("alice")
    assert post_confirmation.handler(event, None) == event
    created = customers_repository.get_profile("alice")
    assert created["email"] == "alice@example.com"
    assert created["consents"] == {"email": False, "sms": False, "push": False}
    call("PATCH", "/me", sub="alice", body={"given_name": "Alice"})
    assert post_confirmation.handler(event, None) == event  # Cognito retry: no overwrite
    assert customers_repository.get_profile("alice")["given_name"] == "Alice"
    other = confirmation_event("bob", "PostConfirmation_ConfirmForgotPassword")
    assert post_confirmation.handler(other, None) == other
    assert customers_repository.get_profile("bob") is None


def test_get_and_patch_profile(table):
    post_confirmation.handler(confirmation_event("alice"), None)
    reply = call("GET", "/me", sub="alice")
    assert reply.status == 200 and reply.body["email"] == "alice@example.com"
    address = {"name": "Alice A", "line1": "1 Main St", "city": "Seattle", "postal_code": "98101",
               "country": "US"}
    reply = call("PATCH", "/me", sub="alice",
                 body={"given_name": "Alice", "phone": "+12065550100", "default_address": address})
    assert reply.status == 200
    assert reply.body["given_name"] == "Alice" and reply.body["default_address"] == address
    assert call("GET", "/me", sub="alice").body["phone"] == "+12065550100"


def test_email_and_unknown_fields_are_not_changeable(table):
    post_confirmation.handler(confirmation_event("alice"), None)
    for body in ({"email": "evil@example.com"}, {"customer_id": "bob"}, {"consents": {}},
                 {"phone": "12345"}, {"given_name": ""}):
        reply = call("PATCH", "/me", sub="alice", body=body)
        assert reply.status == 400, body
        assert reply.body["error"]["field"] == next(iter(body))
    assert call("GET", "/me", sub="alice").body["email"] == "alice@example.com"


def test_profile_is_created_on_first_use_if_trigger_missed(table):
    reply = call("GET", "/me", sub="carol", email="carol@example.com")
    assert reply.status == 200 and reply.body["email"] == "carol@example.com"


def test_consents_recorded_with_event_in_one_transaction(table):
    post_confirmation.handler(confirmation_event("alice"), None)
    reply = call("PUT", "/me/consents", sub="alice", body={"email": True, "sms": False, "push": True})
    assert reply.status == 200
    assert reply.body["consents"] == {"email": True, "sms": False, "push": True}
    assert customers_repository.get_profile("alice")["consents"]["push"] is True
    (event,) = outbox_events("CustomerConsentChanged")
    assert event["source"] == "commerce.customers" and event["version"] == 1
    assert event["detail"]["customer_id"] == "alice"
    assert event["detail"]["consents"] == {"email": True, "sms": False, "push": True}
    assert event["detail"]["previous"] == {"email": False, "sms": False, "push": False}
    for bad in ({"email": True, "sms": False}, {"email": "yes", "sms": False, "push": True},
                {"email": True, "sms": False, "push": True, "fax": True}):
        assert call("PUT", "/me/consents", sub="alice", body=bad).status == 400
    assert len(outbox_events("CustomerConsentChanged")) == 1


def test_profiles_are_isolated(table):
    post_confirmation.handler(confirmation_event("alice"), None)
    call("PATCH", "/me", sub="alice", body={"given_name": "Alice"})
    bob = call("GET", "/me", sub="bob")
    assert bob.body["customer_id"] == "bob" and "given_name" not in bob.body
    call("PATCH", "/me", sub="bob", body={"given_name": "Mallory"})
    assert call("GET", "/me", sub="alice").body["given_name"] == "Alice"
    assert call("GET", "/me").status == 401
