"""The OpenSearch provider: the query DSL it builds for each feature, and how it reads the
response shapes OpenSearch documents for _search (hits, aggregations) and _bulk."""

import json
from pathlib import Path

import pytest
from opensearchpy import exceptions

from headless_commerce.runtime.common.domain_errors import InvalidSearchCursor, SearchUnavailable
from headless_commerce.runtime.search import opensearch_provider as osp
from headless_commerce.runtime.search.documents import product_document
from headless_commerce.runtime.search.mapping import index_body
from headless_commerce.runtime.search.params import PRICE_BANDS, parse_search
from headless_commerce.runtime.search.provider import IndexAction

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _text_clauses(body: dict) -> list[dict]:
    return body["query"]["bool"]["must"][0]["bool"]["should"]


def test_relevance_is_multi_field_with_name_above_brand_above_description():
    body = osp.search_body(parse_search({"q": "trail sneakers"}))
    multi = _text_clauses(body)[0]["multi_match"]
    assert multi["query"] == "trail sneakers"
    assert multi["fields"] == ["name^3", "brand^2", "description"]
    assert body["sort"] == [{"_score": "desc"}, {"product_id": "asc"}]


def test_typos_are_tolerated_with_fuzziness_auto_keeping_the_first_letter():
    multi = _text_clauses(osp.search_body(parse_search({"q": "sneekers"})))[0]["multi_match"]
    assert multi["fuzziness"] == "AUTO" and multi["prefix_length"] == 1


def test_partial_words_match_the_edge_ngram_subfield():
    partial = _text_clauses(osp.search_body(parse_search({"q": "headph"})))[1]["match"]
    assert partial == {"name.autocomplete": {"query": "headph", "operator": "and", "boost": 1.5}}
    mapping = index_body()["mappings"]["properties"]["name"]["fields"]["autocomplete"]
    assert mapping["analyzer"] == "autocomplete_index" and mapping["search_analyzer"] == "autocomplete_search"


def test_filters_are_non_scoring_and_match_the_parameters():
    body = osp.search_body(parse_search({"q": "tee", "category": "tops,bottoms", "brand": "Kestrel",
                                         "min_price": "1000", "max_price": "5000", "in_stock": "true"}))
    assert body["query"]["bool"]["filter"] == [
        {"terms": {"category_id": ["tops", "bottoms"]}},
        {"terms": {"brand.keyword": ["Kestrel"]}},
        {"range": {"price_amount": {"gte": 1000, "lte": 5000}}},
        {"term": {"in_stock": True}},
    ]
    only_min = osp.search_body(parse_search({"q": "tee", "min_price": "0"}))
    assert only_min["query"]["bool"]["filter"] == [{"range": {"price_amount": {"gte": 0}}}]
    assert osp.search_body(parse_search({"q": "tee"}))["query"]["bool"]["filter"] == []


def test_facets_are_terms_and_price_band_aggregations():
    aggs = osp.search_body(parse_search({"q": "tee"}))["aggs"]
    assert aggs["category"] == {"terms": {"field": "category_id", "size": osp.FACET_SIZE}}
    assert aggs["brand"] == {"terms": {"field": "brand.keyword", "size": osp.FACET_SIZE}}
    ranges = aggs["price"]["range"]["ranges"]
    assert aggs["price"]["range"]["field"] == "price_amount"
    assert [(r["from"], r.get("to")) for r in ranges] == list(PRICE_BANDS)
    assert ranges[0]["key"] == "0-2500" and ranges[-1]["key"] == "20000-"


@pytest.mark.parametrize("sort, first", [
    ("price_asc", {"price_amount": "asc"}),
    ("price_desc", {"price_amount": "desc"}),
    ("newest", {"created_at": "desc"}),
])
def test_sorts_have_a_unique_tie_breaker(sort, first):
    body = osp.search_body(parse_search({"q": "tent", "sort": sort}))
    assert body["sort"] == [first, {"product_id": "asc"}]


