"""Lambda entry point: OrderPlaced (SQS) -> the fallback ranking's counters.

Env: RECOMMENDATION_SIGNALS_TABLE_NAME (the counters), TABLE_NAME (the commerce table,
BatchGetItem only: SKU -> product), DEAD_LETTER_QUEUE_URL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from headless_commerce import model
from headless_commerce.runtime.catalog import repository as catalog
from headless_commerce.runtime.common.clock import epoch
from headless_commerce.runtime.common.logging import count, lambda_entry, logger
from headless_commerce.runtime.events.consumer import run_batch
from headless_commerce.runtime.recommendations import ranking
from headless_commerce.runtime.recommendations import signals_repository as signals

# 1 marker + n day counters + n*(n-1) pairs must fit one transaction (100 items): n <= 9. An
# order with more distinct products counts its first 9 (in line order); the ranking is about
# what sells together, which large mixed baskets say little about anyway.
MAX_PRODUCTS_PER_ORDER = 9


def count_order(envelope: dict) -> None:
    detail = envelope["detail"]
    skus = [line["sku"] for line in detail["lines"]]
    owners = catalog.get_skus(skus)
    product_ids: list[str] = []
    for sku in skus:
        product_id = owners.get(sku, {}).get("product_id")
        if product_id and product_id not in product_ids:
            product_ids.append(product_id)
    if not product_ids:
        # Every SKU left the catalog since: nothing to recommend from this order.
        logger.info("order has no catalog products", extra={"order_id": detail["order_id"]})
        return
    occurred = datetime.strptime(envelope["occurred_at"][:10], "%Y-%m-%d").replace(tzinfo=UTC)
    try:
        signals.record_order(envelope["id"], day=occurred.strftime("%Y-%m-%d"),
                             day_epoch=int(occurred.timestamp()),
                             product_ids=product_ids[:MAX_PRODUCTS_PER_ORDER],
                             keep_days=ranking.MAX_WINDOW_DAYS, now_epoch=epoch())
    except signals.AlreadyCounted:
        count("RecommendationSignalsDuplicate")
        return
    count("RecommendationSignalsCounted")


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    return run_batch(event, count_order, detail_type=model.EventName.ORDER_PLACED)
