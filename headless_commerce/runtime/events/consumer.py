"""The SQS batch runner every event consumer is built on (rule -> queue -> Lambda, with
ReportBatchItemFailures).

Per message:
- unreadable or contract-breaking -> this consumer's dead-letter queue (env
  DEAD_LETTER_QUEUE_URL) with a `reason` attribute, then acknowledged: retrying cannot fix it
  and it must not hold up the batch. Without a DLQ URL it is reported failed instead, so the
  queue's redrive policy dead-letters it.
- `process` raises -> reported failed; SQS retries it and its redrive policy dead-letters it.
- FIFO queues: once a message of a group fails, the later messages of that group in the batch
  are reported failed without being processed, so the group's order holds on the retry.

`process` must be idempotent: SQS and EventBridge deliver at least once. Each consumer's
handler calls run_batch behind common/logging.lambda_entry (log context, metrics); the event id
is the correlation id of everything logged while processing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.logging import count, logger
from headless_commerce.runtime.events.contracts import ContractError, validate_event

# Group for dead letters of a FIFO queue whose message carried no group (cannot happen on a
# FIFO source, but a FIFO DLQ requires one).
INVALID_GROUP = "invalid"

Process = Callable[[dict], None]


class RetryLater(Exception):
    """The event arrived before what it depends on (e.g. a status for an order whose payment has
    not settled): an expected race, redelivered after the visibility timeout, not an error."""


def envelope_of(body: str, detail_type: str | tuple[str, ...]) -> dict:
    """The event envelope in an SQS body: a whole EventBridge event (default target input) or
    the envelope itself (a target with input path `$.detail`, as the OMS FIFO queue uses)."""
    try:
        message = json.loads(body)
    except (TypeError, ValueError):
        raise ContractError("body is not JSON") from None
    if isinstance(message, dict) and "detail-type" in message:
        message = message.get("detail")
    validate_event(message)
    expected = (detail_type,) if isinstance(detail_type, str) else detail_type
    if message["detail_type"] not in expected:
        raise ContractError(f"detail_type {message['detail_type']} is not consumed here "
                            f"(expects {', '.join(expected)})", "detail_type")
    return message


def dead_letter(url: str, record: dict, reason: str) -> None:
    """Send an SQS record to the dead-letter queue `url` with the reason it was rejected."""
    kwargs: dict = {
        "QueueUrl": url,
        "MessageBody": record.get("body") or "",
        "MessageAttributes": {
            "reason": {"DataType": "String", "StringValue": reason[:1024]},
            "source_message_id": {"DataType": "String", "StringValue": record["messageId"]},
        },
    }
    if url.endswith(".fifo"):
        group = (record.get("attributes") or {}).get("MessageGroupId") or INVALID_GROUP
        kwargs.update(MessageGroupId=group, MessageDeduplicationId=record["messageId"])
    aws.sqs().send_message(**kwargs)


def run_batch(sqs_event: dict, process: Process, *, detail_type: str | tuple[str, ...],
              dead_letter_queue_url: str | None = None) -> dict:
    dlq = dead_letter_queue_url or settings.dead_letter_queue_url()
    failures: list[dict] = []
    failed_groups: set[str] = set()
    for record in sqs_event.get("Records") or []:
        message_id = record["messageId"]
        fifo = str(record.get("eventSourceARN", "")).endswith(".fifo")
        group = (record.get("attributes") or {}).get("MessageGroupId") if fifo else None

        def fail(message_id: str = message_id, group: str | None = group) -> None:
            failures.append({"itemIdentifier": message_id})
            if group is not None:
                failed_groups.add(group)

        if group is not None and group in failed_groups:
            fail()  # an earlier message of this group failed: keep the group's order
            continue
        try:
            envelope = envelope_of(record.get("body"), detail_type)
        except ContractError as error:
            logger.warning("invalid event", extra={"message_id": message_id, "reason": error.reason})
            count("EventsRejected")
            if not dlq:
                fail()
                continue
            try:
                dead_letter(dlq, record, error.reason)
            except Exception:
                logger.exception("could not dead-letter invalid event", extra={"message_id": message_id})
                fail()
            continue
        # The event id follows the event through every consumer's logs.
        logger.set_correlation_id(envelope["id"])
        try:
            process(envelope)
        except RetryLater as early:
            logger.info("event retried later", extra={"message_id": message_id, "reason": str(early)})
            count("EventsRetried")
            fail()
        except Exception:
            logger.exception("event processing failed",
                             extra={"message_id": message_id, "event_id": envelope["id"]})
            count("EventsFailed")
            fail()
    return {"batchItemFailures": failures}

