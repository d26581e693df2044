"""Lambda entry point: CustomerConsentChanged (SQS) -> marketing audience membership.

Env: AUDIENCE_TABLE_NAME, DEAD_LETTER_QUEUE_URL, and optionally TABLE_NAME (the commerce
table, GetItem only: copies contact details from the profile on opt-in).
"""

from headless_commerce import model
from headless_commerce.runtime.common.logging import lambda_entry
from headless_commerce.runtime.events.consumer import run_batch
from headless_commerce.runtime.marketing import membership


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    return run_batch(event, membership.apply, detail_type=model.EventName.CUSTOMER_CONSENT_CHANGED)
