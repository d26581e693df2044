"""Customers aggregate (profile and marketing consents): the only code that builds their keys
and DynamoDB requests."""

from __future__ import annotations

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime.common import dynamo, outbox
from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.common.transaction import Transaction, TransactionCancelled


def get_profile(sub: str) -> dict | None:
    return dynamo.get(model.customer_key(sub))


def get_profiles(subs: list[str]) -> dict[str, dict]:
    """Profiles by customer id (consistent reads; missing ones absent)."""
    found = dynamo.batch_get([model.customer_key(sub) for sub in subs]) if subs else []
    return {item["customer_id"]: item for item in found}


def create_profile(sub: str, email: str | None) -> bool:
    """Create the profile unless it exists; True when this call created it."""
    now = now_iso()
    item = {**model.customer_key(sub), model.ENTITY_ATTRIBUTE: model.Entity.CUSTOMER,
            "customer_id": sub, "email": email, "created_at": now, "updated_at": now,
            "consents": dict.fromkeys(model.CONSENT_CHANNELS, False)}
    try:
        dynamo.put(item, "attribute_not_exists(pk)")
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True


def update_profile(sub: str, fields: dict) -> dict:
    """SET the given profile fields (and updated_at) on an existing profile; the new profile."""
    names = {f"#f{i}": f for i, f in enumerate(fields)}
    sets = [f"#f{i} = :v{i}" for i in range(len(fields))] + ["updated_at = :now"]
    response = dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.to_item(model.customer_key(sub)),
        UpdateExpression="SET " + ", ".join(sets),
        ConditionExpression="attribute_exists(pk)",
        **({"ExpressionAttributeNames": names} if names else {}),
        ExpressionAttributeValues={
            **{f":v{i}": dynamo.to_attr(v) for i, v in enumerate(fields.values())},
            ":now": dynamo.to_attr(now_iso())},
        ReturnValues="ALL_NEW")
    return dynamo.from_item(response["Attributes"])


def _update_with_event(sub: str, fields: dict, detail_type: str, event: dict, now: str) -> bool:
    """SET the profile fields (and updated_at) and write their event (outbox) in one
    transaction; False when the profile does not exist."""
    tx = Transaction()
    tx.update("profile", model.customer_key(sub),
              "SET " + ", ".join([f"#f{i} = :v{i}" for i in range(len(fields))] + ["updated_at = :now"]),
              condition="attribute_exists(pk)", names={f"#f{i}": f for i, f in enumerate(fields)},
              vals={**{f"v{i}": v for i, v in enumerate(fields.values())}, "now": now})
    tx.put(f"event:{detail_type}", outbox.item(detail_type, event), condition="attribute_not_exists(pk)")
    try:
        tx.write()
    except TransactionCancelled as cancelled:
        if "profile" in cancelled.failed:
            return False
        raise
    return True


def record_profile_change(sub: str, fields: dict, event: dict, now: str) -> bool:
    """Profile fields and their CustomerProfileChanged event together; False without a profile."""
    return _update_with_event(sub, fields, model.EventName.CUSTOMER_PROFILE_CHANGED, event, now)


def set_consents(sub: str, consents: dict[str, bool], event: dict, now: str) -> bool:
    """Record consents and their CustomerConsentChanged event (outbox) in one transaction;
    False when the profile does not exist."""
    return _update_with_event(sub, {"consents": consents}, model.EventName.CUSTOMER_CONSENT_CHANGED, event, now)


def set_push_endpoint(sub: str, platform: str, endpoint_arn: str) -> dict:
    """Store the device's push endpoint on an existing profile; the new profile."""
    return update_profile(sub, {"push_platform": platform, "push_endpoint_arn": endpoint_arn})


def clear_push_endpoint(sub: str, endpoint_arn: str) -> bool:
    """Forget `endpoint_arn` if it is still the profile's (a device registered meanwhile is
    kept); True when it was removed."""
    try:
        dynamo.dynamodb().update_item(
            TableName=dynamo.table_name(), Key=dynamo.to_item(model.customer_key(sub)),
            UpdateExpression="REMOVE push_endpoint_arn, push_platform SET updated_at = :now",
            ConditionExpression="push_endpoint_arn = :arn",
            ExpressionAttributeValues={":arn": dynamo.to_attr(endpoint_arn), ":now": dynamo.to_attr(now_iso())})
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True
