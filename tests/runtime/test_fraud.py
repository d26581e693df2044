"""The transaction risk scorer in checkout: each rule, the thresholds, failing safe, the decision
records, held orders (ON_HOLD) and their review, denial as a generic 422, and velocity limits
under concurrent checkouts."""

from __future__ import annotations

import dataclasses
import io
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from headless_commerce import model
from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.common import aws, dynamo
from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.events.contracts import validate_event
from headless_commerce.runtime.fraud import config as fraud_config
from headless_commerce.runtime.fraud import model_endpoint, review, rules, scorer
from headless_commerce.runtime.fraud import repository as fraud_repository
from headless_commerce.runtime.fraud.config import ConfigError, FraudConfig, Rule
from headless_commerce.runtime.fraud.screen import FraudContext, FraudDecision, Outcome, pass_through
from headless_commerce.runtime.orders import checkout as checkout_service
from headless_commerce.runtime.orders import repository as orders_repository
from headless_commerce.runtime.orders import sweeper
from headless_commerce.runtime.payments import sandbox as sandbox_module
from tests.runtime.conftest import add, api_event, invoke

PUBLIC_IP = "93.184.216.34"


def context(**fields) -> FraudContext:
    base = {"customer_id": "alice", "email": "alice@example.com", "amount": 1250, "currency": "USD",
            "lines": ({"sku": "mug-1", "quantity": 1, "unit_price": 1250},), "shipping_address": None,
            "payment_token": "tok_visa", "attempt_key": "alice:key-1"}
    return FraudContext(**{**base, **fields})


def rule(name: str, **fields) -> Rule:
    return dataclasses.replace(fraud_config.DEFAULT_RULES[name], **fields)


def address(country: str) -> dict:
    return {"name": "A Shopper", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
            "country": country}


def checkout(sub: str, key: str, *, ip: str | None = None, token: str = "tok_visa", **body):
    event = api_event("POST", "/checkout", sub=sub, headers={"Idempotency-Key": key},
                      body={"payment_token": token, **body})
    if ip is not None:
        event["requestContext"]["identity"] = {"sourceIp": ip}
    return invoke(event)


def outbox(detail_type: str) -> list[dict]:
    items = aws.dynamodb().scan(TableName=dynamo.table_name(), FilterExpression="entity = :e",
                                ExpressionAttributeValues=dynamo.values(e="OUTBOX"))["Items"]
    return [e for e in map(dynamo.from_item, items) if e["detail_type"] == detail_type]


def inventory(sku: str) -> dict:
    return dynamo.get(model.inventory_key(sku))


@pytest.fixture
def fraud_env(monkeypatch):
    """Set FRAUD_CONFIG for the handler's scorer (built once per distinct setting)."""
    def configure(overrides: dict) -> None:
        monkeypatch.setenv("FRAUD_CONFIG", json.dumps(overrides))
    yield configure


# ---- configuration -----------------------------------------------------------------------

def test_every_configured_rule_has_one_function_and_the_defaults_are_valid():
    assert set(rules.RULES) == set(fraud_config.RULE_NAMES)
    defaults = FraudConfig()
    assert defaults.review_at < defaults.deny_at
    assert fraud_config.from_json(None) == defaults
    assert all(r.weight > 0 and r.enabled for r in defaults.rules.values())


def test_overrides_apply_key_by_key_and_keep_the_other_defaults():
    config = fraud_config.from_json(json.dumps({
        "review_at": 40, "rules": {"customer_velocity": {"limit": 3, "weight": 60}},
        "disposable_domains": ["Spam.Example"], "trusted_proxy_cidrs": ["198.51.100.0/24"]}))
    assert config.review_at == 40 and config.deny_at == 90
    assert config.rule("customer_velocity") == Rule(weight=60, limit=3)
    assert config.rule("ip_velocity") == fraud_config.DEFAULT_RULES["ip_velocity"]
    assert config.disposable_domains == ("spam.example",)
    assert config.trusted_proxy_cidrs == ("198.51.100.0/24",)


