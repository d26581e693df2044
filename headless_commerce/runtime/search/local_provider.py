"""Local provider: the same search behaviour on tantivy (a Rust search library), no cluster.

Used by local mode and tests. It mirrors the OpenSearch provider's observable behaviour:
English stemming plus typo tolerance (fuzziness AUTO: one edit for 3-5 letter words, two
beyond), name above brand above description, partial words through edge n-grams, the same
filters, facets and price bands, the same sorts, external versions on writes.

Its cursors are offsets (tantivy sorts by one fast field and has no search_after); cursors
are opaque to clients, so only the provider that made one reads it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC

import tantivy
from tantivy import FieldType, Filter, Index, Occur, Order, Query, SchemaBuilder, TextAnalyzerBuilder, Tokenizer

from headless_commerce.runtime.common.domain_errors import InvalidSearchCursor
from headless_commerce.runtime.search.documents import epoch_millis, hit
from headless_commerce.runtime.search.mapping import MAX_EDGE_GRAM
from headless_commerce.runtime.search.params import PRICE_BANDS, SUGGEST_SIZE, SearchQuery, band_key
from headless_commerce.runtime.search.provider import IndexAction, SearchPage, WriteOutcome

TEXT_FIELDS = (("name", 3.0), ("brand", 2.0), ("description", 1.0))
# A fuzzy match scores a constant in tantivy; weighted under an exact one, above nothing.
FUZZY_WEIGHT = 0.6
PREFIX_WEIGHT = 1.5
FACET_SIZE = 50
_WRITER_HEAP = 50_000_000
_MAX_OFFSET = 10_000


def _auto_fuzziness(term: str) -> int:
    """OpenSearch's fuzziness AUTO: 0 edits up to 2 letters, 1 up to 5, 2 beyond."""
    return 0 if len(term) <= 2 else 1 if len(term) <= 5 else 2


def _schema() -> tantivy.Schema:
    builder = SchemaBuilder()
    builder.add_text_field("product_id", stored=True, fast=True, tokenizer_name="raw")
    for name, _ in TEXT_FIELDS:
        builder.add_text_field(name, stored=True, tokenizer_name="en")
    builder.add_text_field("name_prefix", tokenizer_name="edge")
    builder.add_text_field("brand_key", fast=True, tokenizer_name="raw")
    builder.add_text_field("category_id", stored=True, fast=True, tokenizer_name="raw")
    builder.add_integer_field("price_amount", stored=True, indexed=True, fast=True)
    builder.add_boolean_field("in_stock", stored=True, indexed=True, fast=True)
    builder.add_integer_field("created_at", stored=True, indexed=True, fast=True)
    builder.add_text_field("currency", stored=True, tokenizer_name="raw")
    builder.add_text_field("images", stored=True, tokenizer_name="raw")
    return builder.build()


class _Engine:
    """One tantivy index with its analyzers and single writer (a rebuild makes a new one)."""

    def __init__(self) -> None:
        self.schema = _schema()
        self.english = (TextAnalyzerBuilder(Tokenizer.simple()).filter(Filter.lowercase())
                        .filter(Filter.ascii_fold()).filter(Filter.stemmer("english")).build())
        self.plain = (TextAnalyzerBuilder(Tokenizer.simple()).filter(Filter.lowercase())
                      .filter(Filter.ascii_fold()).build())
        edge = (TextAnalyzerBuilder(Tokenizer.ngram(1, MAX_EDGE_GRAM, True)).filter(Filter.lowercase())
                .filter(Filter.ascii_fold()).build())
        self.index = Index(self.schema)
        self.index.register_tokenizer("en", self.english)
        self.index.register_tokenizer("edge", edge)
        self.writer = self.index.writer(_WRITER_HEAP, 1)

    def document(self, doc: dict) -> tantivy.Document:
        out = tantivy.Document()
        out.add_text("product_id", doc["product_id"])
        for name, _ in TEXT_FIELDS:
            out.add_text(name, doc.get(name) or "")
        for word in self.plain.analyze(doc["name"]):
            out.add_text("name_prefix", word)
        out.add_text("brand_key", doc.get("brand") or "")
        out.add_text("category_id", doc.get("category_id") or "")
        out.add_integer("price_amount", int(doc["price_amount"]))
        out.add_boolean("in_stock", bool(doc["in_stock"]))
        out.add_integer("created_at", epoch_millis(doc["created_at"]))
        out.add_text("currency", doc["currency"])
        for image in doc.get("images") or []:
            out.add_text("images", image)
        return out

    def apply(self, actions: list[IndexAction]) -> None:
        for action in actions:
            self.writer.delete_documents_by_term("product_id", action.product_id)
            if action.document is not None:
                self.writer.add_document(self.document(action.document))
        self.writer.commit()
        self.index.reload()


