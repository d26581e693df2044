"""The SQS batch loop of the marketing consumers whose messages are not commerce events (SES
events, audience jobs): unreadable -> dead-letter queue with the reason; failed -> retried."""

from __future__ import annotations

from collections.abc import Callable

from headless_commerce.runtime import settings
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.events.consumer import dead_letter


def run_records(sqs_event: dict, parse: Callable[[str], object], process: Callable[[object], object]) -> dict:
    """`parse(body)` raises ValueError for a message no retry can fix; `process` may raise to retry."""
    failures = []
    for record in sqs_event.get("Records") or []:
        message_id = record["messageId"]
        try:
            parsed = parse(record.get("body") or "")
        except ValueError as error:
            logger.warning("unreadable message", extra={"message_id": message_id, "reason": str(error)})
            url = settings.dead_letter_queue_url()
            if url:
                dead_letter(url, record, str(error))
                continue
            failures.append({"itemIdentifier": message_id})
            continue
        try:
            process(parsed)
        except Exception:
            logger.exception("message processing failed", extra={"message_id": message_id})
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
