"""The marketing table: suppressions and delivery records. The only code that builds its keys
and requests (the audience is membership.py's, the profile customers/repository.py's)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws, dynamo


def _table() -> str:
    return settings.marketing_table_name()


def normalize(channel: str, address: str) -> str:
    # Mailbox local parts are case-sensitive in theory, never in practice: one address, one record.
    return address.strip().lower() if channel == "email" else address.strip()


def _put_new(item: dict) -> bool:
    """Put `item` unless its key exists; False when it did."""
    try:
        aws.dynamodb().put_item(TableName=_table(), Item=dynamo.to_item(item),
                                ConditionExpression="attribute_not_exists(#pk)",
                                ExpressionAttributeNames={"#pk": model.MARKETING_PARTITION_KEY})
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True


def suppress(channel: str, address: str, reason: str, at: str, source_id: str) -> bool:
    """Record a suppression; False when the address was already suppressed (first reason kept)."""
    return _put_new({**model.suppression_key(channel, normalize(channel, address)), "reason": reason,
                     "suppressed_at": at, "source_id": source_id})


def is_suppressed(channel: str, address: str) -> bool:
    response = aws.dynamodb().get_item(
        TableName=_table(), Key=dynamo.to_item(model.suppression_key(channel, normalize(channel, address))),
        ConsistentRead=True)
    return "Item" in response


def claim_delivery(customer_id: str, kind: str, ref: str, *, channel: str, at: str) -> bool:
    """Reserve the one delivery of (customer, kind, ref); False when it was already claimed."""
    return _put_new({**model.delivery_key(customer_id, kind, ref), "channel": channel, "claimed_at": at})


def release_delivery(customer_id: str, kind: str, ref: str, at: str) -> None:
    """Undo a claim whose send failed, so a retry may send it (only the claim made at `at`)."""
    try:
        aws.dynamodb().delete_item(TableName=_table(), Key=dynamo.to_item(model.delivery_key(customer_id, kind, ref)),
                                   ConditionExpression="claimed_at = :at AND attribute_not_exists(sent_at)",
                                   ExpressionAttributeValues=dynamo.values(at=at))
    except ClientError as error:
        if not dynamo.is_condition_failure(error):
            raise


def record_sent(customer_id: str, kind: str, ref: str, message_id: str, at: str) -> None:
    aws.dynamodb().update_item(TableName=_table(), Key=dynamo.to_item(model.delivery_key(customer_id, kind, ref)),
                               UpdateExpression="SET sent_at = :at, message_id = :id",
                               ExpressionAttributeValues=dynamo.values(at=at, id=message_id))


def delivery(customer_id: str, kind: str, ref: str) -> dict | None:
    response = aws.dynamodb().get_item(TableName=_table(), ConsistentRead=True,
                                       Key=dynamo.to_item(model.delivery_key(customer_id, kind, ref)))
    return dynamo.from_item(response.get("Item"))
