"""Search business steps: validate the request, ask the provider, shape the answer; and the
snapshots the indexer and a full reindex turn into index actions."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.common.logging import count
from headless_commerce.runtime.search import params as search_params
from headless_commerce.runtime.search.documents import product_document
from headless_commerce.runtime.search.provider import IndexAction, WriteOutcome, get_provider


def search(query_params: dict[str, str]) -> dict:
    query = search_params.parse_search(query_params)
    page = get_provider().search(query)
    # First pages only: a shopper's query is one search however many pages they read, so the
    # dashboard's zero-result rate is SearchZeroResults / Searches.
    if not query.after:
        count("Searches")
        if page.total == 0:
            count("SearchZeroResults")
    return {"items": page.items, "facets": page.facets, "total": page.total,
            "next_cursor": search_params.encode_cursor(query, page.after)}


def suggest(query_params: dict[str, str]) -> dict:
    prefix = search_params.parse_suggest(query_params)
    return {"suggestions": get_provider().suggest(prefix, search_params.SUGGEST_SIZE)}


def _version() -> int:
    # External version of a snapshot: the time it was read, in microseconds. The indexer
    # always indexes the product's current state (read consistently after the change), so a
    # later read is never older; OpenSearch rejects an earlier version than the one it holds.
    return time.time_ns() // 1000


def snapshot_action(product_id: str) -> IndexAction:
    """The index action that makes the index match the table for one product now."""
    product, skus = catalog_repository.get_product_snapshot(product_id)
    version = _version()
    return IndexAction(product_id, version, product_document(product, skus) if product else None)


def index_products(product_ids: Iterable[str]) -> WriteOutcome:
    actions = [snapshot_action(product_id) for product_id in dict.fromkeys(product_ids)]
    return get_provider().write(actions)


def seeded_actions(products: Iterable[dict]) -> Iterator[IndexAction]:
    """Index actions for catalog-file products (CATALOG.md format), built with the same item
    builder the seed writes with, so a just-seeded table needs no read back."""
    for product in products:
        items = catalog_repository.product_items({k: v for k, v in product.items() if k != "skus"}, product["skus"])
        item, skus = items[0], items[1:]
        yield IndexAction(item["product_id"], _version(), product_document(item, skus))


def catalog_actions() -> Iterator[IndexAction]:
    for product, skus in catalog_repository.iter_product_snapshots():
        yield IndexAction(product["product_id"], _version(), product_document(product, skus))


def reindex() -> dict:
    """Full backfill into a new index, then an atomic alias swap (searches never see a gap)."""
    started = time.monotonic()
    count = 0

    def counted() -> Iterator[IndexAction]:
        nonlocal count
        for action in catalog_actions():
            count += 1
            yield action

    index = get_provider().rebuild(counted())
    return {"index": index, "documents": count, "seconds": round(time.monotonic() - started, 3)}
