"""Search request validation: every bad parameter is an InvalidSearch naming its field."""

import pytest

from headless_commerce.runtime.common.domain_errors import DomainError
from headless_commerce.runtime.common.errors import from_domain
from headless_commerce.runtime.search import params


def test_defaults_and_normalised_text():
    query = params.parse_search({"q": "  red   sneakers "})
    assert query.text == "red sneakers" and query.sort == "relevance"
    assert query.size == params.DEFAULT_PAGE_SIZE and query.after == ()


def test_filters_are_parsed():
    query = params.parse_search({"q": "tee", "category": "tops,bottoms", "brand": "Hearth & Co,Kestrel",
                                 "min_price": "1000", "max_price": "5000", "in_stock": "true",
                                 "sort": "price_desc", "limit": "5"})
    assert query.categories == ("tops", "bottoms") and query.brands == ("Hearth & Co", "Kestrel")
    assert (query.min_price, query.max_price, query.in_stock) == (1000, 5000, True)
    assert query.sort == "price_desc" and query.size == 5


@pytest.mark.parametrize("query, field, code", [
    ({}, "q", "invalid_parameter"),
    ({"q": "   "}, "q", "invalid_parameter"),
    ({"q": "x" * 201}, "q", "invalid_parameter"),
    ({"q": "tee", "sort": "popularity"}, "sort", "invalid_parameter"),
    ({"q": "tee", "min_price": "5000", "max_price": "1000"}, "min_price", "invalid_parameter"),
    ({"q": "tee", "min_price": "-1"}, "min_price", "invalid_parameter"),
    ({"q": "tee", "max_price": "12.50"}, "max_price", "invalid_parameter"),
    ({"q": "tee", "category": "../etc"}, "category", "invalid_parameter"),
    ({"q": "tee", "category": ","}, "category", "invalid_parameter"),
    ({"q": "tee", "in_stock": "yes"}, "in_stock", "invalid_parameter"),
    ({"q": "tee", "limit": "0"}, "limit", "invalid_parameter"),
    ({"q": "tee", "limit": "51"}, "limit", "invalid_parameter"),
    ({"q": "tee", "cursor": "%%%not-base64"}, "cursor", "invalid_cursor"),
    ({"q": "tee", "cursor": "eyJmIjoiIn0"}, "cursor", "invalid_cursor"),
    ({"q": "tee", "cursor": "x" * 600}, "cursor", "invalid_cursor"),
])
def test_bad_input_names_the_field(query, field, code):
    with pytest.raises(DomainError) as raised:
        params.parse_search(query)
    error = from_domain(raised.value)
    assert (error.status, error.field, error.code) == (400, field, code)


def test_exactly_200_characters_is_allowed():
    assert len(params.parse_search({"q": "a" * 200}).text) == 200


def test_cursor_round_trips_and_is_bound_to_its_query():
    query = params.parse_search({"q": "tent", "sort": "price_asc"})
    cursor = params.encode_cursor(query, [4999, "p-0001"])
    assert params.parse_search({"q": "tent", "sort": "price_asc", "cursor": cursor}).after == (4999, "p-0001")
    for other in ({"q": "tents", "sort": "price_asc"}, {"q": "tent", "sort": "price_desc"},
                  {"q": "tent", "sort": "price_asc", "brand": "Trailwise"}):
        with pytest.raises(DomainError):
            params.parse_search({**other, "cursor": cursor})


def test_cursor_values_must_be_plain_sort_values():
    query = params.parse_search({"q": "tent"})
    for after in ([True, "p-1"], [{"a": 1}, "p"], [1, 2, 3, 4], []):
        cursor = params.encode_cursor(query, after) or "e30"
        with pytest.raises(DomainError):
            params.parse_search({"q": "tent", "cursor": cursor})


def test_suggest_needs_a_prefix_of_at_most_200_characters():
    assert params.parse_suggest({"q": "hea"}) == "hea"
    for bad in ({}, {"q": ""}, {"q": "y" * 201}):
        with pytest.raises(DomainError):
            params.parse_suggest(bad)
