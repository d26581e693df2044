"""Local mode's translation logic, without sockets: router, proxy events, responses, JWT
verification, catalog validation, stream/SQS event translation."""

from __future__ import annotations

import json
import platform
import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from headless_commerce import model
from headless_commerce.local import demo_catalog, events, seed
from headless_commerce.local.auth import (
    InvalidToken,
    TokenVerifier,
    authorizer_claims,
    bearer_token,
)
from headless_commerce.local.http_adapter import (
    LocalApi,
    Router,
    from_proxy_result,
    proxy_event,
)
from headless_commerce.local.subscriptions import (
    OMS_HANDOFF,
    RULE_CONSUMERS,
    event_pattern,
)
from headless_commerce.runtime.common.request import build_request, claims_from_event
from headless_commerce.runtime.routes import FUNCTIONS, ROUTES

POOL = "us-east-1_local"
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}"
CLIENT = "client-123"


# ---- router ----------------------------------------------------------------------------

def test_router_matches_every_route_and_extracts_parameters():
    router = Router()
    for route in ROUTES:
        path = route.path.replace("{product_id}", "p-1").replace("{sku}", "s-1") \
            .replace("{order_id}", "o-1")
        match = router.match(route.method, path)
        assert match.route is route
    match = router.match("PATCH", "/cart/items/abc%3A1")
    assert match.path_params == {"sku": "abc:1"}
    assert set(router.match("GET", "/cart/items/x").allowed) == {"PATCH", "DELETE"}
    assert router.match("GET", "/cart/items/x").route is None
    assert router.match("GET", "/nope").allowed == ()
    assert router.match("GET", "/products/").allowed == ()   # empty segment is no parameter
    assert router.match("GET", "/me/consents").route is None   # PUT only


def test_literal_segments_win_over_parameters():
    from headless_commerce.runtime.routes import Route

    a = Route("GET", "/orders/{order_id}", "user", "orders", "a", "")
    b = Route("GET", "/orders/latest", "user", "orders", "b", "")
    assert Router([a, b]).match("GET", "/orders/latest").route is b
    assert Router([a, b]).match("GET", "/orders/o-1").route is a


# ---- proxy event / response -------------------------------------------------------------

def _route(method, path):
    return next(r for r in ROUTES if r.method == method and r.path == path)


def test_proxy_event_is_what_the_handlers_parse():
    route = _route("PATCH", "/cart/items/{sku}")
    event = proxy_event(route, method="PATCH", path="/cart/items/s-1", query="a=1&a=2&b=",
                        headers=[("Content-Type", "application/json"), ("X-Multi", "1"),
                                 ("X-Multi", "2")],
                        body=b'{"quantity": 3}', path_params={"sku": "s-1"},
                        claims={"sub": "user-1", "email": "a@example.com", "exp": 1700000000,
                                "email_verified": True})
    assert event["resource"] == "/cart/items/{sku}" and event["httpMethod"] == "PATCH"
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["requestContext"]["stage"] == "local" and event["isBase64Encoded"] is False
    claims = event["requestContext"]["authorizer"]["claims"]
    assert claims["email_verified"] == "true" and claims["exp"].endswith("UTC 2023")
    assert claims_from_event(event).sub == "user-1"
    request = build_request(event, route)
    assert request.body == {"quantity": 3} and request.path_params == {"sku": "s-1"}

    binary = proxy_event(_route("POST", "/cart/items"), method="POST", path="/cart/items",
                         query="", headers=[], body=b"\xff\x00", path_params={}, claims=None)
    assert binary["isBase64Encoded"] is True and binary["queryStringParameters"] is None
    assert binary["pathParameters"] is None and "authorizer" not in binary["requestContext"]


def test_proxy_results_become_responses():
    status, headers, body = from_proxy_result(
        {"statusCode": 201, "headers": {"A": "1"}, "multiValueHeaders": {"B": ["x", "y"]},
         "body": '{"ok":true}'})
    assert (status, headers, body) == (201, {"A": "1", "B": "x, y"}, b'{"ok":true}')
    assert from_proxy_result({"statusCode": 200, "body": "aGk=", "isBase64Encoded": True})[2] == b"hi"
    assert from_proxy_result(None)[0] == 502 and from_proxy_result({"body": ""})[0] == 502


# ---- JWT --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})


@pytest.fixture(scope="module")
def verifier(key) -> TokenVerifier:
    return TokenVerifier(KeySet([key]).as_dict(private=False), issuer=ISSUER, client_id=CLIENT)


