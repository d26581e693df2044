from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import pytest
import stripe

from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.orders import repository as orders_repository
from headless_commerce.runtime.payments import provider as payment_provider
from headless_commerce.runtime.payments import signature
from headless_commerce.runtime.payments.provider import WebhookSignatureError
from headless_commerce.runtime.payments.sandbox import SandboxProvider
from headless_commerce.runtime.payments.stripe_provider import StripeProvider
from tests.runtime.conftest import WEBHOOK_SECRET, add, api_event, call, checkout, invoke


def test_sandbox_tokens_and_per_order_idempotency():
    sandbox = SandboxProvider()
    approved = sandbox.authorize(order_id="o1", amount=100, currency="USD", token="tok_visa")
    assert approved.approved and approved.decline_code is None
    again = sandbox.authorize(order_id="o1", amount=100, currency="USD", token="tok_visa")
    assert again == approved and len(sandbox.charges) == 1
    declined = sandbox.authorize(order_id="o2", amount=100, currency="USD", token="tok_chargeDeclined")
    assert not declined.approved and declined.decline_code == "card_declined"
    fraud = sandbox.authorize(order_id="o3", amount=100, currency="USD", token="tok_fraudulent")
    assert fraud.decline_code == "fraudulent"
    assert sandbox.authorize(order_id="o4", amount=1, currency="USD", token="tok_x").decline_code == "invalid_token"
    assert sandbox.capture(approved.id)["amount"] == 100
    assert sandbox.refund(approved.id, 40)["amount"] == 40
    with pytest.raises(ValueError):
        sandbox.refund(approved.id, 61)
    with pytest.raises(ValueError):
        sandbox.capture(declined.id)


def test_signature_verification():
    body = b'{"a":1}'
    header = signature.sign(body, "secret")
    signature.verify(body, header, "secret")
    bad_cases = [
        (body, None, "secret"),
        (body, "", "secret"),
        (body, "garbage", "secret"),
        (body, header, "other-secret"),
        (body + b" ", header, "secret"),
        (body, header, None),
        (body, signature.sign(body, "secret", int(time.time()) - 301), "secret"),
        (body, signature.sign(body, "secret", int(time.time()) + 301), "secret"),
        (body, header.replace("v1=", "v0="), "secret"),
    ]
    for payload, head, secret in bad_cases:
        with pytest.raises(WebhookSignatureError):
            signature.verify(payload, head, secret)


def webhook(payload: dict | bytes, header: str | None) -> object:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Sandbox-Signature": header} if header is not None else {}
    return invoke(api_event("POST", "/payments/webhook", raw_body=raw.decode(), headers=headers))


def pending_order(sandbox, monkeypatch, sub: str = "alice",
                  authorized_with: str | None = None) -> str:
    """An order whose checkout lost its provider call (stays PENDING_PAYMENT).

    authorized_with: the provider recorded an authorization with this token before the call
    failed (its answer was lost); None: the provider never saw the call."""
    add(sub, "pan-1", 1)
    real = sandbox.authorize

    def lost(**kwargs):
        if authorized_with is not None:
            real(**{**kwargs, "token": authorized_with})
        raise TimeoutError()

    with monkeypatch.context() as patch:
        patch.setattr(sandbox, "authorize", lost)
        assert checkout(sub, f"key-webhook-{sub}").status == 503
    orders = call("GET", "/orders", sub=sub).body["items"]
    assert orders[0]["status"] == "PENDING_PAYMENT"
    return orders[0]["order_id"]


def signed(event: dict) -> object:
    raw = json.dumps(event).encode()
    return webhook(raw, signature.sign(raw, WEBHOOK_SECRET))


def test_webhook_settles_pending_order_once_from_the_providers_record(catalog, sandbox,
                                                                     monkeypatch):
    order_id = pending_order(sandbox, monkeypatch, authorized_with="tok_visa")
    event = {"id": "evt_1", "type": "payment.authorized",
             "data": {"order_id": order_id, "authorization_id": "sbx_auth_x"}}
    reply = signed(event)
    assert reply.status == 200 and reply.body == {"received": True, "applied": True,
                                                  "status": "CONFIRMED"}
    again = signed(event)
    assert again.status == 200 and again.body["applied"] is False
    order = call("GET", "/orders/{order_id}", sub="alice", path_params={"order_id": order_id}).body
    assert order["status"] == "CONFIRMED"
    # The reference stored is the provider's own for this order, not the id the event named.
    stored = orders_repository.get(order_id)["payment"]["reference"]
    assert stored == sandbox.find_authorization(order_id).id != "sbx_auth_x"


def test_authorized_webhook_the_provider_has_no_record_of_changes_nothing(catalog, sandbox,
                                                                         monkeypatch):
    order_id = pending_order(sandbox, monkeypatch)
    reply = signed({"id": "evt_5", "type": "payment.authorized",
                    "data": {"order_id": order_id, "authorization_id": "sbx_auth_forged"}})
    assert reply.status == 200 and reply.body["applied"] is False
    assert orders_repository.get(order_id)["status"] == "PENDING_PAYMENT"


