"""Lambda entry point for the payment provider webhook."""

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.payments import webhook
from headless_commerce.runtime.payments.provider import get_provider

handler = api_handler("payments_webhook", {
    "paymentWebhook": lambda r: webhook.handle(r.raw_body, r.headers, get_provider()),
})
