"""Fraud aggregate: velocity counters and decision records, the only code that builds their
keys and DynamoDB requests (in the commerce table).

Velocity counters: one item per (dimension, value, fixed window), holding the *set* of
checkout attempts seen in that window. An attempt is added with one atomic `ADD` (no read
first) and the update returns the set, so concurrent checkouts each see a distinct count and
exactly `limit` of them fit under a limit however they race; a retry of the same request adds
the same member and counts once. Values are hashed: payment tokens and addresses are never
stored. The item expires (TTL) one window after its window ends.

Decision records: FRAUD#{attempt_id} / DECISION with the outcome, score, reasons and what each
rule saw; an approved or held order's record commits in the order's own transaction (the
orders repository adds `decision_item(...)`), a denied one is put on its own.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from headless_commerce import model
from headless_commerce.runtime.common import dynamo
from headless_commerce.runtime.common.clock import epoch

# Dimensions of the velocity counters (part of the key).
CUSTOMER, PAYMENT_TOKEN, IP = "customer", "token", "ip"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def record_attempt(dimension: str, value: str, attempt: str, window_s: int, now: int | None = None) -> int:
    """Add `attempt` to the current window of (dimension, value); the attempts in it so far."""
    now = epoch() if now is None else now
    start = now - now % window_s
    response = dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(),
        Key=dynamo.to_item(model.fraud_velocity_key(dimension, digest(value), start)),
        UpdateExpression="ADD attempts :attempt SET #entity = :entity, #ttl = :ttl",
        ExpressionAttributeNames={"#entity": model.ENTITY_ATTRIBUTE, "#ttl": model.TTL_ATTRIBUTE},
        ExpressionAttributeValues=dynamo.values(attempt={digest(attempt)},
                                                entity=model.Entity.FRAUD_VELOCITY,
                                                ttl=start + 2 * window_s),
        # ALL_NEW, not UPDATED_NEW: adding a member already there (a retry) changes nothing,
        # and the set must come back all the same.
        ReturnValues="ALL_NEW")
    return len(response["Attributes"]["attempts"]["SS"])


def _storable(value: object) -> object:
    """DynamoDB takes numbers as Decimal, never float (a model probability, an account age)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(v) for v in value]
    return value


def decision_item(attempt_id: str, *, customer_id: str, order_id: str | None, decided_at: str,
                  outcome: str, score: int, reasons: tuple[str, ...], details: dict, screen: str,
                  amount: int, currency: str) -> dict:
    return {
        **model.fraud_decision_key(attempt_id),
        **model.fraud_decision_index_keys(customer_id, decided_at, attempt_id),
        model.ENTITY_ATTRIBUTE: model.Entity.FRAUD_DECISION,
        "attempt_id": attempt_id, "customer_id": customer_id, "order_id": order_id,
        "decided_at": decided_at, "outcome": outcome, "score": score, "reasons": list(reasons),
        "details": _storable(details), "screen": screen, "amount": amount, "currency": currency,
        model.TTL_ATTRIBUTE: epoch() + model.FRAUD_DECISION_TTL_SECONDS,
    }


def put_decision(item: dict) -> None:
    dynamo.put(item)


def get_decision(attempt_id: str) -> dict | None:
    return dynamo.get(model.fraud_decision_key(attempt_id))


def decisions_for_customer(sub: str, limit: int = 50) -> list[dict]:
    """A customer's decisions, newest first (the audit trail a reviewer reads)."""
    items, _ = dynamo.query(
        IndexName=model.GSI1.name,
        KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
        ExpressionAttributeNames={"#pk": model.GSI1.partition_key, "#sk": model.GSI1.sort_key},
        ExpressionAttributeValues=dynamo.values(pk=model.customer_orders_partition(sub), prefix="FRAUD#"),
        ScanIndexForward=False, Limit=limit)
    return items


def record_review(attempt_id: str, *, verdict: str, reviewer: str, note: str, at: str) -> None:
    """Add a reviewer's verdict on a held order to its decision record."""
    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.to_item(model.fraud_decision_key(attempt_id)),
        UpdateExpression="SET review = :review",
        ExpressionAttributeValues=dynamo.values(review={"verdict": verdict, "reviewer": reviewer,
                                                        "note": note, "at": at}))
