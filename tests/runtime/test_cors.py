"""CORS on handler responses: one origin, '*', or a list where the caller's origin is echoed."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import call


@pytest.fixture
def origins(monkeypatch):
    def set_to(value: str) -> None:
        monkeypatch.setenv("ALLOWED_ORIGIN", value)
    return set_to


def test_a_listed_origin_is_echoed_with_vary(catalog, origins):
    origins("https://shop.example, https://m.shop.example")
    reply = call("GET", "/products/{product_id}", path_params={"product_id": "p-tee"},
                 headers={"origin": "https://m.shop.example"})
    assert reply.headers["Access-Control-Allow-Origin"] == "https://m.shop.example"
    assert reply.headers["Vary"] == "Origin"


def test_an_unlisted_origin_gets_no_allow_origin(catalog, origins):
    origins("https://shop.example,https://m.shop.example")
    reply = call("GET", "/products/{product_id}", path_params={"product_id": "p-tee"},
                 headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in reply.headers
    assert reply.headers["Vary"] == "Origin"


def test_errors_carry_the_same_headers(catalog, origins):
    origins("https://shop.example,https://m.shop.example")
    reply = call("GET", "/products/{product_id}", path_params={"product_id": "nope"},
                 headers={"Origin": "https://shop.example"})
    assert reply.status == 404
    assert reply.headers["Access-Control-Allow-Origin"] == "https://shop.example"


def test_wildcard_and_single_origin(catalog, origins):
    origins("*")
    reply = call("GET", "/products/{product_id}", path_params={"product_id": "p-tee"})
    assert reply.headers["Access-Control-Allow-Origin"] == "*" and "Vary" not in reply.headers
    origins("https://shop.example")
    reply = call("GET", "/products/{product_id}", path_params={"product_id": "p-tee"},
                 headers={"Origin": "https://other.example"})
    assert reply.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert reply.headers["Vary"] == "Origin"
