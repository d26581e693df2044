from __future__ import annotations

import json

from headless_commerce.runtime.cart import service as cart_service
from tests.runtime.conftest import api_event, call, invoke


def test_malformed_json_and_wrong_content(catalog):
    for raw, code in (("{", "malformed_json"), ("NaN", "malformed_json"),
                      ('{"sku": "mug-1", "quantity": Infinity}', "malformed_json"),
                      ("", "missing_body"), ("   ", "missing_body"),
                      ('"just a string"', "validation_error"), ("[]", "validation_error")):
        reply = invoke(api_event("POST", "/cart/items", sub="alice", raw_body=raw))
        assert reply.status == 400, raw
        assert reply.body["error"]["code"] == code, raw
    reply = invoke(api_event("POST", "/cart/items", sub="alice", raw_body='{"sku":"mug-1","quantity":1}',
                             headers={"Content-Type": "text/plain"}))
    assert reply.status == 400 and reply.body["error"]["code"] == "unsupported_media_type"
    reply = invoke(api_event("POST", "/cart/items", sub="alice", raw_body='{"sku":"mug-1","quantity":1}',
                             headers={"content-type": "application/json; charset=utf-8"}))
    assert reply.status == 200


def test_oversized_body_is_refused(catalog):
    big = json.dumps({"sku": "mug-1", "quantity": 1, "pad": "x" * 17000})
    for b64 in (False, True):
        reply = invoke(api_event("POST", "/cart/items", sub="alice", raw_body=big, base64_body=b64))
        assert reply.status == 413 and reply.body["error"]["code"] == "body_too_large"


def test_base64_bodies_are_decoded(catalog):
    reply = invoke(api_event("POST", "/cart/items", sub="alice",
                             body={"sku": "mug-1", "quantity": 2}, base64_body=True))
    assert reply.status == 200 and reply.body["item_count"] == 2
    event = api_event("POST", "/cart/items", sub="alice", raw_body="not base64!!")
    event["isBase64Encoded"] = True
    assert invoke(event).body["error"]["code"] == "malformed_body"


def test_body_on_a_bodyless_route_is_400(catalog):
    reply = invoke(api_event("GET", "/cart", sub="alice", raw_body='{"a":1}'))
    assert reply.status == 400 and reply.body["error"]["code"] == "unexpected_body"


def test_unexpected_error_is_a_bare_500(catalog, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise KeyError("secret-internal-detail")

    monkeypatch.setattr(cart_service, "get_cart", explode)
    reply = call("GET", "/cart", sub="alice")
    assert reply.status == 500
    assert reply.body == {"error": {"code": "internal_error", "message": "Internal error", "field": None}}
    assert "secret-internal-detail" in caplog.text  # logged, not returned


def test_unknown_route_and_garbage_events(catalog):
    from headless_commerce.runtime.catalog.handler import handler

    assert handler({"httpMethod": "POST", "resource": "/products"}, None)["statusCode"] == 404
    assert handler({}, None)["statusCode"] == 404
    assert handler("nonsense", None)["statusCode"] == 400
    assert handler({"httpMethod": "GET", "resource": "/products", "headers": 5,
                    "queryStringParameters": ["x"], "requestContext": 3}, None)["statusCode"] == 200


def test_claims_must_be_well_formed(catalog):
    event = api_event("GET", "/cart")
    for claims in ({}, {"sub": ""}, {"sub": 42}, {"sub": "a/b"}, "sub"):
        event["requestContext"]["authorizer"] = {"claims": claims}
        assert invoke(event).status == 401


def test_malformed_path_parameters_are_400(catalog):
    for value in ("", "a b", "x" * 65, "../etc", "é"):
        reply = call("GET", "/products/{product_id}", path_params={"product_id": value})
        assert reply.status == 400 and reply.body["error"]["field"] == "product_id"
