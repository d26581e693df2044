"""Lambda entry point: `ProductModified` / `InventoryChanged` -> drop the storefront's cached
responses for that product (and every listing) in Valkey.

Takes either event shape the bus hands a consumer: an EventBridge event (a rule targeting the
function directly) or an SQS batch of them (rule -> queue -> function, the shape local mode
and the other consumers use, with ReportBatchItemFailures). Dropping is INCRementing the
generation counters cache.py embeds in its keys, so it is idempotent in effect: a repeated
event only makes a few more entries miss once.

Env: CACHE_URL (redis:// or rediss://), CACHE_AUTH_SECRET_ARN (optional AUTH password),
DEAD_LETTER_QUEUE_URL (SQS shape: contract-breaking messages). Needs redis-py beside the code
(`INVALIDATION_REQUIREMENTS`, a layer); without CACHE_URL it invalidates this process's
in-process cache, which is what local mode without REDIS_URL runs.
"""

from __future__ import annotations

import functools

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.logging import lambda_entry, logger
from headless_commerce.runtime.events.consumer import run_batch
from headless_commerce.runtime.events.contracts import validate_event
from headless_commerce.runtime.storefront import cache

DETAIL_TYPES = (model.EventName.PRODUCT_MODIFIED, model.EventName.INVENTORY_CHANGED)
# Pip requirements of the function's layer (pure Python, so local bundling builds it).
INVALIDATION_REQUIREMENTS = ("redis==8.1.0",)


@functools.cache
def _client(url: str, secret_arn: str | None):
    import redis

    password = None
    if secret_arn:
        password = aws.secretsmanager().get_secret_value(SecretId=secret_arn)["SecretString"]
    return redis.Redis.from_url(url, password=password, socket_timeout=2, socket_connect_timeout=2)


def invalidate(envelope: dict) -> list[str]:
    """Bump the counters for the event's product; the keys bumped."""
    keys = cache.invalidation_keys([envelope["detail"]["product_id"]])
    url = settings.cache_url()
    if url:
        # A failure raises: the message is retried, then dead-lettered by its queue.
        cache.bump_sync(_client(url, settings.cache_auth_secret_arn()), keys)
    else:
        cache.PROCESS_CACHE.bump(keys)
    return keys


@lambda_entry
def handler(event: dict, context: object = None) -> dict | None:
    if "Records" in event:
        return run_batch(event, invalidate, detail_type=DETAIL_TYPES)
    envelope = event.get("detail") if "detail-type" in event else event
    validate_event(envelope)
    if envelope["detail_type"] not in DETAIL_TYPES:
        logger.warning("event not consumed here", extra={"detail_type": envelope["detail_type"]})
        return None
    invalidate(envelope)
    return None