def test_pages_ask_one_extra_hit_and_continue_with_search_after():
    first = osp.search_body(parse_search({"q": "tent", "limit": "10"}))
    assert first["size"] == 11 and "search_after" not in first and first["track_total_hits"] is True
    query = parse_search({"q": "tent", "limit": "10", "sort": "price_asc"})
    from headless_commerce.runtime.search.params import encode_cursor

    cursor = encode_cursor(query, [4999, "p-0001"])
    body = osp.search_body(parse_search({"q": "tent", "limit": "10", "sort": "price_asc", "cursor": cursor}))
    assert body["search_after"] == [4999, "p-0001"]


def test_a_cursor_of_the_wrong_shape_for_the_sort_is_invalid():
    from headless_commerce.runtime.search.params import encode_cursor

    for sort, after in (("price_asc", [1.5, "p-1"]), ("relevance", ["x", "p-1"]), ("newest", [5])):
        query = parse_search({"q": "tent", "sort": sort})
        with pytest.raises(InvalidSearchCursor):
            osp.search_body(parse_search({"q": "tent", "sort": sort, "cursor": encode_cursor(query, after)}))


def test_search_response_becomes_items_total_facets_and_next_position():
    query = parse_search({"q": "sneekers", "limit": "2"})
    page = osp.parse_search(_fixture("opensearch_search.json"), query)
    assert [i["product_id"] for i in page.items] == ["p-0070", "p-0158"]
    assert page.items[0] == {"product_id": "p-0070", "name": "Stride Heritage Sneakers", "brand": "Stride",
                             "category_id": "footwear", "price": {"amount": 6599, "currency": "USD"},
                             "images": ["/assets/products/p-0070.svg"], "in_stock": True}
    assert page.total == 3
    assert page.after == [5.03, "p-0158"]  # the last item shown, since a third hit exists
    assert page.facets["category"] == [{"value": "footwear", "count": 3}]
    assert page.facets["brand"] == [{"value": "Stride", "count": 2}, {"value": "Northline", "count": 1}]
    assert page.facets["price"][1] == {"value": "2500-5000", "min": 2500, "max": 5000, "count": 1}
    assert page.facets["price"][-1] == {"value": "20000-", "min": 20000, "max": None, "count": 0}
    last = osp.parse_search(_fixture("opensearch_search.json"), parse_search({"q": "sneekers", "limit": "3"}))
    assert len(last.items) == 3 and last.after is None


def test_suggest_dsl_and_response():
    body = osp.suggest_body("sonique hea", 8)
    must = body["query"]["bool"]["must"][0]["match"]["name.autocomplete"]
    assert must["operator"] == "and" and must["fuzziness"] == "AUTO" and body["size"] == 8
    assert body["_source"] == ["product_id", "name"]
    assert osp.parse_suggest(_fixture("opensearch_suggest.json")) == [
        {"text": "Sonique Urban Headphones", "product_id": "p-0205"},
        {"text": "Sonique Compact Headphones", "product_id": "p-0051"},
    ]


def test_bulk_uses_external_versions_for_index_and_delete():
    document = {"product_id": "p-1"}
    lines = osp.bulk_body("products", [IndexAction("p-1", 7, document), IndexAction("p-2", 9, None)])
    assert lines == [
        {"index": {"_index": "products", "_id": "p-1", "version": 7, "version_type": "external"}},
        document,
        {"delete": {"_index": "products", "_id": "p-2", "version": 9, "version_type": "external"}},
    ]


def test_bulk_response_separates_applied_stale_and_failed():
    outcome = osp.parse_bulk(_fixture("opensearch_bulk.json"))
    assert outcome.applied == {"p-0001", "p-0004", "p-0005"}
    assert outcome.stale == {"p-0002"}  # 409: the index already holds a newer version
    assert set(outcome.failed) == {"p-0003", "p-0006"}
    assert outcome.failed["p-0003"].startswith("429 es_rejected_execution_exception")


def test_mapping_is_strict_and_declares_every_document_field():
    body = index_body(replicas=2)
    assert body["mappings"]["dynamic"] == "strict"
    assert body["settings"]["index"]["number_of_replicas"] == 2
    properties = body["mappings"]["properties"]
    document = product_document({"product_id": "p", "name": "n", "price_amount": 1, "currency": "USD"}, [])
    assert set(document) == set(properties)
    assert properties["price_amount"]["type"] == "integer" and properties["in_stock"]["type"] == "boolean"
    assert properties["name"]["analyzer"] == "english" and properties["created_at"]["type"] == "date"
    assert properties["category_id"]["type"] == "keyword"


