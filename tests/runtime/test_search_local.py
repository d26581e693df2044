"""The local (tantivy) provider on the demo catalog: relevance with typos and partial words,
facet counts equal to brute-force counts, sorts, cursor pages, suggestions, versions."""

from collections import Counter

import pytest

from headless_commerce.runtime.search.params import PRICE_BANDS, encode_cursor, parse_search
from headless_commerce.runtime.search.provider import IndexAction

from .search_helpers import catalog_documents, loaded_provider


@pytest.fixture(scope="module")
def documents():
    return catalog_documents()


@pytest.fixture(scope="module")
def provider(documents):
    return loaded_provider(documents)


def _ids(page):
    return [item["product_id"] for item in page.items]


# (query, product that must rank in the top 3): misspellings, partial words, brand + type.
RELEVANCE = [
    ("stride heritage sneekers", "p-0070"),          # misspelt type
    ("sneekers trailwise urban", "p-0004"),
    ("sonique urban headphnes", "p-0205"),
    ("volt labs headphones", "p-0084"),             # brand + type
    ("headph compact", "p-0051"),                   # partial word
    ("copperhill deluxe dutch oven", "p-0137"),
    ("ironleaf classic dutch ovn", "p-0170"),
    ("summit gear heritage tent", "p-0163"),
    ("trailwise recycled tnet", "p-0097"),          # transposed letters
    ("northline classic running shoes", "p-0015"),
    ("stride compact hiking boots", "p-0037"),
    ("hikng boots northline urban", "p-0202"),
    ("dewdrop heritage sunscreen", "p-0088"),
    ("sunscrean botanica classic", "p-0077"),
    ("botanica compact face mask", "p-0165"),
    ("sonique everyday turntable", "p-0095"),
    ("turntabel lightweight volt", "p-0150"),
    ("turntab sonique lightweight", "p-0238"),      # partial word
    ("spoke chain classic gloves", "p-0164"),
    ("volt labs everyday laptop sleeve", "p-0107"),
    ("stoneware studio urban serving platter", "p-0127"),
    ("drift denim organic chinos", "p-0200"),
    ("kestrel heritage henley", "p-0023"),
    ("summit gear essential lantern", "p-0020"),
    ("northline pro windbreaker", "p-0113"),
    ("moisturiser botanica premium", "p-0187"),     # British spelling
    ("sonique soundbar recycled", "p-0227"),
    ("camp stove trailwise compact", "p-0086"),
    ("spoke & chain premium saddle bag", "p-0197"),
]


@pytest.mark.parametrize("text, expected", RELEVANCE)
def test_expected_product_ranks_in_the_top_three(provider, text, expected):
    top = _ids(provider.search(parse_search({"q": text, "limit": "3"})))
    assert expected in top, f"{text!r}: {expected} not in top 3 {top}"


def test_name_ranks_above_brand_above_description(documents):
    base = documents[0]
    docs = [dict(base, product_id="in-description", name="Plain Lamp", brand="Acme",
                 description="A lamp that works like a lumen beacon."),
            dict(base, product_id="in-brand", name="Plain Lamp", brand="Lumen", description="A lamp."),
            dict(base, product_id="in-name", name="Lumen Lamp", brand="Acme", description="A lamp.")]
    provider = loaded_provider(docs)
    assert _ids(provider.search(parse_search({"q": "lumen"}))) == ["in-name", "in-brand", "in-description"]
    # The same order holds for a misspelt query.
    assert _ids(provider.search(parse_search({"q": "lumon"}))) == ["in-name", "in-brand", "in-description"]


def test_misspelling_finds_every_product_of_the_word(provider, documents):
    sneakers = {d["product_id"] for d in documents if "Sneakers" in d["name"]}
    page = provider.search(parse_search({"q": "sneekers", "limit": "50"}))
    assert sneakers <= set(_ids(page))
    assert set(_ids(page)[:len(sneakers)]) == sneakers  # the real word's matches come first


def _brute(documents, predicate):
    matched = [d for d in documents if predicate(d)]
    bands = {f"{low}-{high if high is not None else ''}": sum(
        1 for d in matched if d["price_amount"] >= low and (high is None or d["price_amount"] < high))
        for low, high in PRICE_BANDS}
    return (len(matched), Counter(d["category_id"] for d in matched), Counter(d["brand"] for d in matched),
            bands)


