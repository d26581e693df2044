"""Lambda entry point and service: audience jobs from the marketing jobs queue (SQS).

EventBridge Scheduler puts a job on the queue: a campaign (`{"job": "campaign", "id", "run",
"channel", "subject", "text"}`) or the abandoned-cart check (`{"job": "abandoned_cart",
"id", "run"}`). One message is one page of the audience (PAGE_SIZE customers); the worker
puts the next page back on the queue with `after`, so an audience of any size is sent in
batches, each within the function's timeout, each retried on its own.

Each customer of a page is re-checked at send time (service.deliver: consent, suppression,
at most once per (kind, ref)). `run` is the schedule's scheduled time, so a recurring
campaign sends once per run; an abandoned-cart reminder is sent once per cart version.

Env: TABLE_NAME (profiles and carts, BatchGetItem), AUDIENCE_TABLE_NAME (Query),
MARKETING_TABLE_NAME, MARKETING_JOBS_QUEUE_URL, DEAD_LETTER_QUEUE_URL, the transport's
settings and MARKETING_ABANDONED_CART_HOURS.
"""

from __future__ import annotations

import json

from headless_commerce.runtime import settings
from headless_commerce.runtime.cart import repository as carts
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.clock import age_seconds
from headless_commerce.runtime.common.errors import ApiError
from headless_commerce.runtime.common.logging import lambda_entry, logger
from headless_commerce.runtime.common.validation import validate
from headless_commerce.runtime.customers import repository as customers
from headless_commerce.runtime.marketing import membership, messages, service
from headless_commerce.runtime.marketing.batch import run_records
from headless_commerce.runtime.marketing.names import ABANDONED_CART, CAMPAIGN

PAGE_SIZE = 100
DEFAULT_ABANDONED_CART_HOURS = 24
_TEXT = {"type": "string", "minLength": 1}
JOB_SCHEMA: dict = {
    "type": "object",
    "required": ["job", "id", "run"],
    "properties": {
        "job": {"type": "string", "enum": [CAMPAIGN, ABANDONED_CART]},
        "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"},
        "run": {"type": "string", "minLength": 1, "maxLength": 64},
        "channel": {"type": "string", "enum": ["email", "sms", "push"]},
        "subject": {**_TEXT, "maxLength": 200},
        "text": {**_TEXT, "maxLength": 10000},
        "after": {"type": ["string", "null"], "maxLength": 128},
    },
}


class InvalidJob(ValueError):
    pass


def parse(body: str) -> dict:
    try:
        job = json.loads(body)
        validate(JOB_SCHEMA, job)
    except (TypeError, ValueError) as error:
        raise InvalidJob(f"not JSON: {error}") from None
    except ApiError as error:
        raise InvalidJob(f"{error.field or 'job'}: {error.message}") from None
    if job["job"] == CAMPAIGN and not all(job.get(k) for k in ("channel", "subject", "text")):
        raise InvalidJob("a campaign needs channel, subject and text")
    return job


def abandoned_cart_hours() -> int:
    raw = settings.marketing_abandoned_cart_hours()
    hours = int(raw) if raw and raw.isdigit() else DEFAULT_ABANDONED_CART_HOURS
    return max(hours, 1)


def _abandoned(cart: dict | None, hours: int) -> bool:
    return bool(cart and cart.get("lines") and cart.get("updated_at")
                and age_seconds(cart["updated_at"]) >= hours * 3600)


def run_page(job: dict) -> dict:
    """Process one page of the job's audience; the outcomes and the next page's cursor."""
    channel = job.get("channel") or "email"
    ids, after = membership.opted_in_page(channel, job.get("after"), PAGE_SIZE)
    profiles = customers.get_profiles(ids)
    outcomes: dict[str, int] = {}
    if job["job"] == CAMPAIGN:
        ref = f"{job['id']}#{job['run']}"
        for customer_id in ids:
            outcome = service.deliver(customer_id, profiles.get(customer_id), channel, messages.CAMPAIGN, ref,
                                      lambda p: messages.campaign(p, job["subject"], job["text"]))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    else:
        hours = abandoned_cart_hours()
        waiting = {sub: cart for sub, cart in carts.get_many(ids).items() if _abandoned(cart, hours)}
        for customer_id, cart in sorted(waiting.items()):
            outcome = service.deliver(customer_id, profiles.get(customer_id), channel, messages.ABANDONED_CART,
                                      str(cart["version"]), lambda p, cart=cart: messages.abandoned_cart(p, cart))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if after:
        aws.sqs().send_message(QueueUrl=settings.marketing_jobs_queue_url(),
                               MessageBody=json.dumps({**job, "after": after}))
    return {"outcomes": outcomes, "after": after}


def _run(job: dict) -> None:
    result = run_page(job)
    logger.info("marketing job page", extra={"job": job["job"], "id": job["id"], **result})


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    return run_records(event, parse, _run)
