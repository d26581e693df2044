"""Search test helpers: the demo catalog as search documents, and a loaded tantivy provider."""

from __future__ import annotations

from opensearchpy import exceptions

from headless_commerce.local import demo_catalog
from headless_commerce.runtime.search import service
from headless_commerce.runtime.search.local_provider import TantivyProvider
from headless_commerce.runtime.search.provider import IndexAction


def catalog_documents(products: int = demo_catalog.DEFAULT_PRODUCTS) -> list[dict]:
    """The documents the indexer would build from the seeded table (same item builder)."""
    return [action.document for action in service.seeded_actions(demo_catalog.generate(products)["products"])]


def loaded_provider(documents: list[dict]) -> TantivyProvider:
    provider = TantivyProvider()
    outcome = provider.write([IndexAction(d["product_id"], 1, d) for d in documents])
    assert not outcome.failed and len(outcome.applied) == len(documents)
    return provider


class TimingOutClient:
    """An opensearch-py client whose cluster never answers in time."""

    indices = None

    def search(self, **kwargs):
        raise exceptions.ConnectionTimeout("TIMEOUT", "Read timed out. (read timeout=2.0)", None)