@pytest.mark.parametrize(("overrides", "named"), [
    ({"review_threshold": 10}, "review_threshold"),
    ({"rules": {"velocity": {}}}, "velocity"),
    ({"rules": {"ip_velocity": {"limit": 0}}}, "rules.ip_velocity.limit"),
    ({"rules": {"ip_velocity": {"weight": "high"}}}, "rules.ip_velocity.weight"),
    ({"rules": {"ip_velocity": {"burst": 1}}}, "burst"),
    ({"rules": {"amount_vs_history": {"multiplier": 0.5}}}, "multiplier"),
    ({"rules": {"disposable_email": {"enabled": "no"}}}, "enabled"),
    ({"review_at": 90, "deny_at": 90}, "deny_at"),
    ({"trusted_proxy_cidrs": ["not-a-cidr"]}, "trusted_proxy_cidrs"),
    ({"disposable_domains": "mailinator.com"}, "disposable_domains"),
])
def test_bad_configuration_is_refused_naming_the_key(overrides, named):
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")) as raised:
        fraud_config.from_json(json.dumps(overrides))
    assert "FRAUD_CONFIG" in str(raised.value)


def test_the_environment_is_validated_when_the_screen_is_built(monkeypatch):
    monkeypatch.setenv("FRAUD_CONFIG", "{not json")
    with pytest.raises(ValueError, match="FRAUD_CONFIG is not valid JSON"):
        scorer.from_environment()
    monkeypatch.delenv("FRAUD_CONFIG")
    monkeypatch.setenv("FRAUD_MODEL_TIMEOUT_MS", "10")
    with pytest.raises(ValueError, match="FRAUD_MODEL_TIMEOUT_MS"):
        scorer.from_environment()
    monkeypatch.delenv("FRAUD_MODEL_TIMEOUT_MS")
    monkeypatch.setenv("FRAUD_SCREEN", "maybe")
    with pytest.raises(ValueError, match="FRAUD_SCREEN"):
        scorer.from_environment()
    monkeypatch.setenv("FRAUD_SCREEN", "off")
    assert scorer.from_environment() is pass_through
    monkeypatch.delenv("FRAUD_SCREEN")
    assert isinstance(scorer.from_environment(), scorer.RiskScorer)


# ---- each rule, triggering and not -------------------------------------------------------

def test_customer_velocity_counts_attempts_in_the_window_and_a_retry_once(table):
    limit = rule("customer_velocity", limit=2)
    config = FraudConfig()
    seen = [rules.customer_velocity(context(attempt_key=f"alice:k{i}"), limit, config) for i in range(3)]
    assert [f.triggered for f in seen] == [False, False, True]
    assert [f.seen["count"] for f in seen] == [1, 2, 3]
    # The same request again (a retry with its Idempotency-Key) is the same attempt.
    again = rules.customer_velocity(context(attempt_key="alice:k2"), limit, config)
    assert again.seen["count"] == 3
    # Another customer has their own counter.
    assert not rules.customer_velocity(context(customer_id="bob", attempt_key="bob:k0"), limit, config).triggered


def test_velocity_windows_are_fixed_and_expire(table):
    start = 1_800_000_000 - 1_800_000_000 % 3600
    assert fraud_repository.record_attempt("customer", "alice", "a1", 3600, now=start + 10) == 1
    assert fraud_repository.record_attempt("customer", "alice", "a2", 3600, now=start + 3599) == 2
    assert fraud_repository.record_attempt("customer", "alice", "a3", 3600, now=start + 3600) == 1
    item = dynamo.get(model.fraud_velocity_key("customer", fraud_repository.digest("alice"), start))
    assert item[model.TTL_ATTRIBUTE] == start + 7200 and item["entity"] == model.Entity.FRAUD_VELOCITY
    # Only digests are stored: no raw value, no raw attempt key.
    assert "alice" not in json.dumps(item)


