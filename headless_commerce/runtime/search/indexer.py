"""The search indexer: product and inventory changes from the table's stream -> the index.

Its event source mapping filters the stream to PRODUCT and INVENTORY items. For each product
a batch touches, it indexes the product's current state (a consistent read), whatever order
or how many times the records arrived; external versions make a late write lose to a newer
one. Records of products whose write failed are reported as batch item failures, so Lambda
retries from the first of them and, when retries run out, sends them to the on-failure
destination.

Why not Powertools' BatchProcessor: it handles one record at a time, and the point here is
one bulk request per batch with failures mapped back to the records that caused them.
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.search import service
from headless_commerce.runtime.search.stream_filter import FUNCTION_NAME, INDEXED_ENTITIES, STREAM_FILTERS  # noqa: F401


def product_of(record: dict) -> str | None:
    """The product a stream record changes, or None for items search does not index."""
    change = record.get("dynamodb") or {}
    image = change.get("NewImage") or change.get("OldImage") or {}
    if image.get(model.ENTITY_ATTRIBUTE, {}).get("S") not in INDEXED_ENTITIES:
        return None
    product_id = image.get("product_id", {}).get("S")
    return product_id or None


def handler(event: dict, context: object = None) -> dict:
    # A direct invocation {"action": "reindex"} (the `search reindex` command) runs a full
    # backfill from inside the VPC, where the domain is reachable.
    if event.get("action") == "reindex":
        return service.reindex()
    records = event.get("Records") or []
    by_product: dict[str, list[str]] = {}
    for record in records:
        product_id = product_of(record)
        if product_id is not None:
            by_product.setdefault(product_id, []).append(record["dynamodb"]["SequenceNumber"])
    if not by_product:
        return {"batchItemFailures": []}
    try:
        outcome = service.index_products(by_product)
        failed = outcome.failed
    except Exception:
        # Unreachable or refusing: every product of this batch is retried.
        logger.exception("search indexing failed for the whole batch")
        failed = dict.fromkeys(by_product, "batch failed")
    if failed:
        logger.warning("search indexing failed", extra={"failed": dict(list(failed.items())[:10]),
                                                        "count": len(failed)})
    sequence_numbers = sorted({seq for product_id in failed for seq in by_product[product_id]}, key=int)
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in sequence_numbers]}
