"""Search test helpers: the demo catalog as search documents, and a loaded tantivy provider."""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.local import demo_catalog
from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.search.documents import product_document
from headless_commerce.runtime.search.local_provider import TantivyProvider
from headless_commerce.runtime.search.provider import IndexAction


def catalog_documents(products: int = demo_catalog.DEFAULT_PRODUCTS) -> list[dict]:
    """The documents the indexer would build from the seeded table (same item builder)."""
    documents = []
    for product in demo_catalog.generate(products)["products"]:
        items = catalog_repository.product_items({k: v for k, v in product.items() if k != "skus"}, product["skus"])
        item = next(i for i in items if i[model.ENTITY_ATTRIBUTE] == model.Entity.PRODUCT)
        skus = [i for i in items if i[model.ENTITY_ATTRIBUTE] == model.Entity.INVENTORY]
        documents.append(product_document(item, skus))
    return documents


def loaded_provider(documents: list[dict]) -> TantivyProvider:
    provider = TantivyProvider()
    outcome = provider.write([IndexAction(d["product_id"], 1, d) for d in documents])
    assert not outcome.failed and len(outcome.applied) == len(documents)
    return provider