def test_payment_token_velocity_counts_across_customers_and_stores_no_token(table):
    limit = rule("payment_token_velocity", limit=2)
    config = FraudConfig()
    found = [rules.payment_token_velocity(context(customer_id=c, attempt_key=f"{c}:k", payment_token="pm_card_1"),
                                          limit, config) for c in ("a", "b", "c")]
    assert [f.triggered for f in found] == [False, False, True]
    assert rules.payment_token_velocity(context(payment_token=None), limit, config) == rules.NOT_APPLICABLE
    # The providers' shared test tokens identify no card.
    for _ in range(3):
        assert rules.payment_token_velocity(context(payment_token="tok_visa"), limit, config) == rules.NOT_APPLICABLE
    raw = json.dumps(aws.dynamodb().scan(TableName=dynamo.table_name())["Items"])
    assert "pm_card_1" not in raw


def test_ip_velocity_counts_public_addresses_only(table):
    limit = rule("ip_velocity", limit=1)
    config = FraudConfig(trusted_proxy_cidrs=("198.51.100.0/24",))
    first = rules.ip_velocity(context(source_ip=PUBLIC_IP, attempt_key="a:1"), limit, config)
    second = rules.ip_velocity(context(source_ip=PUBLIC_IP, attempt_key="b:1"), limit, config)
    assert (first.triggered, second.triggered) == (False, True)
    for not_a_shopper in ("127.0.0.1", "10.0.3.4", "192.168.1.1", "fe80::1", "198.51.100.9", None, "garbage"):
        assert rules.ip_velocity(context(source_ip=not_a_shopper), limit, config) == rules.NOT_APPLICABLE


def _past_order(sub: str, total: int, status: str = "CONFIRMED") -> None:
    order_id = f"past-{total}-{status}"
    now = now_iso()
    dynamo.put({**model.order_key(order_id), **model.order_index_keys(sub, now, order_id),
                model.ENTITY_ATTRIBUTE: model.Entity.ORDER, "order_id": order_id, "customer_id": sub,
                "status": status, "total": total, "currency": "USD", "lines": [], "created_at": now})


def test_amount_vs_history(table):
    check = rule("amount_vs_history", multiplier=3.0, min_amount=5_000)
    config = FraudConfig()
    assert not rules.amount_vs_history(context(amount=20_000), check, config).triggered  # no history
    _past_order("alice", 2_000)
    _past_order("alice", 4_000)
    _past_order("alice", 900_000, status="PAYMENT_FAILED")  # never spent: not history
    assert rules.amount_vs_history(context(amount=9_001), check, config).triggered  # > 3 x 3000
    assert not rules.amount_vs_history(context(amount=9_000), check, config).triggered
    assert not rules.amount_vs_history(context(amount=4_999), check, config).triggered  # below min_amount


def test_country_mismatch():
    check, config = rule("country_mismatch"), FraudConfig()
    assert rules.country_mismatch(context(shipping_address=address("US"), billing_address=address("DE")),
                                  check, config).triggered
    assert not rules.country_mismatch(context(shipping_address=address("US"), billing_address=address("US")),
                                      check, config).triggered
    assert rules.country_mismatch(context(shipping_address=address("US")), check, config) == rules.NOT_APPLICABLE


def test_new_account_high_value(table):
    check = rule("new_account_high_value", min_amount=50_000, max_account_age_days=7)
    config = FraudConfig()
    assert rules.new_account_high_value(context(amount=60_000), check, config).triggered  # no profile: new
    dynamo.put({**model.customer_key("alice"), model.ENTITY_ATTRIBUTE: model.Entity.CUSTOMER,
                "customer_id": "alice", "created_at": now_iso()})
    assert rules.new_account_high_value(context(amount=60_000), check, config).triggered
    assert not rules.new_account_high_value(context(amount=49_999), check, config).triggered
    old = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    dynamo.put({**model.customer_key("alice"), model.ENTITY_ATTRIBUTE: model.Entity.CUSTOMER,
                "customer_id": "alice", "created_at": old})
    assert not rules.new_account_high_value(context(amount=60_000), check, config).triggered


