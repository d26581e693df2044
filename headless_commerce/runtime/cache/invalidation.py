"""Lambda entry point: `ProductModified` / `InventoryChanged` -> drop the cached responses for
that product (and every listing) in one Valkey cache: the API's (AppTier) or the storefront's
(WebTier) each run a copy pointed at their own cache.

Takes either event shape the bus hands a consumer: an EventBridge event (a rule targeting the
function directly) or an SQS batch of them (rule -> queue -> function, the shape local mode
and the other consumers use, with ReportBatchItemFailures). Dropping is INCRementing the
generation counters keys.py embeds in cache keys, so it is idempotent in effect: a repeated
event only makes a few more entries miss once.

Env: CACHE_URL (redis:// or rediss://), CACHE_AUTH_SECRET_ARN (optional AUTH password),
DEAD_LETTER_QUEUE_URL (SQS shape: contract-breaking messages). Needs redis-py beside the code
(a layer of the storefront container's pin, see `constructs/response_cache.py`); without
CACHE_URL it invalidates this process's in-process cache, which is what local mode without
REDIS_URL runs.
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.cache import keys, memory
from headless_commerce.runtime.common.logging import lambda_entry, logger
from headless_commerce.runtime.events.consumer import run_batch
from headless_commerce.runtime.events.contracts import validate_event

DETAIL_TYPES = (model.EventName.PRODUCT_MODIFIED, model.EventName.INVENTORY_CHANGED)


# Longer than a request's timeout: a failed bump is retried, then dead-lettered, never skipped.
BUMP_TIMEOUT_S = 2.0


def invalidate(envelope: dict) -> list[str]:
    """Bump the counters for the event's product; the keys bumped."""
    bumped = keys.invalidation_keys([envelope["detail"]["product_id"]])
    url = settings.cache_url()
    if url:
        # A failure raises: the message is retried, then dead-lettered by its queue.
        keys.bump_sync(keys.sync_client(url, settings.cache_auth_secret_arn(), BUMP_TIMEOUT_S), bumped)
    else:
        memory.PROCESS_CACHE.bump(bumped)
    return bumped


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
