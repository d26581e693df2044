"""Lambda entry point: CustomerProfileChanged (SQS) -> the Personalize users dataset (PutUsers).

The users dataset holds only what describes a shopper without identifying them: `LOCALE` and
`COUNTRY` (of the default delivery address), never a name, e-mail address, phone number or
street. The event names the changed fields, not their values (no personal data on the bus), so
the profile is read here, consistently, and sent as it is now: a redelivered or out-of-order
event sends the current values again, which PutUsers stores as they are (at least once,
idempotent). At sign-up a profile holds none of these attributes, so the first PATCH /me that
sets one is when a customer reaches the dataset.

Env: TABLE_NAME (GetItem), PERSONALIZE_USERS_DATASET_ARN, DEAD_LETTER_QUEUE_URL.
"""

from __future__ import annotations

import json

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.logging import count, lambda_entry
from headless_commerce.runtime.customers import repository as customers
from headless_commerce.runtime.events.consumer import run_batch

# Profile fields whose change reaches the dataset (the others are personal data it never holds).
FIELDS = frozenset({"locale", "default_address"})
# Personalize caps a categorical value's length; locales and ISO country codes are far below it.
MAX_VALUE = 256


def user(profile: dict) -> dict:
    """The PutUsers entry of a profile: keys are the schema's field names in camel case."""
    country = (profile.get("default_address") or {}).get("country")
    properties = {"locale": profile.get("locale"), "country": country}
    return {"userId": profile["customer_id"],
            "properties": json.dumps({k: str(v)[:MAX_VALUE] for k, v in properties.items() if v})}


def apply(envelope: dict) -> bool:
    """Send the customer's current attributes; False when nothing relevant changed or the
    profile is gone."""
    detail = envelope["detail"]
    if not FIELDS & set(detail["fields"]):
        return False
    profile = customers.get_profile(detail["customer_id"])
    if profile is None:
        return False
    aws.personalize_events().put_users(datasetArn=settings.personalize_users_dataset_arn(), users=[user(profile)])
    count("PersonalizeUsersSent")
    return True


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    return run_batch(event, apply, detail_type=model.EventName.CUSTOMER_PROFILE_CHANGED)
