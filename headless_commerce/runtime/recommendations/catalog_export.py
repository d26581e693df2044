"""Scheduled: the catalog -> the Personalize items dataset (PutItems, 10 products a call), so
recommenders know every product's price, category and brand. Env: TABLE_NAME,
PERSONALIZE_ITEMS_DATASET_ARN.

A full pass each run: PutItems replaces an item's properties, so a rerun after a failure or a
changed product is simply applied again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from headless_commerce.runtime import settings
from headless_commerce.runtime.catalog import repository as catalog
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.logging import lambda_entry, logger

MAX_ITEMS_PER_CALL = 10
PAGE_SIZE = 100
# CATEGORY_L1 is required by the ECOMMERCE items schema; products without a category get this.
NO_CATEGORY = "uncategorized"


def item(product: dict) -> dict:
    """One product as a Personalize item: properties are the schema's fields in camelCase."""
    properties = {"price": product["price_amount"] / 100, "categoryL1": product.get("category_id") or NO_CATEGORY}
    if product.get("brand"):
        properties["brand"] = product["brand"]
    return {"itemId": product["product_id"], "properties": json.dumps(properties, sort_keys=True)}


def products() -> Iterator[dict]:
    start = None
    while True:
        page, start = catalog.list_products(None, PAGE_SIZE, start)
        yield from page
        if not start:
            return


def export() -> dict:
    dataset, batch, sent = settings.personalize_items_dataset_arn(), [], 0
    client = aws.personalize_events()
    for product in products():
        batch.append(item(product))
        if len(batch) == MAX_ITEMS_PER_CALL:
            client.put_items(datasetArn=dataset, items=batch)
            sent, batch = sent + len(batch), []
    if batch:
        client.put_items(datasetArn=dataset, items=batch)
        sent += len(batch)
    logger.info("catalog exported to Personalize", extra={"items": sent})
    return {"items": sent}


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    return export()
