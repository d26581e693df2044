"""Lambda entry point and service: lifecycle messages from the commerce bus (SQS).

- CustomerConsentChanged that grants e-mail consent -> the welcome message, once per customer
  (a new account starts with every consent off, so the first opt-in follows sign-up);
- OrderPlaced -> the order confirmation, once per order.

Both only to customers who consent at send time (service.deliver re-reads the profile).
Env: TABLE_NAME (profiles, GetItem), MARKETING_TABLE_NAME, DEAD_LETTER_QUEUE_URL and the
transport's settings.
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.common.logging import lambda_entry
from headless_commerce.runtime.customers import repository as customers
from headless_commerce.runtime.events.consumer import run_batch
from headless_commerce.runtime.marketing import messages, service

WELCOME_REF = "signup"
DETAIL_TYPES = (model.EventName.CUSTOMER_CONSENT_CHANGED, model.EventName.ORDER_PLACED)


def apply(envelope: dict) -> str | None:
    detail = envelope["detail"]
    customer_id = detail["customer_id"]
    if envelope["detail_type"] == model.EventName.CUSTOMER_CONSENT_CHANGED:
        if not detail["consents"].get("email"):
            return None
        return service.deliver(customer_id, customers.get_profile(customer_id), "email",
                               messages.WELCOME, WELCOME_REF, messages.welcome)
    return service.deliver(customer_id, customers.get_profile(customer_id), "email",
                           messages.ORDER_CONFIRMATION, detail["order_id"],
                           lambda profile: messages.order_confirmation(profile, detail),
                           transactional=True)


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    return run_batch(event, apply, detail_type=DETAIL_TYPES)
