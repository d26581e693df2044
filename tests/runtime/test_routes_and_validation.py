from __future__ import annotations

import importlib

import pytest
from jsonschema import Draft4Validator
from openapi_spec_validator import validate as validate_openapi

from headless_commerce import model
from headless_commerce.runtime import routes
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.errors import ApiError
from headless_commerce.runtime.common.validation import first_error, validate
from headless_commerce.runtime.openapi import openapi_document

EXPECTED = {
    ("GET", "/products"), ("GET", "/products/{product_id}"), ("GET", "/categories"),
    ("GET", "/cart"), ("POST", "/cart/items"), ("PATCH", "/cart/items/{sku}"),
    ("DELETE", "/cart/items/{sku}"), ("POST", "/checkout"), ("GET", "/orders"),
    ("GET", "/orders/{order_id}"), ("GET", "/me"), ("PATCH", "/me"), ("PUT", "/me/consents"),
    ("POST", "/payments/webhook"), ("GET", "/search"), ("GET", "/search/suggest"),
    ("GET", "/recommendations"), ("GET", "/me/recommendations"),
    ("GET", "/unsubscribe"), ("POST", "/unsubscribe"), ("POST", "/chat"), ("POST", "/me/chat"),
    ("GET", "/stores"), ("GET", "/orders/{order_id}/tracking"),
    ("PUT", "/me/push-device"), ("DELETE", "/me/push-device"),
}


def test_route_table_is_exactly_the_v1_api():
    assert {(r.method, r.path) for r in routes.ROUTES} == EXPECTED
    assert len(routes.ROUTES) == len(EXPECTED)
    assert len({r.operation_id for r in routes.ROUTES}) == len(routes.ROUTES)
    for route in routes.ROUTES:
        assert route.auth in routes.AUTH_MODES
        assert route.function in routes.FUNCTIONS
    checkout = next(r for r in routes.ROUTES if r.path == "/checkout")
    assert checkout.required_headers == ("Idempotency-Key",) and checkout.auth == "user"
    webhook = next(r for r in routes.ROUTES if r.path == "/payments/webhook")
    assert webhook.auth == "signature"


def test_every_function_handler_imports_and_covers_its_routes():
    for spec in [*routes.FUNCTIONS.values(), routes.POST_CONFIRMATION]:
        module, _, attribute = spec.handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute)), spec.name
        assert spec.table_access in {"read", "read_write"}
        assert spec.name == spec.name.lower() and " " not in spec.name
    assert routes.FUNCTIONS["catalog"].table_access == "read"
    assert routes.FUNCTIONS["checkout"].needs_payment_secret


@pytest.mark.parametrize("route", [r for r in routes.ROUTES if r.request_schema], ids=lambda r: r.operation_id)
def test_request_schemas_are_draft4(route):
    Draft4Validator.check_schema(route.request_schema)


def test_openapi_document_is_valid_openapi_30():
    document = openapi_document()
    validate_openapi(document)
    assert document["openapi"].startswith("3.0")
    operations = {op["operationId"]: op for path in document["paths"].values() for op in path.values()}
    assert set(operations) == {r.operation_id for r in routes.ROUTES}
    assert operations["getCart"]["security"] == [{"cognito": []}]
    assert "security" not in operations["listProducts"]
    assert operations["addCartItem"]["requestBody"]["content"]["application/json"]["schema"] \
        == routes.ADD_CART_ITEM_SCHEMA
    header = [p for p in operations["checkout"]["parameters"] if p["in"] == "header"]
    assert header[0]["name"] == "Idempotency-Key" and header[0]["required"]


def test_table_definition_creates_the_table(table):
    description = aws.dynamodb().describe_table(TableName=table)["Table"]
    assert {i["IndexName"] for i in description["GlobalSecondaryIndexes"]} == {g.name for g in model.GSIS}
    assert description["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert model.GSI1.name == "GSI1" and model.GSI2.partition_key == "gsi2pk"


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "qty"],
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
        "qty": {"type": "integer", "minimum": 1, "maximum": 9},
        "ratio": {"type": "number", "minimum": 0, "maximum": 1},
        # With its type: fastjsonschema compares enum members with Python's ==, so true == 1
        # would pass an untyped enum (test_every_enum_is_typed keeps real schemas typed).
        "kind": {"type": ["string", "integer"], "enum": ["a", "b", 1]},
        "flag": {"type": "boolean"},
        "tags": {"type": "array", "minItems": 1, "maxItems": 2,
                 "items": {"type": "string", "maxLength": 3}},
        "nested": {"type": "object", "required": ["x"], "properties": {"x": {"type": ["string", "null"]}},
                   "additionalProperties": {"type": "integer"}},
    },
}

