"""Customer profile and marketing consents (the caller's own only)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime.common import dynamo, outbox, repositories
from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.common.errors import not_found

# What PATCH /me may change; the schema enforces the same list. Email belongs to Cognito.
EDITABLE_FIELDS = ("given_name", "family_name", "phone", "locale", "default_address")


def profile_view(profile: dict) -> dict:
    view = {"customer_id": profile["customer_id"], "email": profile.get("email"),
            "consents": profile.get("consents", {}), "created_at": profile["created_at"],
            "updated_at": profile["updated_at"]}
    view.update({f: profile[f] for f in EDITABLE_FIELDS if profile.get(f) is not None})
    return view


def _profile(sub: str, email: str | None) -> dict:
    """The profile; created here if the sign-up trigger has not run (or failed) for this user."""
    profile = repositories.get_profile(sub)
    if profile is None:
        repositories.create_profile(sub, email)
        profile = repositories.get_profile(sub)
    return profile


def get_profile(sub: str, email: str | None) -> dict:
    return profile_view(_profile(sub, email))


def update_profile(sub: str, email: str | None, changes: dict) -> dict:
    _profile(sub, email)
    updates = {f: changes[f] for f in EDITABLE_FIELDS if f in changes}
    names = {f"#f{i}": f for i, f in enumerate(updates)}
    sets = [f"#f{i} = :v{i}" for i in range(len(updates))] + ["updated_at = :now"]
    response = dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.to_item(model.customer_key(sub)),
        UpdateExpression="SET " + ", ".join(sets),
        ConditionExpression="attribute_exists(pk)",
        **({"ExpressionAttributeNames": names} if names else {}),
        ExpressionAttributeValues={
            **{f":v{i}": dynamo.to_attr(v) for i, v in enumerate(updates.values())},
            ":now": dynamo.to_attr(now_iso())},
        ReturnValues="ALL_NEW")
    return profile_view(dynamo.from_item(response["Attributes"]))


def put_consents(sub: str, email: str | None, consents: dict[str, bool]) -> dict:
    """Record consents and the CustomerConsentChanged event in one transaction."""
    previous = _profile(sub, email)
    now = now_iso()
    values = {c: bool(consents[c]) for c in model.CONSENT_CHANNELS}
    try:
        dynamo.transact([
            {"Update": {
                "Key": dynamo.to_item(model.customer_key(sub)),
                "UpdateExpression": "SET consents = :c, updated_at = :now",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": dynamo.values(c=values, now=now),
            }},
            outbox.outbox_put(model.EventName.CUSTOMER_CONSENT_CHANGED, {
                "customer_id": sub, "consents": values,
                "previous": previous.get("consents", {}), "changed_at": now}),
        ])
    except ClientError as error:
        if dynamo.cancellation_codes(error):
            raise not_found("Profile") from None
        raise
    return profile_view({**previous, "consents": values, "updated_at": now})