def test_webhook_failure_releases_stock(catalog, sandbox, monkeypatch):
    order_id = pending_order(sandbox, monkeypatch)
    assert catalog_repository.get_stock("pan-1") == 2
    raw = json.dumps({"id": "evt_2", "type": "payment.failed",
                      "data": {"order_id": order_id, "decline_code": "expired_card"}}).encode()
    assert webhook(raw, signature.sign(raw, WEBHOOK_SECRET)).body["status"] == "PAYMENT_FAILED"
    assert webhook(raw, signature.sign(raw, WEBHOOK_SECRET)).body["applied"] is False
    assert catalog_repository.get_stock("pan-1") == 3


def test_late_authorization_for_a_failed_order_voids_its_own_authorization(catalog, sandbox,
                                                                          monkeypatch):
    order_id = pending_order(sandbox, monkeypatch)
    failed = signed({"id": "evt_3", "type": "payment.failed",
                     "data": {"order_id": order_id, "decline_code": "expired_card"}})
    assert failed.body["status"] == "PAYMENT_FAILED"
    # The lost authorization reaches the provider after all.
    late = sandbox.authorize(order_id=order_id, amount=4500, currency="USD", token="tok_visa")
    reply = signed({"id": "evt_4", "type": "payment.authorized",
                    "data": {"order_id": order_id, "authorization_id": "sbx_auth_late"}})
    assert reply.status == 200 and reply.body["applied"] is False
    assert sandbox.voided == {late.id}
    # The order stays failed: a late authorization never revives it.
    assert call("GET", "/orders/{order_id}", sub="alice", path_params={"order_id": order_id}).body[
        "status"] == "PAYMENT_FAILED"


def test_webhook_never_voids_another_orders_authorization(catalog, sandbox, monkeypatch):
    """Alice's order is paid; a signed event about Bob's failed order names Alice's
    authorization id. Only Bob's order is looked at, with Bob's own provider record."""
    add("alice", "mug-1", 1)
    alice = checkout("alice", "key-alice-0001")
    assert alice.status == 201
    alice_auth = sandbox.find_authorization(alice.body["order_id"])
    bob_order = pending_order(sandbox, monkeypatch, sub="bob")
    assert signed({"id": "evt_6", "type": "payment.failed",
                   "data": {"order_id": bob_order}}).body["status"] == "PAYMENT_FAILED"
    reply = signed({"id": "evt_7", "type": "payment.authorized",
                    "data": {"order_id": bob_order, "authorization_id": alice_auth.id}})
    assert reply.status == 200 and reply.body["applied"] is False
    assert sandbox.voided == set()
    assert sandbox.find_authorization(alice.body["order_id"]).approved
    assert sandbox.capture(alice_auth.id)["status"] == "captured"   # still capturable
    # Nor can such an event confirm a pending order with someone else's authorization.
    carol_order = pending_order(sandbox, monkeypatch, sub="carol")
    reply = signed({"id": "evt_8", "type": "payment.authorized",
                    "data": {"order_id": carol_order, "authorization_id": alice_auth.id}})
    assert reply.body["applied"] is False
    assert orders_repository.get(carol_order)["status"] == "PENDING_PAYMENT"


def test_webhook_rejects_bad_signatures_and_bodies(catalog, sandbox):
    raw = json.dumps({"id": "evt", "type": "payment.authorized", "data": {"order_id": "x"}}).encode()
    assert webhook(raw, None).status == 401
    assert webhook(raw, "t=1,v1=abc").status == 401
    assert webhook(raw, signature.sign(raw, "wrong")).status == 401
    reply = webhook(raw, signature.sign(raw, WEBHOOK_SECRET))
    assert reply.status == 200 and reply.body["applied"] is False  # unknown order: acknowledged
    junk = b'{"no": "shape"}'
    assert webhook(junk, signature.sign(junk, WEBHOOK_SECRET)).status == 400
    ignored = json.dumps({"id": "e", "type": "charge.refunded", "data": {}}).encode()
    assert webhook(ignored, signature.sign(ignored, WEBHOOK_SECRET)).body["applied"] is False


def test_webhook_secret_comes_from_secrets_manager(catalog, monkeypatch):
    arn = aws.secretsmanager().create_secret(
        Name="payments", SecretString=json.dumps({"webhook_secret": "from-sm"}))["ARN"]
    monkeypatch.setenv("PAYMENT_SECRET_ARN", arn)
    raw = b'{"id": "e", "type": "other", "data": {}}'
    assert webhook(raw, signature.sign(raw, "from-sm")).status == 200
    assert webhook(raw, signature.sign(raw, WEBHOOK_SECRET)).status == 401


