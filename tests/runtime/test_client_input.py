"""No client input causes a 5xx: the reported cases, then property-based tests (hypothesis)
over every parser of client input — query parameters, path ids, headers, bodies, page cursors,
the webhook signature header and payload — driving the real handlers with API Gateway proxy
events on moto. For every input: status < 500, and a 4xx carries exactly the JSON error body.
"""

from __future__ import annotations

import base64
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headless_commerce.runtime import routes
from headless_commerce.runtime.payments import signature
from tests.runtime.conftest import WEBHOOK_SECRET, Reply, add, api_event, call, invoke

# Bounded so the suite stays fast; every test below runs this many examples per route
# (tests/e2e/test_openapi_contract.py adds schemathesis over HTTP).
EXAMPLES = 60
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])
SHOPPER = "prop-shopper"


def assert_well_formed(reply: Reply) -> None:
    assert reply.status < 500, reply.body
    if reply.status >= 400:
        assert set(reply.body["error"]) == {"code", "message", "field"}, reply.body
        assert isinstance(reply.body["error"]["code"], str)
        assert reply.body["error"]["field"] is None or isinstance(reply.body["error"]["field"], str)


def _no_bad_text(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return all(_no_bad_text(k) and _no_bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_no_bad_text(v) for v in value)
    return True


# ---- the cases reported in the issue, each a 500 before -------------------------------------

def _signed(raw: bytes, timestamp: int | None = None) -> dict:
    return {"Sandbox-Signature": signature.sign(raw, WEBHOOK_SECRET, timestamp)}


REPORTED = {
    "superscript limit on products": {"method": "GET", "path": "/products", "query": {"limit": "²"}},
    "arabic-indic limit on products": {"method": "GET", "path": "/products", "query": {"limit": "٣"}},
    "superscript limit on orders": {"method": "GET", "path": "/orders", "query": {"limit": "²"}, "sub": SHOPPER},
    "lone surrogate in PATCH /me": {"method": "PATCH", "path": "/me", "sub": SHOPPER,
                                        "raw_body": '{"given_name": "\\ud800"}'},
    "NUL in PATCH /me": {"method": "PATCH", "path": "/me", "sub": SHOPPER,
                             "raw_body": '{"family_name": "a\\u0000b"}'},
    "lone surrogate in a shipping address": {
        "method": "POST", "path": "/checkout", "sub": SHOPPER, "headers": {"Idempotency-Key": "surrogate-0001"},
        "raw_body": '{"payment_token": "tok_visa", "shipping_address": {"name": "\\udfff", '
                 '"line1": "1 St", "city": "C", "postal_code": "12345", "country": "US"}}'},
    "NUL in a shipping address": {
        "method": "POST", "path": "/checkout", "sub": SHOPPER, "headers": {"Idempotency-Key": "nul-addr-0001"},
        "raw_body": '{"payment_token": "tok_visa", "shipping_address": {"name": "A", '
                 '"line1": "1 St\\u0000", "city": "C", "postal_code": "12345", "country": "US"}}'},
    "infinite number": {"method": "POST", "path": "/cart/items", "sub": SHOPPER,
                            "raw_body": '{"sku": "mug-1", "quantity": 1e999}'},
    "cursor holding a lone surrogate": {
        "method": "GET", "path": "/products", "query": {"cursor": base64.urlsafe_b64encode(
            b'{"gsi1pk":"CATALOG","gsi1sk":"\\ud800","pk":"PRODUCT#p","sk":"PRODUCT"}').decode()}},
}


@pytest.mark.parametrize("case", REPORTED, ids=list(REPORTED))
def test_reported_inputs_are_400_with_the_error_body(case, catalog, sandbox):
    assert add(SHOPPER, "mug-1").status == 200
    reply = call(**REPORTED[case])
    assert reply.status == 400, reply.body
    assert_well_formed(reply)


def test_nul_and_surrogates_name_the_field(catalog):
    reply = call("PATCH", "/me", sub=SHOPPER, raw_body='{"default_address": {"city": "\\ud83d"}}')
    assert reply.status == 400
    assert reply.body["error"]["field"] == "default_address.city"
    assert reply.body["error"]["code"] == "invalid_text"
    # Nothing was stored.
    assert "given_name" not in call("GET", "/me", sub=SHOPPER).body


def test_signature_timestamp_that_is_not_ascii_is_401(sandbox):
    now = str(int(time.time()))
    for header in (f"t=²,v1={'0' * 64}", f"t={now[:-1]}٣,v1={'0' * 64}", "t=" + "9" * 5000 + ",v1=ab",
                   f"t={now},v1=é"):
        reply = call("POST", "/payments/webhook", raw_body="{}", headers={"Sandbox-Signature": header})
        assert reply.status == 401, (header, reply.body)
        assert reply.body["error"]["code"] == "invalid_signature"


def test_deeply_nested_signed_webhook_is_400(sandbox):
    raw = b"[" * 8000 + b"]" * 8000           # under the 16 KiB body limit
    reply = call("POST", "/payments/webhook", raw_body=raw.decode(), headers=_signed(raw))
    assert reply.status == 400 and reply.body["error"]["code"] == "malformed_event"
    raw = json.dumps({"id": "e", "type": "payment.failed", "data": {"x": [[[[[[[[[[[[[[[[[[[[[[[[
        [[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}).encode()
    reply = call("POST", "/payments/webhook", raw_body=raw.decode(), headers=_signed(raw))
    assert reply.status == 400 and reply.body["error"]["code"] == "malformed_event"


# ---- strategies --------------------------------------------------------------------------

# Every code point, lone surrogates included (hypothesis leaves them out by default), with the
# troublemakers (NUL, surrogates, look-alike digits) drawn often rather than once in a million.
any_char = st.one_of(st.characters(exclude_categories=()),
                     st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "²", "٣", "\n", "é"]))
any_text = st.text(any_char, max_size=40)
# Look-alike digits and the edges of the valid range.
limits = st.one_of(any_text, st.integers(-10**6, 10**6).map(str),
                   st.text(st.sampled_from("0123456789²³٣١１ +-e"), min_size=1, max_size=4))  # noqa: RUF001
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         any_text)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)), max_leaves=12)
ids = st.one_of(any_text, st.from_regex(routes.PATH_PARAM_PATTERN, fullmatch=True),
                st.sampled_from(["mug-1", "p-tee", "tee-s", "ghost"]))


def _json_text(value: object) -> str:
    # ensure_ascii writes lone surrogates as \\udXXX escapes: the form an attacker sends.
    return json.dumps(value)


def cursors(names: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Raw text, base64 of any JSON, and base64 of objects with the key names a cursor has."""
    shaped = st.fixed_dictionaries({n: st.one_of(any_text, json_scalars) for n in names})
    encoded = st.one_of(json_values, shaped).map(
        lambda v: base64.urlsafe_b64encode(_json_text(v).encode("utf-8", "surrogatepass")).decode().rstrip("="))
    return st.one_of(any_text, encoded)


def shaped_like(schema: dict) -> st.SearchStrategy[object]:
    """Bodies that pass every shape check (patterns, ranges, required fields) while the free-text
    fields carry hostile text: they reach the code that uses and stores the data."""
    kind = schema.get("type")
    if kind == "object":
        props = {name: shaped_like(sub) for name, sub in schema.get("properties", {}).items()}
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries({n: p for n, p in props.items() if n in required},
                                     optional={n: p for n, p in props.items() if n not in required})
    if kind == "string" and "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    if kind == "string":
        return st.text(any_char, min_size=schema.get("minLength", 0),
                       max_size=min(schema.get("maxLength", 40), 40))
    if kind == "integer":
        return st.integers(schema.get("minimum", -10**6), schema.get("maximum", 10**6))
    if kind == "boolean":
        return st.booleans()
    return json_values


def bodies(schema: dict | None) -> st.SearchStrategy[str | None]:
    raw = st.one_of(st.none(), any_text, json_values.map(_json_text))
    return st.one_of(raw, shaped_like(schema).map(_json_text)) if schema else raw


# ---- properties ----------------------------------------------------------------------------

def _invoke(route: routes.Route, **kwargs) -> Reply:
    reply = invoke(api_event(route.method, route.path, **kwargs))
    assert_well_formed(reply)
    # Nothing hostile was stored and handed back (402/409 bodies carry the order too).
    assert _no_bad_text(reply.body), reply.body
    return reply


PAGED = [r for r in routes.ROUTES if "limit" in r.query_params]
WITH_PATH_IDS = [r for r in routes.ROUTES if r.path_params]
WITH_BODY = [r for r in routes.ROUTES if r.request_schema]
CURSOR_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")


@pytest.mark.parametrize("route", PAGED, ids=lambda r: r.operation_id)
@SETTINGS
@given(data=st.data())
def test_query_parameters_never_5xx(route, data, catalog):
    query = data.draw(st.fixed_dictionaries({}, optional={
        "limit": limits, "category": st.one_of(any_text, st.sampled_from(["kitchen", "apparel"])),
        "cursor": st.one_of(cursors(CURSOR_KEYS[:4]), cursors(CURSOR_KEYS[:2] + CURSOR_KEYS[4:])),
        "other": any_text}))
    _invoke(route, query={k: v for k, v in query.items() if k in route.query_params or k == "other"},
            sub=SHOPPER)


@pytest.mark.parametrize("route", WITH_PATH_IDS, ids=lambda r: r.operation_id)
@SETTINGS
@given(data=st.data())
def test_path_ids_never_5xx(route, data, catalog):
    params = {name: data.draw(ids) for name in route.path_params}
    body = {"quantity": 1} if route.request_schema else None
    _invoke(route, path_params=params, body=body, sub=SHOPPER)


@pytest.mark.parametrize("route", WITH_BODY, ids=lambda r: r.operation_id)
@SETTINGS
@given(data=st.data())
def test_bodies_never_5xx(route, data, catalog, sandbox):
    add(SHOPPER, "mug-1")     # a cart, so checkout bodies reach pricing, orders and payment
    raw = data.draw(bodies(route.request_schema))
    content_type = data.draw(st.sampled_from(["application/json", "application/json; charset=utf-8",
                                              "text/plain", ""]))
    headers = {"Content-Type": content_type}
    if routes.IDEMPOTENCY_HEADER in route.required_headers:
        headers[routes.IDEMPOTENCY_HEADER] = data.draw(
            st.from_regex(routes.IDEMPOTENCY_KEY_PATTERN, fullmatch=True))
    _invoke(route, raw_body=raw, headers=headers, sub=SHOPPER,
            base64_body=raw is not None and data.draw(st.booleans()))


@SETTINGS
@given(key=st.one_of(any_text, st.from_regex(routes.IDEMPOTENCY_KEY_PATTERN, fullmatch=True)),
       content_type=any_text, extra=st.dictionaries(any_text, any_text, max_size=3))
def test_headers_never_5xx(key, content_type, extra, catalog, sandbox):
    checkout = next(r for r in routes.ROUTES if r.operation_id == "checkout")
    _invoke(checkout, body={"payment_token": "tok_visa"}, sub=SHOPPER,
            headers={**extra, routes.IDEMPOTENCY_HEADER: key, "Content-Type": content_type})


WEBHOOK = next(r for r in routes.ROUTES if r.auth == "signature")
signature_headers = st.one_of(
    any_text,
    st.builds(lambda t, v: f"t={t},v1={v}", st.one_of(limits, st.integers(0, 2 * 10**9).map(str)),
              st.one_of(any_text, st.text("0123456789abcdef", min_size=64, max_size=64))))
webhook_events = st.fixed_dictionaries({}, optional={
    "id": json_scalars, "type": st.one_of(any_text, st.sampled_from(["payment.authorized", "payment.failed"])),
    "data": st.one_of(json_values, st.fixed_dictionaries({}, optional={
        "order_id": st.one_of(json_scalars, ids), "authorization_id": json_values,
        "decline_code": json_values}))})


@SETTINGS
@given(header=signature_headers, raw=st.one_of(any_text, json_values.map(_json_text)))
def test_webhook_signature_header_never_5xx(header, raw, sandbox):
    reply = _invoke(WEBHOOK, raw_body=raw, headers={"Sandbox-Signature": header})
    assert reply.status == 401 or reply.status == 400, reply.body


@SETTINGS
@given(payload=st.one_of(any_text, json_values.map(_json_text), webhook_events.map(_json_text),
                         st.integers(1, 20_000).map(lambda n: "[" * n + "]" * n)))
def test_signed_webhook_payloads_never_5xx(payload, catalog, sandbox):
    raw = payload.encode("utf-8", "surrogatepass")
    _invoke(WEBHOOK, raw_body=payload, headers=_signed(raw))
