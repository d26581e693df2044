"""Lambda entry point: CustomerConsentChanged (SQS) -> consent ledger.

Env: CONSENT_LEDGER_TABLE_NAME, DEAD_LETTER_QUEUE_URL.
"""

from headless_commerce import model
from headless_commerce.runtime.common.logging import lambda_entry
from headless_commerce.runtime.consents import service
from headless_commerce.runtime.events.consumer import run_batch


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    return run_batch(event, service.record, detail_type=model.EventName.CUSTOMER_CONSENT_CHANGED)
