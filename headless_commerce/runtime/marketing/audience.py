"""Lambda entry point: CustomerConsentChanged (SQS) -> marketing audience membership.

Env: AUDIENCE_TABLE_NAME, TABLE_NAME (profile contact details, read only),
DEAD_LETTER_QUEUE_URL.
"""

from headless_commerce import model
from headless_commerce.runtime.events.consumer import run_batch
from headless_commerce.runtime.marketing import membership


def handler(event: dict, context: object = None) -> dict:
    return run_batch(event, membership.apply, detail_type=model.EventName.CUSTOMER_CONSENT_CHANGED)
