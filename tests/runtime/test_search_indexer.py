"""The search indexer on a moto table: it indexes each touched product's current state,
whatever the order or repetition of stream records; deletes; reports only failed products."""

import itertools

import pytest

from headless_commerce import model
from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.common import dynamo
from headless_commerce.runtime.common.domain_errors import SearchUnavailable
from headless_commerce.runtime.search import indexer
from headless_commerce.runtime.search import provider as search_provider
from headless_commerce.runtime.search.local_provider import TantivyProvider
from headless_commerce.runtime.search.params import parse_search
from headless_commerce.runtime.search.provider import WriteOutcome

_sequence = itertools.count(100)


@pytest.fixture
def engine(table):
    engine = TantivyProvider()
    search_provider.set_provider(engine)
    yield engine
    search_provider.set_provider(None)


def _record(event_name: str, new: dict | None, old: dict | None = None) -> dict:
    change = {"SequenceNumber": str(next(_sequence)), "StreamViewType": "NEW_AND_OLD_IMAGES",
              "Keys": {k: v for k, v in dynamo.to_item(new or old).items() if k in ("pk", "sk")}}
    if new is not None:
        change["NewImage"] = dynamo.to_item(new)
    if old is not None:
        change["OldImage"] = dynamo.to_item(old)
    return {"eventID": change["SequenceNumber"], "eventName": event_name, "eventSource": "aws:dynamodb",
            "dynamodb": change}


def _put(product_id: str, name: str, price: int, stock: int) -> list[dict]:
    product = {"product_id": product_id, "name": name, "brand": "Orbit", "category_id": "audio",
               "price_amount": price, "description": f"{name} for tests"}
    catalog_repository.put_product(product, [{"sku": f"{product_id}-1", "stock": stock}])
    return catalog_repository.product_items(product, [{"sku": f"{product_id}-1", "stock": stock}])


def _names(engine, text: str, **params) -> list[str]:
    return [i["name"] for i in engine.search(parse_search({"q": text, **params})).items]


def test_out_of_order_and_duplicate_records_index_the_current_state(engine):
    first = _put("p-orb", "Orbit Speaker", 5000, 3)
    second = _put("p-orb", "Orbit Speaker Max", 7000, 3)
    records = [_record("MODIFY", second[0], first[0]), _record("INSERT", first[0]),
               _record("MODIFY", second[0], first[0])]
    assert indexer.handler({"Records": records}) == {"batchItemFailures": []}
    assert _names(engine, "orbit") == ["Orbit Speaker Max"]
    assert _names(engine, "orbit", min_price="6000") == ["Orbit Speaker Max"]  # the new price filters


def test_stock_changes_flip_the_in_stock_filter(engine):
    items = _put("p-orb", "Orbit Speaker", 5000, 3)
    indexer.handler({"Records": [_record("INSERT", items[0])]})
    assert _names(engine, "orbit", in_stock="true") == ["Orbit Speaker"]
    sku = dict(items[1], stock=0)
    dynamo.put(sku)
    indexer.handler({"Records": [_record("MODIFY", sku, items[1])]})
    assert _names(engine, "orbit", in_stock="true") == []
    assert _names(engine, "orbit", in_stock="false") == ["Orbit Speaker"]


def test_deleted_products_leave_the_index(engine):
    items = _put("p-orb", "Orbit Speaker", 5000, 3)
    indexer.handler({"Records": [_record("INSERT", items[0])]})
    dynamo.delete(model.product_key("p-orb"))
    indexer.handler({"Records": [_record("REMOVE", None, items[0])]})
    assert _names(engine, "orbit") == []


def test_other_items_are_ignored(engine):
    order = {**model.order_key("o-1"), model.ENTITY_ATTRIBUTE: model.Entity.ORDER, "order_id": "o-1"}
    assert indexer.handler({"Records": [_record("INSERT", order)]}) == {"batchItemFailures": []}
    assert indexer.product_of(_record("INSERT", order)) is None
    assert engine.search(parse_search({"q": "o-1"})).total == 0


class _FailingFor:
    """Wraps the real provider; reports the listed products as failed (e.g. a 429 per item)."""

    def __init__(self, inner, failing):
        self.inner, self.failing = inner, set(failing)

    def write(self, actions):
        outcome = self.inner.write([a for a in actions if a.product_id not in self.failing])
        outcome.failed.update({a.product_id: "429 es_rejected_execution_exception"
                               for a in actions if a.product_id in self.failing})
        return WriteOutcome(outcome.applied, outcome.stale, outcome.failed)


def test_partial_failure_reports_only_the_failed_products_records(engine):
    good, bad = _put("p-good", "Orbit Good", 1000, 1), _put("p-bad", "Orbit Bad", 1000, 1)
    records = [_record("INSERT", good[0]), _record("INSERT", bad[0]), _record("INSERT", bad[1])]
    search_provider.set_provider(_FailingFor(engine, {"p-bad"}))
    result = indexer.handler({"Records": records})
    assert result == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]},
                                            {"itemIdentifier": records[2]["dynamodb"]["SequenceNumber"]}]}
    assert _names(engine, "orbit") == ["Orbit Good"]


class _Down:
    def write(self, actions):
        raise SearchUnavailable()


def test_an_unreachable_engine_fails_every_record_of_the_batch(table):
    items = _put("p-orb", "Orbit Speaker", 5000, 3)
    records = [_record("INSERT", items[0]), _record("INSERT", items[1])]
    search_provider.set_provider(_Down())
    try:
        result = indexer.handler({"Records": records})
    finally:
        search_provider.set_provider(None)
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [
        r["dynamodb"]["SequenceNumber"] for r in records]


def test_reindex_backfills_the_catalog(engine, catalog):
    result = indexer.handler({"action": "reindex"})
    assert result["documents"] == len(catalog) and result["index"].startswith("local-")
    assert {i["product_id"] for i in engine.search(parse_search({"q": "a", "limit": "50"})).items} <= {
        c[0] for c in catalog}
    assert _names(engine, "frying pan")[0] == "Frying Pan"
    assert _names(engine, "cap", in_stock="false") == ["Baseball Cap"]
