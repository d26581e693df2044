"""Lambda entry point: shopper interactions (SQS) -> the Personalize event tracker, in real time.

ProductViewed -> "View", CartItemAdded -> "AddToCart" (from the storefront), OrderPlaced ->
"Purchase" per ordered product. Env: PERSONALIZE_TRACKING_ID, TABLE_NAME (BatchGetItem only:
SKU -> product for orders), DEAD_LETTER_QUEUE_URL.

At least once, like every consumer: a redelivered event is sent again with the same event ids.
"""

from __future__ import annotations

from datetime import UTC, datetime

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.catalog import repository as catalog
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.logging import count, lambda_entry
from headless_commerce.runtime.events.consumer import run_batch

EVENT_TYPES = {
    model.EventName.PRODUCT_VIEWED: "View",
    model.EventName.CART_ITEM_ADDED: "AddToCart",
    model.EventName.ORDER_PLACED: "Purchase",
}
# PutEvents takes at most 10 events per call.
MAX_EVENTS_PER_CALL = 10


def interactions(envelope: dict) -> tuple[str | None, str, list[dict]]:
    """(user id, session id, Personalize events) of one envelope."""
    detail, name = envelope["detail"], envelope["detail_type"]
    sent_at = datetime.strptime(envelope["occurred_at"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    if name == model.EventName.ORDER_PLACED:
        owners = catalog.get_skus([line["sku"] for line in detail["lines"]])
        products: list[str] = []
        for line in detail["lines"]:
            product_id = owners.get(line["sku"], {}).get("product_id")
            if product_id and product_id not in products:
                products.append(product_id)
        # An order has no storefront session: the customer is their own session.
        user, session = detail["customer_id"], detail["customer_id"]
    else:
        products = [detail["product_id"]]
        user, session = detail.get("customer_id"), detail["visitor_id"]
    events = [{"eventId": f"{envelope['id']}:{n}", "eventType": EVENT_TYPES[name], "itemId": product_id,
               "sentAt": sent_at} for n, product_id in enumerate(products)]
    return user, session, events


def track(envelope: dict) -> None:
    user, session, events = interactions(envelope)
    for start in range(0, len(events), MAX_EVENTS_PER_CALL):
        request: dict = {"trackingId": settings.personalize_tracking_id(), "sessionId": session,
                         "eventList": events[start:start + MAX_EVENTS_PER_CALL]}
        if user:
            request["userId"] = user
        aws.personalize_events().put_events(**request)
    count("PersonalizeEventsSent")


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    return run_batch(event, track, detail_type=tuple(EVENT_TYPES))