def token(key, **overrides) -> str:
    claims = {"sub": "user-1", "email": "a@example.com", "token_use": "id", "aud": CLIENT,
              "iss": ISSUER, "exp": int(time.time()) + 600, "iat": int(time.time()), **overrides}
    header = {"alg": "RS256", "kid": key.kid}
    return jwt.encode(header, claims, key)


def test_valid_id_token_is_accepted(key, verifier):
    assert verifier.verify(token(key))["sub"] == "user-1"


@pytest.mark.parametrize("overrides, reason", [
    ({"exp": int(time.time()) - 1}, "expired"),
    ({"aud": "another-client"}, "wrong audience"),
    ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/other"}, "wrong issuer"),
    ({"token_use": "access"}, "not an ID token"),
    ({"exp": "tomorrow"}, "no expiry"),
])
def test_bad_claims_are_rejected(key, verifier, overrides, reason):
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(token(key, **overrides))


def test_wrong_signature_and_algorithms_are_rejected(key, verifier):
    other = RSAKey.generate_key(2048, parameters={"kid": key.kid})
    with pytest.raises(InvalidToken):
        verifier.verify(token(other))                     # same kid, another key
    header, payload, _ = token(key).split(".")
    with pytest.raises(InvalidToken):
        verifier.verify(f"{header}.{payload}.")           # signature stripped
    import base64

    none_header = base64.urlsafe_b64encode(b'{"alg":"none","kid":"k1"}').decode().rstrip("=")
    with pytest.raises(InvalidToken):
        verifier.verify(f"{none_header}.{payload}.")      # alg=none
    for junk in (None, "", "a.b", "a.b.c", "x" * 5000):
        with pytest.raises(InvalidToken):
            verifier.verify(junk)


def test_a_remembered_token_still_expires_and_its_claims_stay_as_verified(key):
    now = [time.time()]
    verifier = TokenVerifier(KeySet([key]).as_dict(private=False), issuer=ISSUER, client_id=CLIENT,
                             clock=lambda: now[0])
    signed = token(key, exp=int(now[0]) + 60, groups=["customers"])
    first = verifier.verify(signed)
    first["sub"], first["groups"][0] = "someone-else", "admins"     # a caller's edits...
    again = verifier.verify(signed)
    assert again["sub"] == "user-1" and again["groups"] == ["customers"]   # ...are not kept
    now[0] += 61
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(signed)
    # A token that failed is never remembered as good: it fails again, checked again.
    forged = token(RSAKey.generate_key(2048, parameters={"kid": key.kid}))
    for _ in range(2):
        with pytest.raises(InvalidToken):
            verifier.verify(forged)


def test_remembered_tokens_are_bounded(key, monkeypatch):
    from headless_commerce.local import auth

    monkeypatch.setattr(auth, "VERIFIED_CACHE_SIZE", 3)
    verifier = TokenVerifier(KeySet([key]).as_dict(private=False), issuer=ISSUER, client_id=CLIENT)
    tokens = [token(key, sub=f"user-{n}") for n in range(5)]
    assert [verifier.verify(t)["sub"] for t in tokens] == [f"user-{n}" for n in range(5)]
    assert list(verifier._verified) == tokens[2:]


def test_bearer_and_claim_rendering():
    assert bearer_token("Bearer abc") == "abc" and bearer_token("abc") == "abc"
    assert bearer_token(None) is None and bearer_token("Bearer ") is None
    assert authorizer_claims({"exp": 0, "groups": ["a", "b"], "ok": False}) == {
        "exp": "Thu Jan 01 00:00:00 UTC 1970", "groups": "a,b", "ok": "false"}


# ---- LocalApi (gateway behaviour, handler swapped for a recorder) -------------------------------