@pytest.mark.parametrize("params, predicate", [
    ({"q": "demo"}, lambda d: True),  # every description says "a demo product"
    ({"q": "demo", "category": "audio"}, lambda d: d["category_id"] == "audio"),
    ({"q": "demo", "brand": "Northline,Stride"}, lambda d: d["brand"] in ("Northline", "Stride")),
    ({"q": "demo", "min_price": "2500", "max_price": "9999", "in_stock": "true"},
     lambda d: 2500 <= d["price_amount"] <= 9999 and d["in_stock"]),
    ({"q": "demo", "in_stock": "false"}, lambda d: not d["in_stock"]),
    ({"q": "sonique"}, lambda d: d["brand"] == "Sonique"),
])
def test_facet_counts_equal_brute_force_counts(provider, documents, params, predicate):
    page = provider.search(parse_search({**params, "limit": "50"}))
    total, categories, brands, bands = _brute(documents, predicate)
    assert page.total == total
    assert {f["value"]: f["count"] for f in page.facets["category"]} == dict(categories)
    assert {f["value"]: f["count"] for f in page.facets["brand"]} == dict(brands)
    assert {f["value"]: f["count"] for f in page.facets["price"]} == bands


@pytest.mark.parametrize("sort, key, reverse", [
    ("price_asc", lambda i: i["price"]["amount"], False),
    ("price_desc", lambda i: i["price"]["amount"], True),
])
def test_price_sorts(provider, sort, key, reverse):
    items = provider.search(parse_search({"q": "demo", "sort": sort, "limit": "50"})).items
    assert [key(i) for i in items] == sorted((key(i) for i in items), reverse=reverse)


def test_newest_sort_puts_the_latest_created_first(documents):
    newer = [dict(d, created_at=f"2026-0{1 + n % 9}-01T00:00:00+00:00") for n, d in enumerate(documents[:30])]
    provider = loaded_provider(newer)
    items = provider.search(parse_search({"q": "demo", "sort": "newest", "limit": "30"})).items
    created = {d["product_id"]: d["created_at"] for d in newer}
    dates = [created[i["product_id"]] for i in items]
    assert dates == sorted(dates, reverse=True)


def test_cursor_pages_cover_every_hit_once(provider):
    params = {"q": "demo", "sort": "price_asc", "limit": "50"}
    seen, after = [], None
    while True:
        query = parse_search({**params, **({"cursor": encode_cursor(parse_search(params), after)} if after else {})})
        page = provider.search(query)
        seen += _ids(page)
        after = page.after
        if after is None:
            break
    assert len(seen) == len(set(seen)) == page.total


def test_suggestions_complete_prefixes_and_tolerate_a_typo(provider):
    texts = [s["text"] for s in provider.suggest("sonique head", 8)]
    assert texts and all(t.startswith("Sonique") and "Headphones" in t for t in texts)
    assert any("Sneakers" in s["text"] for s in provider.suggest("sneek", 8))
    assert len(provider.suggest("s", 8)) == 8
    assert provider.suggest("zzzz", 8) == []


def test_external_versions_keep_the_newest_write(documents):
    provider = loaded_provider(documents[:5])
    product = documents[0]
    renamed = dict(product, name="Quasar Reflector")
    assert provider.write([IndexAction(product["product_id"], 5, renamed)]).applied == {product["product_id"]}
    stale = provider.write([IndexAction(product["product_id"], 4, dict(product, name="Nebula Old"))])
    assert stale.stale == {product["product_id"]} and not stale.applied
    assert _ids(provider.search(parse_search({"q": "quasar"}))) == [product["product_id"]]
    assert provider.search(parse_search({"q": "nebula"})).total == 0
    # A delete is versioned too: an older update arriving after it does not resurrect the product.
    provider.write([IndexAction(product["product_id"], 9, None)])
    provider.write([IndexAction(product["product_id"], 8, renamed)])
    assert provider.search(parse_search({"q": "quasar"})).total == 0


def test_rebuild_swaps_to_a_fresh_index_and_keeps_newer_live_writes(documents):
    provider = loaded_provider(documents[:10])
    live = dict(documents[0], name="Zephyr Live")
    provider.write([IndexAction(live["product_id"], 100, live)])
    rebuilt = [IndexAction(d["product_id"], 50, d) for d in documents[:20]]
    provider.rebuild(iter(rebuilt))
    assert provider.search(parse_search({"q": "demo", "limit": "50"})).total == 20
    assert _ids(provider.search(parse_search({"q": "zephyr"}))) == [live["product_id"]]