@pytest.mark.parametrize(("email", "hit"), [
    ("x@mailinator.com", True), ("x@inbox.Mailinator.com", True), ("x@yopmail.com.", True),
    ("x@example.com", False), ("x@notmailinator.com", False),
])
def test_disposable_email(email, hit):
    assert rules.disposable_email(context(email=email), rule("disposable_email"), FraudConfig()).triggered is hit


def test_disposable_email_without_an_address_does_not_apply():
    assert rules.disposable_email(context(email=None), rule("disposable_email"), FraudConfig()) == rules.NOT_APPLICABLE


# ---- thresholds and failing safe ---------------------------------------------------------

def _scorer(weights: dict[str, int], monkeypatch, *, failing: tuple[str, ...] = (), **config) -> scorer.RiskScorer:
    """A scorer whose rules are stubs: the named ones trigger with these weights."""
    def stub(name):
        def check(context, rule, config):
            if name in failing:
                raise RuntimeError("boom")
            return rules.Finding(True, {"stub": name})
        return check
    monkeypatch.setattr(scorer, "RULES", {name: stub(name) for name in (*weights, *failing)})
    configured = {**fraud_config.DEFAULT_RULES,
                  **{n: Rule(weight=w) for n, w in weights.items()},
                  **{n: Rule(weight=1) for n in failing}}
    return scorer.RiskScorer(FraudConfig(rules=configured, **config))


@pytest.mark.parametrize(("score", "outcome"), [
    (49, Outcome.APPROVE), (50, Outcome.REVIEW), (51, Outcome.REVIEW),
    (89, Outcome.REVIEW), (90, Outcome.DENY), (91, Outcome.DENY),
])
def test_score_at_just_below_and_above_each_threshold(score, outcome, monkeypatch):
    decision = _scorer({"disposable_email": score}, monkeypatch, review_at=50, deny_at=90)(context())
    assert (decision.score, decision.outcome) == (score, outcome)
    assert decision.reasons == ("disposable_email",)


def test_weights_add_up_and_disabled_rules_do_not_run(monkeypatch):
    screen = _scorer({"disposable_email": 30, "country_mismatch": 30}, monkeypatch)
    assert screen(context()).score == 60
    screen.config = dataclasses.replace(screen.config, rules={
        **screen.config.rules, "country_mismatch": Rule(weight=30, enabled=False)})
    decision = screen(context())
    assert decision.score == 30 and "country_mismatch" not in decision.details


def test_a_failing_rule_forces_review_never_approval(monkeypatch):
    decision = _scorer({}, monkeypatch, failing=("ip_velocity",))(context())
    assert decision.outcome is Outcome.REVIEW and decision.reasons == ("error:ip_velocity",)
    assert decision.details["ip_velocity"] == {"error": "RuntimeError"}
    # A deny stays a deny.
    denied = _scorer({"disposable_email": 95}, monkeypatch, failing=("ip_velocity",))(context())
    assert denied.outcome is Outcome.DENY


def test_the_velocity_store_failing_holds_the_order_and_checkout_still_answers(catalog, sandbox, monkeypatch):
    add("alice", "mug-1", 1)
    real = aws.dynamodb().update_item

    def broken(**kwargs):
        if kwargs["Key"]["pk"]["S"].startswith("VELOCITY#"):
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                              "UpdateItem")
        return real(**kwargs)

    monkeypatch.setattr(aws.dynamodb(), "update_item", broken)
    reply = checkout("alice", "key-broken-0001")
    assert reply.status == 201 and reply.body["status"] == "ON_HOLD"
    decision = fraud_repository.get_decision(reply.body["order_id"])
    assert decision["outcome"] == "review"
    assert "error:customer_velocity" in decision["reasons"]
    assert sandbox.authorize_calls == 0


def test_a_screen_that_raises_holds_the_order(catalog, sandbox):
    add("alice", "mug-1", 1)

    def broken(context):
        raise KeyError("surprise")

    reply = checkout_service.checkout("alice", None, "key-raise-0001", {"payment_token": "tok_visa"}, screen=broken)
    assert reply.status == 201 and reply.body["status"] == "ON_HOLD"
    assert fraud_repository.get_decision(reply.body["order_id"])["reasons"] == ["error:screen"]


