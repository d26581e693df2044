"""The recommendation signals aggregate (model.py, "recommendation signals"): the only code that
builds its keys and DynamoDB requests.

Counting an order is one transaction: a marker for the event (so a redelivered OrderPlaced is
never counted twice) and one ADD per counter. Reading a ranking is one Query per partition on
the score index with a Limit, so its cost does not grow with the order history.
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common import dynamo
from headless_commerce.runtime.common.transaction import Transaction, TransactionCancelled

# A redelivery comes within the queue's retention (4 days) or an archive replay; a week covers
# both, after which the marker expires.
COUNTED_EVENT_TTL_S = 7 * 24 * 3600
_DAY_S = 24 * 3600


class AlreadyCounted(Exception):
    """This OrderPlaced event was counted before (redelivery or replay)."""


def record_order(event_id: str, *, day: str, day_epoch: int, product_ids: list[str],
                 keep_days: int, now_epoch: int) -> None:
    """Count one order: +1 for each product on `day`, +1 for each ordered pair of products.

    `product_ids` are distinct; the caller bounds their number so the transaction stays within
    DynamoDB's 100 items (1 marker + n + n*(n-1)).
    """
    tx = Transaction(settings.recommendation_signals_table_name())
    tx.put("event", {**model.counted_event_key(event_id),
                     model.SIGNALS_TTL_ATTRIBUTE: now_epoch + COUNTED_EVENT_TTL_S},
           condition="attribute_not_exists(#pk)", names={"#pk": model.SIGNALS_PARTITION_KEY})
    # A day's counters outlive the longest window that can still read them.
    expires = day_epoch + (keep_days + 1) * _DAY_S
    for product_id in product_ids:
        tx.update(f"popular:{product_id}", model.signal_key(model.popular_partition(day), product_id),
                  "ADD #score :one SET #ttl = :ttl",
                  names={"#score": model.SIGNALS_SCORE, "#ttl": model.SIGNALS_TTL_ATTRIBUTE},
                  vals={"one": 1, "ttl": expires})
        for other in product_ids:
            if other != product_id:
                tx.update(f"pair:{product_id}:{other}",
                          model.signal_key(model.bought_with_partition(product_id), other),
                          "ADD #score :one", names={"#score": model.SIGNALS_SCORE}, vals={"one": 1})
    try:
        tx.write()
    except TransactionCancelled as cancelled:
        if "event" in cancelled.failed:
            raise AlreadyCounted(event_id) from None
        raise


def top(partition: str, limit: int) -> list[tuple[str, int]]:
    """(product_id, score) of the `limit` highest scores in `partition`, highest first."""
    items, _ = dynamo.query(
        table=settings.recommendation_signals_table_name(), IndexName=model.SIGNALS_BY_SCORE,
        KeyConditionExpression="#pk = :pk", ExpressionAttributeNames={"#pk": model.SIGNALS_PARTITION_KEY},
        ExpressionAttributeValues=dynamo.values(pk=partition), ScanIndexForward=False, Limit=limit)
    ranked = [(item[model.SIGNALS_SORT_KEY], int(item[model.SIGNALS_SCORE])) for item in items]
    return sorted(ranked, key=lambda entry: (-entry[1], entry[0]))   # ties in a stable order


def top_popular(days: list[str], limit: int) -> list[tuple[str, int]]:
    """Each day's top `limit`, summed over `days`: exact for any product that was in a day's top
    `limit` on every day it sold, which is what a short "popular lately" list needs."""
    totals: dict[str, int] = {}
    for day in days:
        for product_id, score in top(model.popular_partition(day), limit):
            totals[product_id] = totals.get(product_id, 0) + score
    return sorted(totals.items(), key=lambda entry: (-entry[1], entry[0]))


def top_bought_with(product_id: str, limit: int) -> list[tuple[str, int]]:
    return top(model.bought_with_partition(product_id), limit)
