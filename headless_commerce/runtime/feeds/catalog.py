"""PIM catalog feed (topic pim.catalog.v1): products with their SKUs, and categories.

A record is the whole product (or category) at a version. It applies only when its version is
newer than the stored one: an older version goes to the failure queue as stale, the same version
again is a duplicate and changes nothing. Applying a product replaces the product item, creates
or updates its SKUs (a new SKU starts with no stock until the inventory feed sets it; an
existing one keeps its stock and reservations), takes SKUs the record no longer lists off sale,
and records ProductModified in the outbox, in one transaction.

Env: TABLE_NAME, DEAD_LETTER_QUEUE_URL.
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.catalog import repository as catalog
from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.common.logging import lambda_entry
from headless_commerce.runtime.feeds.consumer import APPLIED, UNCHANGED, Rejected, run
from headless_commerce.runtime.feeds.msk import KafkaRecord
from headless_commerce.runtime.feeds.records import delivered_before, validator

_ATTEMPTS = 3
_KINDS = ("product", "category")
_PRODUCT_FIELDS = ("product_id", "name", "description", "category_id", "brand", "price_amount", "currency",
                   "images")


def _key(document: dict) -> tuple[str, str]:
    key = (model.product_key(document["product_id"]) if document["type"] == "product"
           else model.category_key(document["category_id"]))
    return key[model.PARTITION_KEY], key[model.SORT_KEY]


def _check_version(document: dict, read: dict | None) -> bool:
    """True to apply; False for a duplicate; Rejected when stale."""
    stored = (read or {}).get("feed_version")
    if stored is None or document["version"] > stored:
        return True
    if document["version"] == stored:
        return False
    raise Rejected("stale_version", f"version {document['version']} is older than the stored {stored}", "version")


class CatalogFeed:
    name = "catalog"

    def validate(self, document: object) -> tuple[str | None, str] | None:
        kind = document.get("type") if isinstance(document, dict) else None
        if kind not in _KINDS:
            return "type", "must be one of " + ", ".join(_KINDS)
        return validator(f"catalog_{kind}")(document)

    def prefetch(self, documents: list[dict]) -> dict:
        return catalog.get_feed_items([dict(zip((model.PARTITION_KEY, model.SORT_KEY), _key(d), strict=True))
                                       for d in documents])

    def apply(self, document: dict, record: KafkaRecord, state: dict) -> str:
        key = _key(document)
        for _ in range(_ATTEMPTS):
            read = state.get(key)
            if read is not None and delivered_before(read.get("catalog_position"), record):
                return UNCHANGED
            if not _check_version(document, read):
                return UNCHANGED
            try:
                state[key] = (self._category(document, record, read) if document["type"] == "category"
                              else self._product(document, record, read))
                return APPLIED
            except catalog.FeedConflict:
                state[key] = catalog.get_feed_items([{model.PARTITION_KEY: key[0], model.SORT_KEY: key[1]}]).get(key)
        raise RuntimeError(f"catalog item {key} kept changing")

    @staticmethod
    def _category(document: dict, record: KafkaRecord, read: dict | None) -> dict:
        return catalog.put_feed_category(document, version=document["version"], position=record.position,
                                         read=read)

    @staticmethod
    def _product(document: dict, record: KafkaRecord, read: dict | None) -> dict:
        skus = document["skus"]
        names = [s["sku"] for s in skus]
        if len(set(names)) != len(names):
            raise Rejected("schema_violation", "skus lists a SKU twice", "skus")
        product = {name: document[name] for name in _PRODUCT_FIELDS if document.get(name) is not None}
        listed = min(s.get("price_amount", document["price_amount"]) for s in skus)
        event = {"product_id": document["product_id"], "change": "UPSERTED", "modified_at": now_iso(),
                 "name": document["name"], "category_id": document.get("category_id"), "price_amount": listed,
                 "currency": document.get("currency", model.CURRENCY), "skus": names}
        withdrawn = [s for s in (read or {}).get("skus", []) if s not in names]
        try:
            return catalog.upsert_feed_product(product, skus, version=document["version"], position=record.position,
                                               read=read, withdrawn=withdrawn, event=event)
        except catalog.SkuOwnedElsewhere as taken:
            raise Rejected("sku_owned_by_other_product",
                           f"SKU {', '.join(taken.skus)} belongs to another product", "skus") from None


FEED = CatalogFeed()


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    """MSK event source on the catalog topic."""
    return run(event, FEED)
