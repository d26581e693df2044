"""GET /search and GET /search/suggest through the Lambda handler: response bodies match the
OpenAPI schemas, bad input is a 400 naming the field, an engine outage is a 503 with
Retry-After and leaves the rest of the API working."""

import pytest
from openapi_schema_validator import OAS30Validator

from headless_commerce.runtime.common.domain_errors import SearchUnavailable
from headless_commerce.runtime.openapi import openapi_document
from headless_commerce.runtime.search import provider as search_provider
from headless_commerce.runtime.search.opensearch_provider import OpenSearchProvider

from .conftest import call
from .search_helpers import TimingOutClient, catalog_documents, loaded_provider

DOCUMENT = openapi_document()


def _validator(name: str) -> OAS30Validator:
    return OAS30Validator({"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]})


@pytest.fixture(scope="module")
def engine():
    return loaded_provider(catalog_documents())


@pytest.fixture
def installed(engine):
    search_provider.set_provider(engine)
    yield engine
    search_provider.set_provider(None)


def test_search_answers_items_facets_total_and_cursor(installed):
    reply = call("GET", "/search", query={"q": "sneekers", "limit": "5", "in_stock": "true"})
    assert reply.status == 200
    _validator("SearchResults").validate(reply.body)
    assert len(reply.body["items"]) == 5 and all(i["in_stock"] for i in reply.body["items"])
    assert reply.body["next_cursor"]
    following = call("GET", "/search", query={"q": "sneekers", "limit": "5", "in_stock": "true",
                                              "cursor": reply.body["next_cursor"]})
    assert following.status == 200
    assert not {i["product_id"] for i in following.body["items"]} & {i["product_id"] for i in reply.body["items"]}
    assert reply.headers["Access-Control-Allow-Origin"] == "https://shop.example"


def test_suggest_answers_completions(installed):
    reply = call("GET", "/search/suggest", query={"q": "sonique hea"})
    assert reply.status == 200
    _validator("Suggestions").validate(reply.body)
    assert reply.body["suggestions"] and all("Headphones" in s["text"] for s in reply.body["suggestions"])


@pytest.mark.parametrize("path, query, field, code", [
    ("/search", None, "q", "invalid_parameter"),
    ("/search", {"q": ""}, "q", "invalid_parameter"),
    ("/search", {"q": "x" * 201}, "q", "invalid_parameter"),
    ("/search", {"q": "tee", "sort": "best"}, "sort", "invalid_parameter"),
    ("/search", {"q": "tee", "min_price": "900", "max_price": "100"}, "min_price", "invalid_parameter"),
    ("/search", {"q": "tee", "cursor": "garbage!!"}, "cursor", "invalid_cursor"),
    ("/search", {"q": "tee", "cursor": "eyJmIjogIngiLCAiYSI6IFsxXX0"}, "cursor", "invalid_cursor"),
    ("/search/suggest", {"q": "z" * 201}, "q", "invalid_parameter"),
    ("/search/suggest", None, "q", "invalid_parameter"),
])
def test_bad_input_is_a_400_naming_the_field(installed, path, query, field, code):
    reply = call("GET", path, query=query)
    assert reply.status == 400
    assert reply.body == {"error": {"code": code, "message": reply.body["error"]["message"], "field": field}}


def test_a_forged_cursor_with_the_right_fingerprint_is_still_a_400(installed):
    from headless_commerce.runtime.search.params import encode_cursor, parse_search

    forged = encode_cursor(parse_search({"q": "tee"}), [999999999])
    assert call("GET", "/search", query={"q": "tee", "cursor": forged}).status == 400


class _Down:
    def search(self, query):
        raise SearchUnavailable(7)

    def suggest(self, prefix, size):
        raise SearchUnavailable(7)


def test_engine_outage_is_a_503_with_retry_after_and_the_catalog_still_works(catalog):
    search_provider.set_provider(_Down())
    try:
        for path in ("/search", "/search/suggest"):
            reply = call("GET", path, query={"q": "tee"})
            assert reply.status == 503 and reply.headers["Retry-After"] == "7"
            assert reply.body["error"]["code"] == "search_unavailable"
        assert call("GET", "/products/{product_id}", path_params={"product_id": "p-tee"}).status == 200
    finally:
        search_provider.set_provider(None)


def test_an_opensearch_timeout_becomes_a_503(table):
    search_provider.set_provider(OpenSearchProvider(TimingOutClient()))
    try:
        reply = call("GET", "/search", query={"q": "tee"})
    finally:
        search_provider.set_provider(None)
    assert reply.status == 503 and int(reply.headers["Retry-After"]) > 0


def test_openapi_documents_the_search_schemas_and_the_503():
    operation = DOCUMENT["paths"]["/search"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SearchResults"}
    assert "Retry-After" in operation["responses"]["503"]["headers"]
    assert {p["name"] for p in operation["parameters"]} >= {"q", "category", "brand", "min_price", "max_price",
                                                            "sort", "cursor"}