VALID = [
    {"name": "ab", "qty": 1},
    {"name": "abcde", "qty": 9, "ratio": 0.5, "kind": "a", "flag": False},
    {"name": "xy", "qty": 5, "tags": ["a", "bcd"], "nested": {"x": None, "y": 3}},
    {"name": "xy", "qty": 5, "kind": 1, "ratio": 1},
]
INVALID = [
    ({}, "name"), ({"name": "ab"}, "qty"), ({"qty": 1}, "name"),
    ({"name": "a", "qty": 1}, "name"), ({"name": "abcdef", "qty": 1}, "name"),
    ({"name": "AB", "qty": 1}, "name"), ({"name": 12, "qty": 1}, "name"),
    ({"name": "ab", "qty": 0}, "qty"), ({"name": "ab", "qty": 10}, "qty"),
    ({"name": "ab", "qty": 1.0}, "qty"), ({"name": "ab", "qty": True}, "qty"),
    ({"name": "ab", "qty": "1"}, "qty"), ({"name": "ab", "qty": 10**40}, "qty"),
    ({"name": "ab", "qty": 1, "ratio": 2}, "ratio"), ({"name": "ab", "qty": 1, "ratio": True}, "ratio"),
    ({"name": "ab", "qty": 1, "kind": "c"}, "kind"), ({"name": "ab", "qty": 1, "kind": True}, "kind"),
    ({"name": "ab", "qty": 1, "flag": 0}, "flag"), ({"name": "ab", "qty": 1, "extra": 1}, "extra"),
    ({"name": "ab", "qty": 1, "tags": []}, "tags"), ({"name": "ab", "qty": 1, "tags": ["a", "b", "c"]}, "tags"),
    ({"name": "ab", "qty": 1, "tags": ["abcd"]}, "tags[0]"), ({"name": "ab", "qty": 1, "tags": "a"}, "tags"),
    ({"name": "ab", "qty": 1, "nested": {}}, "nested.x"),
    ({"name": "ab", "qty": 1, "nested": {"x": 1}}, "nested.x"),
    ({"name": "ab", "qty": 1, "nested": {"x": "s", "y": "z"}}, "nested.y"),
    ([], None), ("text", None), (None, None), (1, None),
]


@pytest.mark.parametrize("value", VALID)
def test_validator_accepts_what_jsonschema_accepts(value):
    assert Draft4Validator(SCHEMA).is_valid(value)
    assert first_error(SCHEMA, value) is None


@pytest.mark.parametrize("value,field", INVALID)
def test_validator_rejects_what_jsonschema_rejects_naming_the_field(value, field):
    assert not Draft4Validator(SCHEMA).is_valid(value)
    error = first_error(SCHEMA, value)
    assert error is not None and error[0] == field
    with pytest.raises(ApiError) as raised:
        validate(SCHEMA, value)
    assert raised.value.status == 400 and raised.value.field == field