# ---- the model endpoint ------------------------------------------------------------------

def _stubbed_model(monkeypatch, *responses):
    client = aws.fail_fast_client("sagemaker-runtime", 0.3)
    stubber = Stubber(client)
    for response in responses:
        if isinstance(response, Exception):
            stubber.add_client_error("invoke_endpoint", service_error_code="ModelError", http_status_code=424)
        else:
            body = json.dumps(response).encode()
            stubber.add_response("invoke_endpoint", {"Body": StreamingBody(io.BytesIO(body), len(body)),
                                                     "ContentType": "application/json"})
    stubber.activate()
    return stubber


def test_model_score_adds_to_the_rules_and_errors_force_review(table, monkeypatch):
    monkeypatch.setattr(scorer, "RULES", {})
    screen = scorer.RiskScorer(FraudConfig(model_weight=60), model_endpoint_name="fraud-model")
    stubber = _stubbed_model(monkeypatch, {"score": 0.9}, 0.1, {"score": 1.5}, "nonsense", RuntimeError())
    high = screen(context())
    assert (high.outcome, high.score, high.reasons) == (Outcome.REVIEW, 54, ("model",))
    low = screen(context())
    assert (low.outcome, low.score) == (Outcome.APPROVE, 6)
    for _ in range(3):  # out of range, not a score, an endpoint error
        failed = screen(context())
        assert failed.outcome is Outcome.REVIEW and failed.reasons == ("error:model",)
    stubber.assert_no_pending_responses()


