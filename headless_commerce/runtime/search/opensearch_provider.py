"""OpenSearch provider: the query DSL it sends, the responses it reads, bulk writes with
external versioning, and the alias swap of a rebuild.

The request bodies are built by pure functions (`search_body`, `suggest_body`, `bulk_body`)
so tests check the DSL without a cluster, and responses are read by pure functions tested on
recorded response shapes. opensearch-py (a layer) is imported only when a client is built.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from headless_commerce.runtime import settings
from headless_commerce.runtime.common.domain_errors import InvalidSearchCursor, SearchUnavailable
from headless_commerce.runtime.search.documents import RESULT_FIELDS, hit
from headless_commerce.runtime.search.mapping import index_body
from headless_commerce.runtime.search.params import PRICE_BANDS, SUGGEST_SIZE, SearchQuery, band_key
from headless_commerce.runtime.search.provider import IndexAction, SearchPage, WriteOutcome

# Name above brand above description: a product named "Tent" beats one that mentions tents.
TEXT_FIELDS = ("name^3", "brand^2", "description")
FACET_SIZE = 50
REQUEST_TIMEOUT_S = 2.0
RETRY_AFTER_S = 5
READER_ROLE = "commerce_search_reader"
# Statuses meaning "the engine is overloaded or down": a 503 for the client, not a 500.
_UNAVAILABLE_STATUSES = {429, 502, 503, 504}

SORTS: dict[str, list[dict]] = {
    "relevance": [{"_score": "desc"}, {"product_id": "asc"}],
    "price_asc": [{"price_amount": "asc"}, {"product_id": "asc"}],
    "price_desc": [{"price_amount": "desc"}, {"product_id": "asc"}],
    "newest": [{"created_at": "desc"}, {"product_id": "asc"}],
}


def _filters(query: SearchQuery) -> list[dict]:
    filters: list[dict] = []
    if query.categories:
        filters.append({"terms": {"category_id": list(query.categories)}})
    if query.brands:
        filters.append({"terms": {"brand.keyword": list(query.brands)}})
    if query.min_price is not None or query.max_price is not None:
        bounds = {}
        if query.min_price is not None:
            bounds["gte"] = query.min_price
        if query.max_price is not None:
            bounds["lte"] = query.max_price
        filters.append({"range": {"price_amount": bounds}})
    if query.in_stock is not None:
        filters.append({"term": {"in_stock": query.in_stock}})
    return filters


def _check_after(query: SearchQuery) -> None:
    """search_after must match the sort's value types, or OpenSearch answers 400/500."""
    if not query.after:
        return
    if len(query.after) != 2 or not isinstance(query.after[1], str):
        raise InvalidSearchCursor()
    first = query.after[0]
    expected = (int, float) if query.sort == "relevance" else (int,)
    if not isinstance(first, expected):
        raise InvalidSearchCursor()


def search_body(query: SearchQuery) -> dict:
    """The _search request body of `query` (one more hit than a page, to know if more follow)."""
    _check_after(query)
    text = {"bool": {"should": [
        # Typos: AUTO allows 1 edit in 3-5 letter terms and 2 beyond; the first letter is kept.
        {"multi_match": {"query": query.text, "fields": list(TEXT_FIELDS), "type": "best_fields",
                         "fuzziness": "AUTO", "prefix_length": 1, "max_expansions": 50,
                         "tie_breaker": 0.3}},
        # Partial words ("headph"): every typed word must start a word of the name.
        {"match": {"name.autocomplete": {"query": query.text, "operator": "and", "boost": 1.5}}},
    ], "minimum_should_match": 1}}
    body: dict = {
        "query": {"bool": {"must": [text], "filter": _filters(query)}},
        "size": query.size + 1,
        "track_total_hits": True,
        "sort": SORTS[query.sort],
        "_source": list(RESULT_FIELDS),
        "aggs": {
            "category": {"terms": {"field": "category_id", "size": FACET_SIZE}},
            "brand": {"terms": {"field": "brand.keyword", "size": FACET_SIZE}},
            "price": {"range": {"field": "price_amount", "ranges": [
                {"key": band_key(low, high), "from": low, **({"to": high} if high is not None else {})}
                for low, high in PRICE_BANDS]}},
        },
    }
    if query.after:
        body["search_after"] = list(query.after)
    return body