def route_samples():
    """Valid and invalid bodies for every route schema, checked against jsonschema too."""
    address = {"name": "A", "line1": "1 St", "city": "C", "postal_code": "12345", "country": "US"}
    samples = {
        "addCartItem": (
            [{"sku": "mug-1", "quantity": 1}, {"sku": "A.b_c:d-1", "quantity": 99}],
            [
                {"sku": "mug-1"},
                {"sku": "", "quantity": 1},
                {"sku": "-x", "quantity": 1},
                {"sku": "m" * 65, "quantity": 1},
                {"sku": "mug 1", "quantity": 1},
            ],
        ),
        "updateCartItem": ([{"quantity": 0}, {"quantity": 99}], [{"quantity": -1}, {}]),
        "checkout": (
            [{"payment_token": "tok_visa"}, {"payment_token": "tok_visa", "shipping_address": address}],
            [
                {"payment_token": "tok visa"},
                {"payment_token": "4111111111111111"},
                {"payment_token": "tok_visa", "shipping_address": {**address, "country": "usa"}},
                {"payment_token": "tok_visa", "shipping_address": {**address, "zip": "1"}},
            ],
        ),
        "updateProfile": (
            [{}, {"locale": "en-US"}, {"default_address": address}],
            [{"locale": "english"}, {"phone": "+0123"}, {"default_address": {}}],
        ),
        "putConsents": (
            [{"email": True, "sms": False, "push": False}],
            [{"email": 1, "sms": False, "push": False}, {"email": None, "sms": False, "push": False}],
        ),
        "putPushDevice": (
            [{"platform": "APNS", "token": "ab" * 32}, {"platform": "GCM", "token": "fcm:" + "A_b-" * 40}],
            [{"platform": "WNS", "token": "ab" * 32}, {"platform": "APNS", "token": "ab"},
             {"platform": "APNS", "token": "ab" * 32 + " "}, {"token": "ab" * 32}],
        ),
        "chat": (
            [{"text": "hi"}, {"text": "x" * 1024, "session_id": "v1.abc." + "A" * 22 + "." + "b" * 43}],
            [{}, {"text": ""}, {"text": "x" * 1025}, {"text": "hi", "session_id": "mine"}, {"text": "hi", "x": 1}],
        ),
    }
    samples["chatSignedIn"] = samples["chat"]
    return samples


def test_route_schemas_agree_with_jsonschema():
    samples = route_samples()
    assert set(samples) == {r.operation_id for r in routes.ROUTES if r.request_schema}
    for route in routes.ROUTES:
        if not route.request_schema:
            continue
        good, bad = samples[route.operation_id]
        for value in good:
            assert Draft4Validator(route.request_schema).is_valid(value), value
            assert first_error(route.request_schema, value) is None, value
        for value in bad:
            assert not Draft4Validator(route.request_schema).is_valid(value), value
            assert first_error(route.request_schema, value) is not None, value


def test_pattern_end_anchor_does_not_accept_a_trailing_newline():
    # Python's re (and so jsonschema) lets "$" match before a final newline; fastjsonschema
    # anchors at the true end, as JSON Schema's ECMA 262 regexes do.
    schema = routes.ADD_CART_ITEM_SCHEMA
    assert Draft4Validator(schema).is_valid({"sku": "mug-1\n", "quantity": 1})
    assert first_error(schema, {"sku": "mug-1\n", "quantity": 1}) == ("sku", "has an invalid format")


def _schemas_in(value: object):
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _schemas_in(child)
    elif isinstance(value, list):
        for child in value:
            yield from _schemas_in(child)


def test_every_enum_is_typed():
    """fastjsonschema checks `enum` with Python's ==, where true == 1: a typed enum is exact."""
    from headless_commerce.runtime.events.contracts import CONTRACTS

    everything = [r.request_schema for r in routes.ROUTES if r.request_schema]
    everything += [CONTRACTS[name] for name in CONTRACTS]
    everything.append(openapi_document())
    enums = [s for doc in everything for s in _schemas_in(doc) if isinstance(s.get("enum"), list)]
    assert enums
    assert all("type" in s for s in enums), [s for s in enums if "type" not in s]


def test_first_error_compiles_each_schema_once_and_follows_edits():
    schema = {"type": "object", "properties": {"sku": {"type": "string", "maxLength": 3}}}
    assert first_error(schema, {"sku": "abcd"}) == ("sku", "must be at most 3 characters")
    assert first_error(schema, {"sku": "abc"}) is None
    # An edited schema is a different text: never checked by the earlier compiled one.
    schema["properties"]["sku"]["maxLength"] = 10
    assert first_error(schema, {"sku": "abcd"}) is None
    from headless_commerce.runtime.common import validation

    hits = validation._compiled_by_text.cache_info().hits
    first_error(schema, {"sku": "abcd"})
    assert validation._compiled_by_text.cache_info().hits == hits + 1
