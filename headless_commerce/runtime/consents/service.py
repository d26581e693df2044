"""The consent ledger: an append-only history of every CustomerConsentChanged event, the
evidence of what a customer agreed to and when.

One item per event, keyed `{occurred_at}#{event_id}` under the customer, written with
attribute_not_exists: a redelivered or replayed event finds its item and changes nothing.
Nothing here updates or deletes (the function's IAM needs PutItem only).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws, dynamo
from headless_commerce.runtime.common.logging import logger


def ledger_table() -> str:
    return settings.consent_ledger_table_name()


def record(envelope: dict) -> bool:
    """Append the event; False when it was already recorded."""
    detail = envelope["detail"]
    item = {**model.consent_ledger_key(detail["customer_id"], envelope["occurred_at"], envelope["id"]),
            "event_id": envelope["id"], "occurred_at": envelope["occurred_at"],
            "changed_at": detail["changed_at"], "source": envelope["source"],
            "consents": detail["consents"], "previous": detail["previous"]}
    try:
        aws.dynamodb().put_item(
            TableName=ledger_table(), Item=dynamo.to_item(item),
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": model.CONSENT_LEDGER_PARTITION_KEY})
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            logger.info("consent event already recorded", extra={"event_id": envelope["id"]})
            return False
        raise
    return True


def history(customer_id: str) -> list[dict]:
    """A customer's consent entries, oldest first."""
    items, start = [], None
    while True:
        kwargs: dict = {"TableName": ledger_table(), "KeyConditionExpression": "#pk = :pk",
                        "ExpressionAttributeNames": {"#pk": model.CONSENT_LEDGER_PARTITION_KEY},
                        "ExpressionAttributeValues": dynamo.values(pk=customer_id)}
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = aws.dynamodb().query(**kwargs)
        items += [dynamo.from_item(i) for i in response.get("Items", [])]
        start = response.get("LastEvaluatedKey")
        if not start:
            return items
