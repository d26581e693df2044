"""Supply-chain inventory feed (topic scm.inventory.v1): what each warehouse can promise of a SKU.

A record sets one warehouse's quantity for a SKU at a version (per SKU and warehouse); an older
version is stale (failure queue), the same version again a duplicate. The SKU's sellable stock
becomes the sum over its warehouses minus what unpaid orders reserve (checkout reserves by
decrementing stock and counting `reserved`; payment settlement gives the reservation up), and
never less than zero: a feed can never take away units an unpaid order already holds. When the
sellable stock changes, InventoryChanged is recorded in the outbox in the same transaction.
Unknown or withdrawn SKUs go to the failure queue: the catalog feed creates SKUs.

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

DEFAULT_WAREHOUSE = "default"
_ATTEMPTS = 3


def _key(sku: str) -> tuple[str, str]:
    key = model.inventory_key(sku)
    return key[model.PARTITION_KEY], key[model.SORT_KEY]


def sellable(warehouses: dict, reserved: int) -> tuple[int, int]:
    """(on hand over all warehouses, sellable stock)."""
    on_hand = sum(int(w["quantity"]) for w in warehouses.values())
    return on_hand, max(0, on_hand - max(0, reserved))


class InventoryFeed:
    name = "inventory"

    def validate(self, document: object) -> tuple[str | None, str] | None:
        return validator("inventory")(document)

    def prefetch(self, documents: list[dict]) -> dict:
        return catalog.get_feed_items([model.inventory_key(d["sku"]) for d in documents])

    def apply(self, document: dict, record: KafkaRecord, state: dict) -> str:
        sku, key = document["sku"], _key(document["sku"])
        warehouse = document.get("warehouse", DEFAULT_WAREHOUSE)
        for _ in range(_ATTEMPTS):
            read = state.get(key)
            if read is None:
                raise Rejected("unknown_sku", f"SKU {sku} is not in the catalog", "sku")
            if read.get("discontinued"):
                raise Rejected("sku_withdrawn", f"SKU {sku} was withdrawn from the catalog", "sku")
            if delivered_before(read.get("inventory_position"), record):
                return UNCHANGED
            warehouses = dict(read.get("warehouses") or {})
            current = warehouses.get(warehouse)
            if current is not None and document["version"] <= current["version"]:
                if document["version"] < current["version"]:
                    raise Rejected("stale_version", f"version {document['version']} of {sku}@{warehouse} is "
                                   f"older than the stored {current['version']}", "version")
                if document["quantity"] == current["quantity"]:
                    return UNCHANGED
                raise Rejected("conflicting_version", f"version {document['version']} of {sku}@{warehouse} was "
                               f"applied with quantity {current['quantity']}", "quantity")
            warehouses[warehouse] = {"quantity": document["quantity"], "version": document["version"]}
            on_hand, stock = sellable(warehouses, int(read.get("reserved") or 0))
            before = int(read.get("stock", 0))
            event = None if stock == before else {
                "sku": sku, "product_id": read["product_id"], "available": stock, "changed_at": now_iso(),
                "delta": stock - before, "reason": "FEED"}
            try:
                catalog.set_feed_stock(sku, warehouses=warehouses, on_hand=on_hand, stock=stock,
                                       position=record.position, read=read, event=event)
            except catalog.FeedConflict:
                state[key] = catalog.get_feed_items([model.inventory_key(sku)]).get(key)
                continue
            state[key] = {**read, "warehouses": warehouses, "on_hand": on_hand, "stock": stock,
                          "inventory_position": record.position}
            return APPLIED
        raise RuntimeError(f"SKU {sku} kept changing")


FEED = InventoryFeed()


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    """MSK event source on the inventory topic."""
    return run(event, FEED)