def test_webhook_without_configured_secret_fails_closed(catalog):
    raw = b'{"id": "e", "type": "other", "data": {}}'
    assert webhook(raw, signature.sign(raw, "")).status == 401


class FakeStripeHttp(stripe.HTTPClient):
    """Answers Stripe API calls from canned responses; records requests; no network."""

    name = "fake"

    def __init__(self, responses):
        super().__init__()
        self.responses = responses
        self.requests = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        form = parse_qs(post_data.decode() if isinstance(post_data, bytes) else post_data or "")
        self.requests.append((method, url, dict(headers or {}), form))
        status, body = self.responses.pop(0)
        return json.dumps(body), status, {"request-id": "req_test"}

    def close(self):
        pass


def intent(status: str, **extra) -> dict:
    return {"id": "pi_123", "object": "payment_intent", "status": status, "amount": 500,
            "currency": "usd", "metadata": {"order_id": "o1"}, **extra}


def test_stripe_authorize_uses_order_idempotency_and_no_card_data():
    http = FakeStripeHttp([(200, intent("requires_capture"))])
    provider = StripeProvider(lambda: {"api_key": "sk_test_x"}, http_client=http)
    auth = provider.authorize(order_id="o1", amount=500, currency="USD", token="tok_visa")
    assert auth.approved and auth.id == "pi_123" and auth.provider == "stripe"
    method, url, headers, form = http.requests[0]
    assert method == "post" and url.endswith("/v1/payment_intents")
    assert headers["Idempotency-Key"] == "authorize-o1"
    assert form["capture_method"] == ["manual"] and form["currency"] == ["usd"]
    assert form["payment_method_data[card][token]"] == ["tok_visa"]
    assert form["metadata[order_id]"] == ["o1"]
    assert headers["Authorization"] == "Bearer sk_test_x"


def test_stripe_card_error_is_a_decline():
    error = {"error": {"type": "card_error", "code": "card_declined", "message": "declined",
                       "payment_intent": intent("requires_payment_method")}}
    http = FakeStripeHttp([(402, error)])
    provider = StripeProvider(lambda: {"api_key": "sk_test_x"}, http_client=http)
    auth = provider.authorize(order_id="o1", amount=500, currency="USD", token="tok_chargeDeclined")
    assert not auth.approved and auth.decline_code == "card_declined" and auth.id == "pi_123"


def test_stripe_capture_and_refund():
    http = FakeStripeHttp([(200, intent("succeeded")),
                           (200, {"id": "re_1", "object": "refund", "status": "succeeded"})])
    provider = StripeProvider(lambda: {"api_key": "sk_test_x"}, http_client=http)
    assert provider.capture("pi_123") == {"id": "pi_123", "status": "succeeded"}
    assert provider.refund("pi_123", 100) == {"id": "re_1", "status": "succeeded"}
    assert http.requests[0][1].endswith("/v1/payment_intents/pi_123/capture")
    assert http.requests[1][3]["amount"] == ["100"]


def test_stripe_webhook_verification():
    provider = StripeProvider(lambda: {"api_key": "sk", "webhook_secret": "whsec_s"})
    payload = json.dumps({"id": "evt_s", "type": "payment_intent.payment_failed",
                          "data": {"object": intent("requires_payment_method",
                                                    last_payment_error={"code": "card_declined"})}}).encode()
    header = signature.sign(payload, "whsec_s")  # Stripe's scheme: t=...,v1=HMAC(t.payload)
    event = provider.verify_webhook(payload, {"stripe-signature": header})
    assert (event.kind, event.order_id, event.decline_code) == ("failed", "o1", "card_declined")
    with pytest.raises(WebhookSignatureError):
        provider.verify_webhook(payload, {"stripe-signature": signature.sign(payload, "nope")})
    with pytest.raises(WebhookSignatureError):
        provider.verify_webhook(payload, {})


def test_provider_factory(monkeypatch):
    payment_provider.set_provider(None)
    monkeypatch.setenv("PAYMENT_PROVIDER", "stripe")
    assert isinstance(payment_provider.get_provider(), StripeProvider)
    payment_provider.set_provider(None)
    monkeypatch.setenv("PAYMENT_PROVIDER", "bogus")
    with pytest.raises(RuntimeError):
        payment_provider.get_provider()
    payment_provider.set_provider(None)


def test_stripe_unknown_token_is_a_decline_not_an_outage():
    error = {"error": {"type": "invalid_request_error", "code": "token_already_used",
                       "message": "bad token", "param": "payment_method_data[card][token]"}}
    provider = StripeProvider(lambda: {"api_key": "sk_test_x"}, http_client=FakeStripeHttp([(400, error)]))
    auth = provider.authorize(order_id="o1", amount=500, currency="USD", token="tok_used")
    assert not auth.approved and auth.decline_code == "token_already_used"