def parse_search(response: dict, query: SearchQuery) -> SearchPage:
    hits = response["hits"]["hits"]
    page = hits[:query.size]
    total = response["hits"]["total"]
    aggregations = response.get("aggregations", {})
    bands = {band_key(low, high): (low, high) for low, high in PRICE_BANDS}
    facets = {
        name: [{"value": b["key"], "count": b["doc_count"]} for b in aggregations.get(name, {}).get("buckets", [])]
        for name in ("category", "brand")
    }
    facets["price"] = [
        {"value": b["key"], "min": bands[b["key"]][0], "max": bands[b["key"]][1], "count": b["doc_count"]}
        for b in aggregations.get("price", {}).get("buckets", []) if b["key"] in bands]
    return SearchPage(
        items=[hit(h["_source"]) for h in page],
        total=total["value"] if isinstance(total, dict) else int(total),
        facets=facets,
        after=list(page[-1]["sort"]) if len(hits) > query.size and page else None,
    )


def suggest_body(prefix: str, size: int = SUGGEST_SIZE) -> dict:
    return {
        "size": size,
        "_source": ["product_id", "name"],
        "query": {"bool": {
            "must": [{"match": {"name.autocomplete": {"query": prefix, "operator": "and",
                                                      "fuzziness": "AUTO", "prefix_length": 1}}}],
            # Exact prefixes rank above fuzzy ones.
            "should": [{"match": {"name.autocomplete": {"query": prefix, "operator": "and", "boost": 2}}}],
        }},
    }


def parse_suggest(response: dict) -> list[dict]:
    seen, out = set(), []
    for h in response["hits"]["hits"]:
        name = h["_source"]["name"]
        if name not in seen:
            seen.add(name)
            out.append({"text": name, "product_id": h["_source"]["product_id"]})
    return out


def bulk_body(index: str, actions: list[IndexAction]) -> list[dict]:
    """NDJSON lines of a bulk request: external versions on every index and delete."""
    lines: list[dict] = []
    for action in actions:
        meta = {"_index": index, "_id": action.product_id, "version": action.version,
                "version_type": "external"}
        if action.document is None:
            lines.append({"delete": meta})
        else:
            lines += [{"index": meta}, action.document]
    return lines


def parse_bulk(response: dict) -> WriteOutcome:
    outcome = WriteOutcome()
    for entry in response.get("items", []):
        ((operation, result),) = entry.items()
        product_id, status = result.get("_id"), int(result.get("status", 500))
        if status == 409:
            outcome.stale.add(product_id)  # the index holds this or a newer version
        elif 200 <= status < 300 or (operation == "delete" and status == 404):
            outcome.applied.add(product_id)
        else:
            error = result.get("error") or {}
            outcome.failed[product_id] = f"{status} {error.get('type', '')}: {error.get('reason', '')}".strip()
    return outcome


def unavailable(error: Exception) -> SearchUnavailable | None:
    """The SearchUnavailable an opensearch-py error means, or None if it is not that kind."""
    from opensearchpy import exceptions

    if isinstance(error, exceptions.ConnectionError):  # includes ConnectionTimeout
        return SearchUnavailable(RETRY_AFTER_S)
    if isinstance(error, exceptions.TransportError) and error.status_code in _UNAVAILABLE_STATUSES:
        return SearchUnavailable(RETRY_AFTER_S)
    return None


