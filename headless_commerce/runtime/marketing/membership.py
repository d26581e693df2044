"""Marketing audience membership per (channel, customer), driven by CustomerConsentChanged.

Each item carries the version it was written at, `{changed_at}#{event_id}`, and a write only
lands when its version is newer (a conditional put), so redelivered, replayed (archive) or
out-of-order events are no-ops. An opt-out is therefore a tombstone (opted_in=false, contact
removed), not a delete: a deleted item would forget its version and let an older opt-in
re-add the customer.

Contact details are not in the event (no personal data on the bus). When the function can
read the commerce table (TABLE_NAME set), an opt-in copies them from the customer's profile;
otherwise the membership is recorded without them and the sender resolves them at send time.
Senders should re-check `opted_in` either way.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws, dynamo
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.customers import repository as customers
from headless_commerce.runtime.marketing.names import CONTACT_ATTRIBUTE


def audience_table() -> str:
    return settings.audience_table_name()


def _contact(profile: dict | None, channel: str) -> str | None:
    return (profile or {}).get(CONTACT_ATTRIBUTE[channel])


def _put_if_newer(item: dict) -> bool:
    try:
        aws.dynamodb().put_item(
            TableName=audience_table(), Item=dynamo.to_item(item),
            ConditionExpression="attribute_not_exists(#sk) OR #version < :version",
            ExpressionAttributeNames={"#sk": model.AUDIENCE_SORT_KEY, "#version": "version"},
            ExpressionAttributeValues=dynamo.values(version=item["version"]))
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True


def apply(envelope: dict) -> dict[str, bool]:
    """Apply a consent event to every channel it names; returns channel -> whether it changed."""
    detail = envelope["detail"]
    customer_id = detail["customer_id"]
    version = f"{detail['changed_at']}#{envelope['id']}"
    wants_contact = any(detail["consents"].values()) and bool(settings.commerce_table_name())
    profile = customers.get_profile(customer_id) if wants_contact else None
    if wants_contact and profile is None:
        logger.warning("opt-in for a customer without a profile", extra={"customer_id": customer_id})
    applied = {}
    for channel, opted_in in sorted(detail["consents"].items()):
        item = {**model.audience_key(channel, customer_id), "opted_in": bool(opted_in),
                "version": version, "changed_at": detail["changed_at"], "event_id": envelope["id"]}
        if opted_in:
            item["contact"] = _contact(profile, channel)
            item["locale"] = (profile or {}).get("locale")
        applied[channel] = _put_if_newer(item)
    if not any(applied.values()):
        logger.info("consent event older than the audience; ignored", extra={"event_id": envelope["id"]})
    return applied


def membership(channel: str, customer_id: str) -> dict | None:
    response = aws.dynamodb().get_item(TableName=audience_table(),
                                       Key=dynamo.to_item(model.audience_key(channel, customer_id)),
                                       ConsistentRead=True)
    return dynamo.from_item(response.get("Item"))


def opted_in_page(channel: str, after: str | None, limit: int) -> tuple[list[str], str | None]:
    """Customer ids opted in on `channel`, in id order, from after `after`; (ids, cursor of the
    next page or None). Membership is eventually consistent: senders re-check the profile."""
    kwargs: dict = {
        "TableName": audience_table(), "Limit": limit,
        "KeyConditionExpression": "#pk = :channel", "FilterExpression": "opted_in = :yes",
        "ExpressionAttributeNames": {"#pk": model.AUDIENCE_PARTITION_KEY},
        "ExpressionAttributeValues": dynamo.values(channel=channel, yes=True)}
    if after:
        kwargs["ExclusiveStartKey"] = dynamo.to_item(model.audience_key(channel, after))
    response = aws.dynamodb().query(**kwargs)
    ids = [dynamo.from_item(item)[model.AUDIENCE_SORT_KEY] for item in response.get("Items", [])]
    last = response.get("LastEvaluatedKey")
    return ids, (dynamo.from_item(last)[model.AUDIENCE_SORT_KEY] if last else None)