@pytest.mark.parametrize("error, unavailable", [
    (exceptions.ConnectionTimeout("TIMEOUT", "timed out", None), True),
    (exceptions.ConnectionError("N/A", "connection refused", None), True),
    (exceptions.TransportError(503, "unavailable", {}), True),
    (exceptions.TransportError(429, "too many requests", {}), True),
    (exceptions.RequestError(400, "parsing_exception", {}), False),
    (ValueError("bug"), False),
])
def test_engine_faults_map_to_search_unavailable(error, unavailable):
    mapped = osp.unavailable(error)
    assert (mapped is not None) is unavailable
    if mapped is not None:
        assert isinstance(mapped, SearchUnavailable) and mapped.retry_after_s > 0


class _Indices:
    def __init__(self, client):
        self.client = client

    def __getattr__(self, name):
        def call(**kwargs):
            self.client.calls.append((f"indices.{name}", kwargs))
            return self.client.replies.get(f"indices.{name}")
        return call


class FakeClient:
    """Records requests; answers from `replies` (a stand-in for opensearch-py's client)."""

    def __init__(self, replies=None, fail=None):
        self.calls, self.replies, self.fail = [], dict(replies or {}), fail
        self.indices = _Indices(self)

    def search(self, **kwargs):
        self.calls.append(("search", kwargs))
        if self.fail:
            raise self.fail
        return self.replies["search"]

    def bulk(self, **kwargs):
        self.calls.append(("bulk", kwargs))
        return self.replies["bulk"]


def test_provider_searches_the_alias_and_maps_timeouts():
    client = FakeClient({"search": _fixture("opensearch_search.json")})
    provider = osp.OpenSearchProvider(client, alias="products")
    page = provider.search(parse_search({"q": "sneakers"}))
    assert page.total == 3 and client.calls[0][1]["index"] == "products"
    slow = osp.OpenSearchProvider(FakeClient(fail=exceptions.ConnectionTimeout("TIMEOUT", "t", None)))
    with pytest.raises(SearchUnavailable):
        slow.search(parse_search({"q": "sneakers"}))


def test_write_sends_ndjson_to_the_alias_and_the_loading_index():
    client = FakeClient({"bulk": {"errors": False, "items": [
        {"index": {"_id": "p-1", "status": 201}}]}, "indices.exists_alias": True})
    outcome = osp.OpenSearchProvider(client, alias="products").write(
        [IndexAction("p-1", 3, {"product_id": "p-1"})])
    bulks = [kwargs["body"] for name, kwargs in client.calls if name == "bulk"]
    assert len(bulks) == 2  # live alias and the "-next" alias a rebuild is loading
    assert json.loads(bulks[0].splitlines()[0])["index"]["_index"] == "products"
    assert json.loads(bulks[1].splitlines()[0])["index"]["_index"] == "products-next"
    assert bulks[0].endswith("\n") and outcome.applied == {"p-1"}


def test_rebuild_loads_a_new_index_then_swaps_the_alias_atomically():
    client = FakeClient({"bulk": {"errors": False, "items": [{"index": {"_id": "p-1", "status": 201}}]},
                         "indices.exists_alias": True, "indices.get_alias": {"products-old": {}}})
    provider = osp.OpenSearchProvider(client, alias="products", reader_role_arn=None)
    name = provider.rebuild(iter([IndexAction("p-1", 3, {"product_id": "p-1"})]))
    created = next(kwargs for call, kwargs in client.calls if call == "indices.create")
    assert created["index"] == name and created["body"]["aliases"] == {"products-next": {}}
    swap = next(kwargs for call, kwargs in client.calls if call == "indices.update_aliases")
    assert swap["body"]["actions"] == [
        {"remove": {"index": "products-old", "alias": "products"}},
        {"add": {"index": name, "alias": "products"}},
        {"remove": {"index": name, "alias": "products-next"}},
    ]
    assert ("indices.delete", {"index": "products-old"}) in client.calls
    order = [call for call, _ in client.calls]
    assert order.index("bulk") < order.index("indices.update_aliases") < order.index("indices.delete")