class OpenSearchProvider:
    def __init__(self, client, *, alias: str = settings.SEARCH_DEFAULT_ALIAS, replicas: int = 0,
                 reader_role_arn: str | None = None) -> None:
        self._client = client
        self.alias = alias
        self._replicas = replicas
        self._reader_role_arn = reader_role_arn

    @classmethod
    def from_environment(cls) -> OpenSearchProvider:
        import boto3
        from opensearchpy import OpenSearch, Urllib3AWSV4SignerAuth, Urllib3HttpConnection

        session = boto3.session.Session()
        service = settings.search_signing_service()
        auth = Urllib3AWSV4SignerAuth(session.get_credentials(), session.region_name, service)
        client = OpenSearch(hosts=[{"host": settings.search_endpoint(), "port": 443}],
                            http_auth=auth, use_ssl=True, verify_certs=True,
                            connection_class=Urllib3HttpConnection, timeout=REQUEST_TIMEOUT_S,
                            max_retries=1, retry_on_timeout=False, pool_maxsize=10)
        return cls(client, alias=settings.search_alias(), replicas=settings.search_replicas(),
                   reader_role_arn=settings.search_reader_role_arn())

    def _call(self, operation, *args, **kwargs):
        try:
            return operation(*args, **kwargs)
        except Exception as error:
            mapped = unavailable(error)
            if mapped is not None:
                raise mapped from error
            raise

    def search(self, query: SearchQuery) -> SearchPage:
        response = self._call(self._client.search, index=self.alias, body=search_body(query))
        return parse_search(response, query)

    def suggest(self, prefix: str, size: int = SUGGEST_SIZE) -> list[dict]:
        return parse_suggest(self._call(self._client.search, index=self.alias, body=suggest_body(prefix, size)))

    @property
    def next_alias(self) -> str:
        """Points at the index a rebuild is loading, so writes during a rebuild reach it too."""
        return f"{self.alias}-next"

    def write(self, actions: list[IndexAction]) -> WriteOutcome:
        if not actions:
            return WriteOutcome()
        self.ensure_index()
        outcome = self._write_to(self.alias, actions)
        if self._call(self._client.indices.exists_alias, name=self.next_alias):
            loading = self._write_to(self.next_alias, actions)
            outcome.failed.update(loading.failed)
        outcome.applied -= set(outcome.failed)
        outcome.stale -= set(outcome.failed)
        return outcome

    def _write_to(self, index: str, actions: list[IndexAction]) -> WriteOutcome:
        body = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in bulk_body(index, actions))
        return parse_bulk(self._call(self._client.bulk, body=body))

    # ---- index lifecycle -----------------------------------------------------------------

    def new_index_name(self) -> str:
        return f"{self.alias}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{time.time_ns() % 1000:03d}"

    def ensure_index(self) -> None:
        """Create the first physical index and the alias if there is none (first deployment)."""
        if self._call(self._client.indices.exists_alias, name=self.alias):
            return
        name = self.new_index_name()
        self._call(self._client.indices.create, index=name, body=index_body(self._replicas))
        self._call(self._client.indices.put_alias, index=name, name=self.alias)
        self.ensure_reader_role()

    def ensure_reader_role(self) -> None:
        """Fine-grained access control: the query functions' IAM roles (comma-separated) read the
        alias, nothing else."""
        if not self._reader_role_arn:
            return
        transport = self._client.transport
        self._call(transport.perform_request, "PUT", f"/_plugins/_security/api/roles/{READER_ROLE}", body={
            "index_permissions": [{"index_patterns": [f"{self.alias}*"],
                                   "allowed_actions": ["read", "indices:data/read/search*"]}]})
        self._call(transport.perform_request, "PUT", f"/_plugins/_security/api/rolesmapping/{READER_ROLE}",
                   body={"backend_roles": [arn.strip() for arn in self._reader_role_arn.split(",") if arn.strip()]})

    def rebuild(self, actions: Iterable[IndexAction], batch_size: int = 500) -> str:
        """Load every action into a new index, then swap the alias to it in one atomic call.

        While it loads, the new index also carries `next_alias`, which the indexer writes to
        as well; external versions keep whichever of a loaded and a live update is newer.
        """
        name = self.new_index_name()
        self._call(self._client.indices.create, index=name,
                   body={**index_body(self._replicas), "aliases": {self.next_alias: {}}})
        batch: list[IndexAction] = []
        for action in actions:
            batch.append(action)
            if len(batch) >= batch_size:
                self._raise_failed(self._write_to(name, batch))
                batch = []
        if batch:
            self._raise_failed(self._write_to(name, batch))
        self._call(self._client.indices.refresh, index=name)
        old = []
        if self._call(self._client.indices.exists_alias, name=self.alias):
            old = list(self._call(self._client.indices.get_alias, name=self.alias))
        self._call(self._client.indices.update_aliases, body={"actions": [
            *({"remove": {"index": index, "alias": self.alias}} for index in old),
            {"add": {"index": name, "alias": self.alias}},
            {"remove": {"index": name, "alias": self.next_alias}},
        ]})
        for index in old:
            self._call(self._client.indices.delete, index=index)
        self.ensure_reader_role()
        return name

    @staticmethod
    def _raise_failed(outcome: WriteOutcome) -> None:
        if outcome.failed:
            first = next(iter(outcome.failed.items()))
            raise RuntimeError(f"rebuild: {len(outcome.failed)} documents failed, e.g. {first}")
