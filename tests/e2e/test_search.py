"""Search in local mode over HTTP: relevance on the demo catalog, facet counts equal to
brute-force counts, bad input, and a product changed in the table findable within 2 s."""

from __future__ import annotations

import time
import urllib.parse
from collections import Counter

import pytest

from tests.runtime.search_helpers import catalog_documents
from tests.runtime.test_search_local import RELEVANCE


def _search(local, **params):
    return local.call("GET", "/search?" + urllib.parse.urlencode(params))


@pytest.fixture(scope="module")
def documents():
    return catalog_documents()


@pytest.mark.parametrize("text, expected", RELEVANCE)
def test_relevance_on_the_demo_catalog(local, text, expected):
    reply = _search(local, q=text, limit=3)
    assert reply.status == 200, reply.body
    top = [i["product_id"] for i in reply.body["items"]]
    assert expected in top, f"{text!r}: {expected} not in top 3 {top}"


def test_facet_counts_equal_brute_force_counts(local, documents):
    # No stock filter: other tests of the session buy things, which moves in_stock.
    reply = _search(local, q="demo", category="audio,footwear", limit=50)
    assert reply.status == 200
    matched = [d for d in documents if d["category_id"] in ("audio", "footwear")]
    assert reply.body["total"] == len(matched)
    facets = reply.body["facets"]
    assert {f["value"]: f["count"] for f in facets["brand"]} == dict(Counter(d["brand"] for d in matched))
    assert {f["value"]: f["count"] for f in facets["category"]} == dict(Counter(d["category_id"] for d in matched))
    for band in facets["price"]:
        expected = sum(1 for d in matched if d["price_amount"] >= band["min"]
                       and (band["max"] is None or d["price_amount"] < band["max"]))
        assert band["count"] == expected, band


def test_suggest_and_bad_input(local):
    reply = local.call("GET", "/search/suggest?q=sneak")
    assert reply.status == 200 and all("Sneakers" in s["text"] for s in reply.body["suggestions"])
    for params, field in (({"q": ""}, "q"), ({"q": "x" * 201}, "q"), ({"q": "tee", "sort": "rating"}, "sort"),
                          ({"q": "tee", "min_price": "500", "max_price": "100"}, "min_price"),
                          ({"q": "tee", "cursor": "not-a-cursor"}, "cursor")):
        reply = _search(local, **params)
        assert reply.status == 400 and reply.body["error"]["field"] == field, (params, reply.body)


def test_a_product_changed_in_the_table_is_findable_within_two_seconds(local):
    dynamodb = local.client("dynamodb")
    (table,) = [t for t in dynamodb.list_tables()["TableNames"] if t.endswith("-commerce")]
    started = time.monotonic()
    dynamodb.update_item(
        # A product no other test of the session looks for (accessories, not in RELEVANCE).
        TableName=table, Key={"pk": {"S": "PRODUCT#p-0239"}, "sk": {"S": "PRODUCT"}},
        UpdateExpression="SET #n = :name, price_amount = :price",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":name": {"S": "Cablecraft Zanzibar USB-C Cable"}, ":price": {"N": "77777"}})
    found = None
    while time.monotonic() - started < 2.0:
        reply = _search(local, q="zanzibar", min_price="77000", max_price="78000")
        if reply.status == 200 and reply.body["items"]:
            found = reply.body["items"][0]
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    assert found is not None, f"not findable after {elapsed:.2f} s"
    assert found["product_id"] == "p-0239" and found["price"]["amount"] == 77777


def test_reindex_command_rebuilds_the_local_index(local):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "headless_commerce.cli", "search", "reindex",
                             "--local", local.api], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "reindexed 240 products" in result.stdout
    assert _search(local, q="sneekers").body["items"]
    missing = subprocess.run([sys.executable, "-m", "headless_commerce.cli", "search", "reindex",
                              "--local", "http://127.0.0.1:9"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "cannot reach local mode" in missing.stderr
