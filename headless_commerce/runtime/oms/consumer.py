"""Lambda entry point: OMS FIFO queue (OrderPlaced, body = the envelope) -> accept the order.

Env: TABLE_NAME, EVENT_BUS_NAME, DEAD_LETTER_QUEUE_URL.
"""

from headless_commerce import model
from headless_commerce.runtime.common.logging import lambda_entry
from headless_commerce.runtime.events.consumer import run_batch
from headless_commerce.runtime.oms import service


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    return run_batch(event, service.accept, detail_type=model.EventName.ORDER_PLACED)