def test_a_model_endpoint_that_does_not_answer_times_out_quickly(table, monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def hold_connections():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # read nothing, answer nothing
            except OSError:
                continue

    thread = threading.Thread(target=hold_connections, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", f"http://127.0.0.1:{listener.getsockname()[1]}")
    monkeypatch.setenv("FRAUD_MODEL_TIMEOUT_MS", "200")
    aws.reset_clients()
    monkeypatch.setattr(scorer, "RULES", {})
    try:
        started = time.monotonic()
        decision = scorer.RiskScorer(model_endpoint_name="fraud-model")(context())
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()
        aws.reset_clients()
    assert decision.outcome is Outcome.REVIEW and decision.reasons == ("error:model",)
    assert decision.details["model"] == {"error": "ModelError"}
    assert elapsed < 1.5  # one attempt, no retries


def test_model_features_carry_no_personal_data():
    payload = model_endpoint.features(context(email="alice@example.com", source_ip=PUBLIC_IP), 30, ("x",))
    assert set(payload) == {"amount", "currency", "line_count", "item_count", "rule_score", "triggered"}


# ---- checkout: decisions, records, held orders, denial -----------------------------------

def test_every_decision_is_recorded_with_its_reasons(catalog, sandbox, fraud_env):
    fraud_env({"rules": {"disposable_email": {"weight": 95}, "country_mismatch": {"weight": 50}}})
    add("alice", "mug-1", 1)
    approved = checkout("alice", "key-approve-0001")
    assert approved.status == 201 and approved.body["status"] == "CONFIRMED"
    add("alice", "mug-1", 1)
    held = checkout("alice", "key-review-0001", shipping_address=address("US"), billing_address=address("FR"))
    assert held.status == 201 and held.body["status"] == "ON_HOLD"
    add("dave", "mug-1", 1)
    denied = invoke(api_event("POST", "/checkout", sub="dave", email="dave@mailinator.com",
                              headers={"Idempotency-Key": "key-deny-0001"}, body={"payment_token": "tok_visa"}))
    assert denied.status == 422

    records = {r["outcome"]: r for r in (*fraud_repository.decisions_for_customer("alice"),
                                         *fraud_repository.decisions_for_customer("dave"))}
    assert set(records) == {"approve", "review", "deny"}
    assert records["approve"]["order_id"] == approved.body["order_id"] and records["approve"]["reasons"] == []
    assert records["review"]["order_id"] == held.body["order_id"]
    assert records["review"]["reasons"] == ["country_mismatch"] and records["review"]["score"] == 50
    assert records["review"]["details"]["country_mismatch"] == {"shipping": "US", "billing": "FR"}
    assert records["deny"].get("order_id") is None and records["deny"]["reasons"] == ["disposable_email"]
    assert records["deny"]["details"]["disposable_email"] == {"domain": "mailinator.com"}
    for record in records.values():
        assert record["screen"] == "rules" and record["amount"] == 1250 and record[model.TTL_ATTRIBUTE] > 0


def test_denial_is_a_generic_422_that_reserves_nothing_and_leaks_no_reason(catalog, sandbox, fraud_env):
    fraud_env({"rules": {"disposable_email": {"weight": 95}}})
    add("dave", "mug-1", 1)
    reply = invoke(api_event("POST", "/checkout", sub="dave", email="dave@mailinator.com",
                             headers={"Idempotency-Key": "key-deny-0001"}, body={"payment_token": "tok_visa"}))
    assert reply.status == 422
    assert reply.body == {"error": {"code": "order_rejected", "message": "The order could not be accepted",
                                    "field": None}}
    text = json.dumps(reply.body).lower()
    assert not any(word in text for word in ("fraud", "disposable", "score", "mailinator", "risk"))
    assert catalog_repository.get_stock("mug-1") == 10 and sandbox.authorize_calls == 0
    assert outbox("OrderPlaced") == [] and outbox("OrderHeldForReview") == []


def test_a_held_order_keeps_its_stock_is_not_charged_and_is_announced_once(catalog, sandbox, fraud_env):
    fraud_env({"rules": {"country_mismatch": {"weight": 60}}})
    add("alice", "pan-1", 2)
    body = {"shipping_address": address("US"), "billing_address": address("DE")}
    first = checkout("alice", "key-held-0001", **body)
    assert first.status == 201 and first.body["status"] == "ON_HOLD"
    order_id = first.body["order_id"]
    # Retries with the same key, sequential and concurrent, answer the same held order.
    with ThreadPoolExecutor(5) as pool:
        replays = list(pool.map(lambda _: checkout("alice", "key-held-0001", **body), range(5)))
    assert {(r.status, r.body["order_id"], r.body["status"]) for r in replays} == {(201, order_id, "ON_HOLD")}
    assert inventory("pan-1")["stock"] == 1 and inventory("pan-1")["reserved"] == 2
    assert sandbox.authorize_calls == 0
    held_events = outbox("OrderHeldForReview")
    assert len(held_events) == 1 and outbox("OrderPlaced") == []
    envelope = {k: v for k, v in held_events[0].items() if k not in ("pk", "sk", "entity", "expires_at")}
    validate_event(envelope)
    assert envelope["detail"]["status"] == "ON_HOLD" and "reasons" not in envelope["detail"]
    # The sweeper never settles a held order, however old.
    counts = sweeper.sweep(datetime.now(UTC) + timedelta(days=30), timedelta(minutes=15))
    assert counts["found"] == 0
    assert orders_repository.get(order_id)["status"] == "ON_HOLD"
    # The shopper sees it held in their orders; the stored token is not shown.
    assert "payment_token" not in json.dumps(first.body)


def test_release_pays_the_held_order_and_publishes_order_placed(catalog, sandbox, fraud_env):
    fraud_env({"rules": {"country_mismatch": {"weight": 60}}})
    add("alice", "pan-1", 1)
    order_id = checkout("alice", "key-held-0001", shipping_address=address("US"),
                        billing_address=address("DE")).body["order_id"]
    assert [h["order"]["order_id"] for h in review.held()] == [order_id]
    assert review.held()[0]["reasons"] == ["country_mismatch"]

    released = review.handler({"action": "release", "order_id": order_id, "reviewer": "sam", "note": "called"})
    assert released["order"]["status"] == "CONFIRMED"
    assert sandbox.authorize_calls == 1 and sandbox.charges[0].amount == 4500
    stored = orders_repository.get(order_id)
    assert "payment_token" not in stored and not {model.GSI2.partition_key, model.GSI2.sort_key} & set(stored)
    assert inventory("pan-1")["stock"] == 2 and inventory("pan-1")["reserved"] == 0
    assert len(outbox("OrderPlaced")) == 1
    assert sorted(e["detail"]["to"] for e in outbox("OrderStatusChanged")) == ["CONFIRMED", "PENDING_PAYMENT"]
    assert fraud_repository.get_decision(order_id)["review"]["verdict"] == "released"
    # Reviewed once: a second release (another reviewer) changes nothing.
    assert review.handler({"action": "release", "order_id": order_id, "reviewer": "kim"}) == {
        "error": "the order is not held for review"}
    assert sandbox.authorize_calls == 1
    assert review.held() == []


def test_reject_cancels_the_held_order_and_gives_the_stock_back(catalog, sandbox, fraud_env):
    fraud_env({"rules": {"country_mismatch": {"weight": 60}}})
    add("alice", "pan-1", 2)
    order_id = checkout("alice", "key-held-0001", shipping_address=address("US"),
                        billing_address=address("DE")).body["order_id"]
    rejected = review.handler({"action": "reject", "order_id": order_id, "reviewer": "sam"})
    assert rejected["order"]["status"] == "CANCELLED"
    assert inventory("pan-1")["stock"] == 3 and inventory("pan-1")["reserved"] == 0
    assert sandbox.authorize_calls == 0
    assert [e["detail"] for e in outbox("OrderStatusChanged")] == [
        {"order_id": order_id, "customer_id": "alice", "from": "ON_HOLD", "to": "CANCELLED"}]
    assert outbox("OrderPlaced") == []
    assert fraud_repository.get_decision(order_id)["review"]["verdict"] == "rejected"
    assert "payment_token" not in orders_repository.get(order_id)


@pytest.mark.parametrize(("event", "error"), [
    ("list", "the payload must be a JSON object"),
    ({"action": "delete"}, "action must be one of list, release, reject"),
    ({"action": "release", "order_id": "o-1"}, "reviewer must be a non-empty string"),
    ({"action": "reject", "order_id": "unknown", "reviewer": "sam"}, "the order is not held for review"),
])
def test_review_requests_are_checked(table, event, error):
    assert review.handler(event)["error"].startswith(error)


# ---- velocity under concurrency ----------------------------------------------------------

def test_shoppers_racing_one_payment_token_past_its_limit(catalog, sandbox, fraud_env, monkeypatch):
    # A saved card's token (the sandbox approves it here; its public test tokens never count).
    monkeypatch.setattr(sandbox_module, "APPROVED", sandbox_module.APPROVED | {"pm_saved_card"})
    fraud_env({"rules": {"payment_token_velocity": {"limit": 3, "weight": 60}}})
    shoppers = [f"racer{i}" for i in range(8)]
    for sub in shoppers:
        add(sub, "tee-s", 1)
    start = threading.Barrier(len(shoppers))

    def go(sub):
        start.wait()
        return checkout(sub, f"key-{sub}-0001", token="pm_saved_card")

    with ThreadPoolExecutor(len(shoppers)) as pool:
        replies = list(pool.map(go, shoppers))
    statuses = sorted(r.body.get("status", r.body.get("error", {}).get("code")) for r in replies)
    assert all(r.status == 201 for r in replies), [(r.status, r.body.get("error")) for r in replies]
    assert statuses == ["CONFIRMED"] * 3 + ["ON_HOLD"] * 5
    assert sandbox.authorize_calls == 3
    assert catalog_repository.get_stock("tee-s") == 12  # every order, held or paid, reserved its unit


def test_one_customer_racing_several_keys_counts_each_attempt_once(catalog, sandbox, fraud_env, monkeypatch):
    fraud_env({"rules": {"customer_velocity": {"limit": 2, "weight": 60}}})
    add("alice", "mug-1", 1)
    screened: list[str] = []
    record = fraud_repository.record_attempt

    def spy(dimension, value, attempt, window_s, now=None):
        if dimension == "customer":
            screened.append(attempt)
        return record(dimension, value, attempt, window_s, now)

    monkeypatch.setattr(fraud_repository, "record_attempt", spy)
    keys = [f"tab-{i}-key-0001" for i in range(6)]
    requests = keys + keys[:2]  # two tabs also retry their own request
    start = threading.Barrier(len(requests))

    def go(key):
        start.wait()
        return checkout("alice", key)

    with ThreadPoolExecutor(len(requests)) as pool:
        replies = list(pool.map(go, requests))
    # One cart: one order (the other tabs are told which one it became).
    orders = {r.body["order_id"] for r in replies if r.status == 201}
    assert len(orders) == 1
    window = int(time.time()) - int(time.time()) % 3600
    counter = dynamo.get(model.fraud_velocity_key("customer", fraud_repository.digest("alice"), window))
    # Each distinct request that reached the screen counts once, however often it was sent
    # (a tab that read the cart after the winner consumed it is refused before screening).
    assert len(counter["attempts"]) == len(set(screened)) <= len(keys)
    add("alice", "mug-1", 1)
    later = checkout("alice", "key-later-0001")
    assert later.body["status"] == ("ON_HOLD" if len(set(screened)) + 1 > 2 else "CONFIRMED")


def test_the_source_address_reaches_the_screen_from_the_proxy_event(catalog, sandbox, fraud_env):
    fraud_env({"rules": {"ip_velocity": {"limit": 1, "weight": 60}}})
    add("alice", "mug-1", 1)
    add("bob", "mug-1", 1)
    add("carol", "mug-1", 1)
    assert checkout("alice", "key-ip-0001", ip=PUBLIC_IP).body["status"] == "CONFIRMED"
    assert checkout("bob", "key-ip-0002", ip=PUBLIC_IP).body["status"] == "ON_HOLD"
    assert checkout("carol", "key-ip-0003", ip="10.0.0.9").body["status"] == "CONFIRMED"


def test_screening_off_is_an_explicit_pass_through(catalog, sandbox, monkeypatch):
    monkeypatch.setenv("FRAUD_SCREEN", "off")
    add("dave", "mug-1", 1)
    reply = invoke(api_event("POST", "/checkout", sub="dave", email="dave@mailinator.com",
                             headers={"Idempotency-Key": "key-off-0001"}, body={"payment_token": "tok_visa"}))
    assert reply.body["status"] == "CONFIRMED"
    record = fraud_repository.get_decision(reply.body["order_id"])
    assert (record["screen"], record["outcome"], record["reasons"]) == ("off", "approve", ["screening off"])
    velocity = aws.dynamodb().scan(TableName=dynamo.table_name(), FilterExpression="entity = :e",
                                   ExpressionAttributeValues=dynamo.values(e=model.Entity.FRAUD_VELOCITY))
    assert velocity["Items"] == []


def test_billing_address_is_optional_and_validated(catalog, sandbox):
    add("alice", "mug-1", 1)
    bad = checkout("alice", "key-bill-0001", billing_address={"country": "usa"})
    assert bad.status == 400 and bad.body["error"]["field"].startswith("billing_address")
    assert checkout("alice", "key-bill-0002", billing_address=address("US")).status == 201


def test_decision_passes_the_screen_a_full_context(catalog, sandbox):
    add("alice", "mug-1", 2)
    seen: list[FraudContext] = []

    def spy(context):
        seen.append(context)
        return FraudDecision(outcome=Outcome.APPROVE)

    checkout_service.checkout("alice", "alice@example.com", "key-ctx-0001",
                              {"payment_token": "tok_visa", "billing_address": address("GB")},
                              screen=spy, source_ip=PUBLIC_IP)
    (ctx,) = seen
    assert (ctx.amount, ctx.email, ctx.source_ip, ctx.payment_token) == (2500, "alice@example.com", PUBLIC_IP,
                                                                         "tok_visa")
    assert ctx.billing_address["country"] == "GB" and ctx.attempt_key == "alice:key-ctx-0001"