def test_local_api_gateway_behaviour(key, verifier, monkeypatch):
    api = LocalApi(verifier=verifier, documents={"/doc.json": lambda: {"a": 1}})
    seen = []
    api._handlers["cart"] = lambda event, context: seen.append(event) or {
        "statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}
    monkeypatch.setattr(api, "ensure_profile", lambda claims: seen.append(("profile", claims["sub"])))

    status, _, body = api.handle("GET", "/cart", [], b"")
    assert status == 401 and json.loads(body)["error"]["code"] == "unauthorized" and not seen
    status, _, _ = api.handle("GET", "/cart", [("Authorization", token(key, aud="x"))], b"")
    assert status == 401 and not seen
    status, _, _ = api.handle("GET", "/cart?x=1", [("authorization", token(key))], b"")
    assert status == 200
    assert seen[0] == ("profile", "user-1")
    assert seen[1]["requestContext"]["authorizer"]["claims"]["sub"] == "user-1"
    assert seen[1]["queryStringParameters"] == {"x": "1"}
    assert api.handle("GET", "/doc.json", [], b"")[2] == b'{"a":1}'
    assert api.handle("POST", "/cart", [], b"")[0] == 405
    assert api.handle("GET", "/missing", [], b"")[0] == 404
    status, headers, body = api.handle("OPTIONS", "/cart", [], b"")
    assert status == 204 and body == b"" and headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"


def test_every_function_and_consumer_handler_imports():
    from headless_commerce.local.http_adapter import import_handler
    from headless_commerce.local.subscriptions import RELAY_HANDLER

    for spec in FUNCTIONS.values():
        assert callable(import_handler(spec.handler))
    for dotted in [RELAY_HANDLER, OMS_HANDOFF.handler, *(c.handler for c in RULE_CONSUMERS)]:
        assert callable(import_handler(dotted))


# ---- event translation -----------------------------------------------------------------------

def _stream_record(entity: str, event_name: str = "INSERT") -> dict:
    from headless_commerce.runtime.common import outbox
    from headless_commerce.runtime.common.dynamo import to_item

    envelope = outbox.event(model.EventName.CUSTOMER_CONSENT_CHANGED, {
        "customer_id": "c-1", "consents": {"email": True, "sms": False, "push": False},
        "previous": {"email": False, "sms": False, "push": False},
        "changed_at": "2026-01-01T00:00:00Z"})
    image = to_item({**model.outbox_key(envelope["id"]), "entity": entity, **envelope})
    return {"eventName": event_name, "dynamodb": {"NewImage": image, "SequenceNumber": "1"}}


def test_relay_batch_keeps_outbox_inserts_only():
    from headless_commerce.runtime.events.relay import handler

    records = [_stream_record("OUTBOX"), _stream_record("ORDER"), _stream_record("OUTBOX", "MODIFY")]
    entries = events.relay_batch(records, handler, "bus")
    assert len(entries) == 1
    assert entries[0]["Source"] == model.EventSource.CUSTOMERS
    assert entries[0]["DetailType"] == model.EventName.CUSTOMER_CONSENT_CHANGED
    assert json.loads(entries[0]["Detail"])["detail"]["customer_id"] == "c-1"
    assert events.relay_batch(records[1:], lambda r: pytest.fail("not called"), "bus") == []


def test_sqs_event_and_failures():
    messages = [{"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}", "MD5OfBody": "x",
                 "Attributes": {"MessageGroupId": "o-1"},
                 "MessageAttributes": {"reason": {"DataType": "String", "StringValue": "x"}}},
                {"MessageId": "m2", "ReceiptHandle": "r2", "Body": "{}"}]
    event = events.sqs_event(messages, "arn:aws:sqs:us-east-1:1:q.fifo", "us-east-1")
    first = event["Records"][0]
    assert first["eventSource"] == "aws:sqs" and first["attributes"]["MessageGroupId"] == "o-1"
    assert first["messageAttributes"]["reason"]["stringValue"] == "x"
    assert events.failed_ids({"batchItemFailures": [{"itemIdentifier": "m2"}]}, messages) == {"m2"}
    assert events.failed_ids({"batchItemFailures": []}, messages) == set()
    assert events.failed_ids(None, messages) == {"m1", "m2"}


def test_oms_pipe_message_uses_order_id_and_event_id():
    envelope = {"id": "evt-1", "detail": {"order_id": "o-9"}, "detail_type": "OrderPlaced"}
    buffer_message = {"Body": json.dumps({"detail-type": "OrderPlaced", "detail": envelope})}
    kwargs = events.oms_message(buffer_message)
    assert kwargs == {"MessageBody": json.dumps(envelope), "MessageGroupId": "o-9",
                      "MessageDeduplicationId": "evt-1"}
    with pytest.raises(KeyError):
        events.oms_message({"Body": json.dumps({"detail": {}})})


def test_local_rule_patterns_match_the_deployed_subscriptions():
    by_name = {c.name: c for c in RULE_CONSUMERS}
    assert event_pattern(by_name["consent_ledger"]) == {
        "detail-type": ["CustomerConsentChanged"], "source": ["commerce.customers"]}


# ---- catalog ---------------------------------------------------------------------------------

def test_demo_catalog_is_valid_deterministic_and_big_enough():
    catalog = demo_catalog.generate()
    seed.validate(catalog)
    assert catalog == demo_catalog.generate()
    assert len(catalog["products"]) >= 200
    leaves = {c["category_id"] for c in catalog["categories"] if c.get("parent_id")}
    assert len(leaves) >= 8 and {p["category_id"] for p in catalog["products"]} == leaves
    assert len({p["brand"] for p in catalog["products"]}) >= 8
    assert all(isinstance(p["price_amount"], int) for p in catalog["products"])
    seed.validate(demo_catalog.generate(1000))


@pytest.mark.parametrize("mutate, where, field", [
    (lambda c: c["products"][3].update(price_amount=19.99), 'products[3] (product_id "p-0004")', "price_amount"),
    (lambda c: c["products"][3].update(price_amount=True), 'products[3] (product_id "p-0004")', "price_amount"),
    (lambda c: c["products"][5].update(category_id="nope"), 'products[5] (product_id "p-0006")', "category_id"),
    (lambda c: c["products"][2]["skus"][0].update(sku=c["products"][1]["skus"][0]["sku"]),
     'products[2] (product_id "p-0003")', "skus[0].sku"),
    (lambda c: c["products"][4].update(product_id="p-0001"), 'products[4] (product_id "p-0001")', "product_id"),
    (lambda c: c["products"][0].update(images=["ftp://x"]), 'products[0] (product_id "p-0001")', "images"),
    (lambda c: c["products"][0].update(currency="EUR"), 'products[0] (product_id "p-0001")', "currency"),
    (lambda c: c["products"][0].update(colour="red"), 'products[0] (product_id "p-0001")', "colour"),
    (lambda c: c["products"][0].update(skus=[]), 'products[0] (product_id "p-0001")', "skus"),
    (lambda c: c["categories"][0].update(parent_id="tops"), 'categories[0] (category_id "apparel")', "parent_id"),
    (lambda c: c["categories"][1].update(category_id="bad id"), 'categories[1] (category_id "bad id")', "category_id"),
])
def test_invalid_catalog_names_record_and_field(mutate, where, field):
    catalog = demo_catalog.generate(10)
    mutate(catalog)
    with pytest.raises(seed.CatalogError) as problem:
        seed.validate(catalog)
    assert str(problem.value).startswith(where + ":"), str(problem.value)
    assert f"field {field!r}" in str(problem.value)


def test_catalog_shape_errors():
    for document, text in [([], "must be a JSON object"), ({"products": []}, "categories"),
                           ({"categories": [{"category_id": "a", "name": "A"}], "products": []},
                            "products"),
                           ({"categories": [], "products": [], "x": 1}, "unknown top-level")]:
        with pytest.raises(seed.CatalogError, match=text):
            seed.validate(document)


def test_scheduled_invoker_delivers_scheduled_events_until_stopped():
    import threading

    calls = []
    stop = threading.Event()
    invoker = events.ScheduledInvoker("order_sweeper", handler=lambda event, context: calls.append(event),
                                      region="us-east-1", stop=stop, interval=0.05)
    invoker.start()
    time.sleep(0.3)
    stop.set()
    invoker.join(timeout=2)
    assert not invoker.is_alive() and len(calls) >= 2
    assert calls[0]["detail-type"] == "Scheduled Event" and calls[0]["source"] == "aws.events"
    assert calls[0]["resources"][0].endswith(":rule/order_sweeper")


def test_malloc_arenas_are_capped_unless_the_environment_says(monkeypatch):
    from headless_commerce.local import server

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert server.limit_malloc_arenas() is False          # the user's setting stands
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert server.limit_malloc_arenas() is (platform.libc_ver()[0] == "glibc")


def test_event_flow_polls_in_the_gaps_between_api_requests(monkeypatch):
    import threading
    import time

    from headless_commerce.local.http_adapter import Traffic

    monkeypatch.setattr(events, "FLOW_DEFER_S", 1.0)
    traffic = Traffic()
    assert traffic.wait_quiet(5)                         # nothing in flight: at once
    polled: list[float] = []

    class Poller(events._Poller):
        def poll(self) -> bool:
            polled.append(time.monotonic())
            return False

    stop = threading.Event()
    poller = Poller("deferring", stop, interval=0.05)
    poller.traffic = traffic
    with traffic:                                       # a request being answered
        started = time.monotonic()
        assert not traffic.wait_quiet(0.1)               # still busy after the limit
        poller.start()
        time.sleep(0.1)
        assert polled == []                              # the poller waits for the gap...
    poller.wake()
    deadline = time.monotonic() + 5
    while not polled and time.monotonic() < deadline:
        time.sleep(0.01)
    assert polled and polled[0] - started < events.FLOW_DEFER_S + 1   # ...or the limit
    with traffic:                                       # steady traffic: it still polls
        count = len(polled)
        poller.wake()
        time.sleep(events.FLOW_DEFER_S * 2.5)
        assert len(polled) > count
    stop.set()
    poller.wake()
    poller.join(5)
