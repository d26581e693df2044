"""The interface both search engines implement, and the process-wide provider.

The OpenSearch provider runs in AWS; the tantivy provider runs in local mode and tests. The
service and the indexer only see this interface, so both engines answer the same requests
with the same shapes and the same errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from headless_commerce.runtime import settings
from headless_commerce.runtime.common.provider_slot import ProviderSlot
from headless_commerce.runtime.search.params import SearchQuery


@dataclass
class SearchPage:
    items: list[dict]
    total: int
    # {"category": [{"value", "count"}], "brand": [...], "price": [{"value", "min", "max", "count"}]}
    facets: dict
    # Provider-defined position after the last item, or None on the last page.
    after: list | None = None


@dataclass(frozen=True)
class IndexAction:
    """Put `document` (or delete, when None) as `product_id` at `version`.

    Versions are external: an action whose version is not newer than the one the index holds
    for that product is skipped, so a late or repeated update never overwrites a newer one.
    """

    product_id: str
    version: int
    document: dict | None


@dataclass
class WriteOutcome:
    applied: set[str] = field(default_factory=set)
    # Not applied because the index already holds this or a newer version: also success.
    stale: set[str] = field(default_factory=set)
    # product_id -> reason; these must be retried (the stream records are reported).
    failed: dict[str, str] = field(default_factory=dict)


class SearchProvider(Protocol):
    def search(self, query: SearchQuery) -> SearchPage: ...

    def suggest(self, prefix: str, size: int) -> list[dict]: ...

    def write(self, actions: list[IndexAction]) -> WriteOutcome: ...

    def rebuild(self, actions: Iterable[IndexAction]) -> str:
        """Load a new physical index and atomically point the alias at it; returns its name."""
        ...


def _build() -> SearchProvider:
    kind = settings.search_provider()
    if kind != "opensearch":
        raise RuntimeError(f"search provider {kind!r} must be installed with set_provider()")
    from headless_commerce.runtime.search.opensearch_provider import OpenSearchProvider

    return OpenSearchProvider.from_environment()


_slot: ProviderSlot[SearchProvider] = ProviderSlot(_build)
# Local mode and tests install their provider (None forgets it); otherwise the first use builds
# the OpenSearch one from the environment.
set_provider = _slot.set
get_provider = _slot.get


def available() -> bool:
    """Whether this process can search: a provider is installed or OpenSearch is configured
    (functions deployed without the search capability have neither)."""
    return _slot.installed() or (settings.search_provider() == "opensearch"
                                 and settings.search_endpoint_configured())