class TantivyProvider:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engine = _Engine()
        # product_id -> newest version applied (kept after a delete, as a tombstone).
        self._versions: dict[str, int] = {}
        self.generation = 0

    # ---- queries ------------------------------------------------------------------------

    def _text_query(self, engine: _Engine, text: str) -> Query:
        schema = engine.schema
        clauses = []
        for stem, word in zip(engine.english.analyze(text), engine.plain.analyze(text), strict=False):
            alternatives = []
            for field, boost in TEXT_FIELDS:
                alternatives.append(Query.boost_query(Query.term_query(schema, field, stem), boost))
                # One query per edit distance: a closer spelling outranks a farther one.
                for distance in range(1, _auto_fuzziness(stem) + 1):
                    alternatives.append(Query.boost_query(
                        Query.fuzzy_term_query(schema, field, stem, distance=distance),
                        boost * FUZZY_WEIGHT / distance))
            alternatives.append(Query.boost_query(Query.term_query(schema, "name_prefix", word), PREFIX_WEIGHT))
            clauses.append((Occur.Should, Query.disjunction_max_query(alternatives, tie_breaker=0.3)))
        return Query.boolean_query(clauses) if clauses else Query.empty_query()

    def _filters(self, engine: _Engine, query: SearchQuery) -> list[Query]:
        schema = engine.schema
        filters = []
        if query.categories:
            filters.append(Query.term_set_query(schema, "category_id", list(query.categories)))
        if query.brands:
            filters.append(Query.term_set_query(schema, "brand_key", list(query.brands)))
        if query.min_price is not None or query.max_price is not None:
            filters.append(Query.range_query(schema, "price_amount", FieldType.Integer,
                                             lower_bound=query.min_price if query.min_price is not None else 0,
                                             upper_bound=query.max_price if query.max_price is not None else 2**62))
        if query.in_stock is not None:
            filters.append(Query.term_query(schema, "in_stock", query.in_stock))
        return filters

    def _offset(self, query: SearchQuery) -> int:
        if not query.after:
            return 0
        offset = query.after[0]
        if (len(query.after) != 1 or not isinstance(offset, int) or isinstance(offset, bool)
                or not 0 < offset <= _MAX_OFFSET):
            raise InvalidSearchCursor()
        return offset

    def search(self, query: SearchQuery) -> SearchPage:
        engine = self._engine
        offset = self._offset(query)
        text = self._text_query(engine, query.text)
        filters = self._filters(engine, query)
        combined = Query.boolean_query([(Occur.Must, text), *((Occur.Must, f) for f in filters)])
        searcher = engine.index.searcher()
        order = {"price_asc": ("price_amount", Order.Asc), "price_desc": ("price_amount", Order.Desc),
                 "newest": ("created_at", Order.Desc)}.get(query.sort)
        kwargs = {"order_by_field": order[0], "order": order[1]} if order else {}
        result = searcher.search(combined, limit=query.size + 1, count=True, offset=offset, **kwargs)
        page = result.hits[:query.size]
        items = [hit(self._stored(searcher.doc(address))) for _, address in page]
        return SearchPage(items=items, total=result.count, facets=self._facets(searcher, combined),
                          after=[offset + query.size] if len(result.hits) > query.size else None)

    @staticmethod
    def _stored(document: tantivy.Document) -> dict:
        return {
            "product_id": document.get_first("product_id"),
            "name": document.get_first("name"),
            "brand": document.get_first("brand"),
            "category_id": document.get_first("category_id"),
            "price_amount": document.get_first("price_amount"),
            "currency": document.get_first("currency"),
            "images": document.get_all("images"),
            "in_stock": document.get_first("in_stock"),
        }

    @staticmethod
    def _facets(searcher, query: Query) -> dict:
        ranges = [{"key": band_key(low, high), "from": low, **({"to": high} if high is not None else {})}
                  for low, high in PRICE_BANDS]
        result = searcher.aggregate(query, {
            "category": {"terms": {"field": "category_id", "size": FACET_SIZE}},
            "brand": {"terms": {"field": "brand_key", "size": FACET_SIZE}},
            "price": {"range": {"field": "price_amount", "ranges": ranges}},
        })
        facets = {name: [{"value": b["key"], "count": b["doc_count"]} for b in result[name]["buckets"]
                         if b["key"] != ""]
                  for name in ("category", "brand")}
        # tantivy adds a bucket below the first band; read buckets by their bounds.
        counts = {(b.get("from"), b.get("to")): b["doc_count"] for b in result["price"]["buckets"]}
        facets["price"] = [{"value": band_key(low, high), "min": low, "max": high,
                            "count": counts.get((float(low), float(high) if high is not None else None), 0)}
                           for low, high in PRICE_BANDS]
        return facets

    def suggest(self, prefix: str, size: int = SUGGEST_SIZE) -> list[dict]:
        engine = self._engine
        schema = engine.schema
        clauses = []
        for word in engine.plain.analyze(prefix):
            word = word[:MAX_EDGE_GRAM]
            alternatives = [Query.boost_query(Query.term_query(schema, "name_prefix", word), 2.0)]
            if len(word) >= 4:
                alternatives.append(Query.fuzzy_term_query(schema, "name_prefix", word, distance=1))
            clauses.append((Occur.Must, Query.disjunction_max_query(alternatives)))
        if not clauses:
            return []
        searcher = engine.index.searcher()
        seen, out = set(), []
        for _, address in searcher.search(Query.boolean_query(clauses), limit=size * 2).hits:
            document = searcher.doc(address)
            name = document.get_first("name")
            if name not in seen:
                seen.add(name)
                out.append({"text": name, "product_id": document.get_first("product_id")})
            if len(out) == size:
                break
        return out

    # ---- writes -------------------------------------------------------------------------

    def write(self, actions: list[IndexAction]) -> WriteOutcome:
        outcome = WriteOutcome()
        with self._lock:
            newest: dict[str, IndexAction] = {}
            for action in actions:
                held = max(self._versions.get(action.product_id, -1),
                           newest[action.product_id].version if action.product_id in newest else -1)
                if action.version <= held:
                    outcome.stale.add(action.product_id)
                    continue
                newest[action.product_id] = action
            if newest:
                self._engine.apply(list(newest.values()))
                for action in newest.values():
                    self._versions[action.product_id] = action.version
                    outcome.applied.add(action.product_id)
                    outcome.stale.discard(action.product_id)
        return outcome

    def rebuild(self, actions: Iterable[IndexAction], batch_size: int = 2000) -> str:
        """Load a fresh index beside the live one, then swap to it (searches never pause)."""
        engine = _Engine()
        versions: dict[str, int] = {}
        batch: list[IndexAction] = []
        for action in actions:
            if action.document is not None:
                batch.append(action)
                versions[action.product_id] = action.version
            if len(batch) >= batch_size:
                engine.apply(batch)
                batch = []
        engine.apply(batch)
        with self._lock:
            # Writes that landed on the live index during the load win where they are newer.
            late = list(self._late_actions(versions))
            if late:
                engine.apply(late)
                for action in late:
                    versions[action.product_id] = action.version
            self._engine, self._versions = engine, {**self._versions, **versions}
            self.generation += 1
        return f"local-{self.generation}"

    def _late_actions(self, loaded: dict[str, int]) -> list[IndexAction]:
        actions = []
        searcher = self._engine.index.searcher()
        for product_id, version in self._versions.items():
            if version > loaded.get(product_id, -1):
                found = searcher.search(Query.term_query(self._engine.schema, "product_id", product_id), 1).hits
                document = self._full_document(searcher.doc(found[0][1])) if found else None
                actions.append(IndexAction(product_id, version, document))
        return actions

    @staticmethod
    def _full_document(document: tantivy.Document) -> dict:
        created = document.get_first("created_at")
        from datetime import datetime

        return {
            **TantivyProvider._stored(document),
            "description": document.get_first("description") or "",
            "created_at": datetime.fromtimestamp(created / 1000, tz=UTC).isoformat(),
        }
