"""What a client can send wrong gets a 4xx JSON error over HTTP, never a 5xx."""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey


def assert_error(reply, status: int, code: str | None = None) -> None:
    assert reply.status == status, (reply.status, reply.raw[:300])
    assert reply.headers["Content-Type"].startswith("application/json")
    assert set(reply.body) >= {"error"} and set(reply.body["error"]) == {"code", "message", "field"}
    if code:
        assert reply.body["error"]["code"] == code, reply.body


def forged_token(local, shopper, **overrides) -> str:
    """A token with the shopper's claims, signed by a key that is not the pool's."""
    claims = {"sub": shopper.sub, "email": shopper.email, "token_use": "id",
              "aud": local.well_known["user_pool_client_id"],
              "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{local.well_known['user_pool_id']}",
              "exp": int(time.time()) + 3600, "iat": int(time.time()), **overrides}
    return jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, RSAKey.generate_key(2048))


def test_no_token_and_bad_tokens_are_401(local, shopper):
    assert_error(local.call("GET", "/cart"), 401, "unauthorized")
    assert_error(local.call("GET", "/me", token="not-a-jwt"), 401, "unauthorized")
    assert_error(local.call("GET", "/me", token=forged_token(local, shopper)), 401, "unauthorized")
    header, payload, signature = shopper.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert_error(local.call("GET", "/me", token=f"{header}.{tampered}.{signature}"), 401)
    # An access token is not accepted where the authorizer wants an ID token.
    cognito = local.client("cognito-idp")
    access = cognito.initiate_auth(
        ClientId=local.well_known["user_pool_client_id"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": shopper.email, "PASSWORD": "Local-Mode-Passw0rd!"},
    )["AuthenticationResult"]["AccessToken"]
    assert_error(local.call("GET", "/me", token=access), 401, "unauthorized")
    # The real one works, raw or as a Bearer token.
    assert local.call("GET", "/me", token=shopper.token).status == 200
    assert local.call("GET", "/me", token=f"Bearer {shopper.token}").status == 200


def test_unknown_routes_and_methods(local):
    assert_error(local.call("GET", "/nope"), 404, "not_found")
    assert_error(local.call("GET", "/products/p-0001/extra"), 404, "not_found")
    assert_error(local.call("GET", "/"), 404, "not_found")
    reply = local.call("DELETE", "/products")
    assert_error(reply, 405, "method_not_allowed")
    assert reply.headers["Allow"] == "GET"
    assert_error(local.call("GET", "/products/no-such-product"), 404, "not_found")


@pytest.mark.parametrize("raw, code", [
    (b"{not json", "malformed_json"),
    (b"\xff\xfe\x00garbage", None),
    (b"[]", None),
    (b'{"sku": 5, "quantity": 1}', None),
    (b'{"sku": "p-0001-1", "quantity": "2"}', None),
    (b'{"sku": "p-0001-1", "quantity": 1000}', None),
    (b'{"sku": "p-0001-1", "quantity": 1, "extra": true}', None),
    (b'{"sku": "p-0001-1", "quantity": NaN}', "malformed_json"),
    (b"", "missing_body"),
])
def test_malformed_and_mistyped_bodies_are_400(local, shopper, raw, code):
    assert_error(local.call("POST", "/cart/items", raw=raw, token=shopper.token,
                            headers={"Content-Type": "application/json"}), 400, code)


def test_oversized_body_is_413(local, shopper):
    raw = b'{"sku": "' + b"a" * 20000 + b'", "quantity": 1}'
    assert_error(local.call("POST", "/cart/items", raw=raw, token=shopper.token,
                            headers={"Content-Type": "application/json"}), 413, "body_too_large")


def test_other_client_mistakes_are_4xx(local, shopper):
    token = shopper.token
    assert_error(local.call("POST", "/checkout", body={"payment_token": "tok_visa"}, token=token),
                 400, "missing_header")
    assert_error(local.call("POST", "/checkout", body={"payment_token": "tok_visa"}, token=token,
                            headers={"Idempotency-Key": "x"}), 400)
    assert_error(local.call("GET", "/products?limit=abc"), 400)
    assert_error(local.call("GET", "/products?cursor=%%%"), 400)
    assert_error(local.call("GET", "/products?category=../../etc"), 400)
    assert_error(local.call("PATCH", "/cart/items/p-0001-1", body={"quantity": -1}, token=token), 400)
    assert_error(local.call("PUT", "/me/consents", body={"email": "yes", "sms": 1, "push": None},
                            token=token), 400)
    assert_error(local.call("GET", "/products", raw=b'{"x": 1}'), 400, "unexpected_body")
    assert_error(local.call("POST", "/payments/webhook", body={"type": "payment.authorized"}), 401)
    reply = local.call("POST", "/cart/items", raw=b"sku=1", token=token,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(reply, 400, "unsupported_media_type")
