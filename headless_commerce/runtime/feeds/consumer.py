"""The batch runner every feed consumer is built on (MSK event source -> Lambda, with
ReportBatchItemFailures on provisioned pollers; on on-demand pollers, env FEED_PARTIAL_BATCH=false,
a retryable failure fails the whole batch instead).

Per record, in offset order within each partition:
- unreadable (bad base64, not JSON, not an object), schema-invalid, or rejected by the feed
  (unknown SKU or order, stale version, ...) -> the failure queue (env DEAD_LETTER_QUEUE_URL)
  with its `reason`, then acknowledged: retrying cannot fix it and it must not hold up the
  partition;
- the feed's write raises anything else (throttling, a network fault, an unsettled order) ->
  reported failed, and so is every later record of the same partition, unprocessed: Lambda
  resumes the partition from that offset, so one key's records are never applied out of order.
  If dead-lettering itself fails, the record is reported failed the same way (records after
  it that were applied come back as redeliveries and are skipped).

A crash mid-batch makes Lambda deliver the whole batch again. Nothing is lost and nothing
applies twice: each write is conditional on the version (and Kafka position) it was decided
on, and a record whose position the item already carries is recognised as delivered before.

A feed is a module-level object with `name`, `validate(document) -> (field, message) | None`,
`prefetch(documents) -> state` (one batch read) and `apply(document, record, state) -> str`
(APPLIED or UNCHANGED), raising `Rejected` for records that can never apply.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.json_input import InvalidJson, loads
from headless_commerce.runtime.common.logging import count, logger
from headless_commerce.runtime.feeds import msk

APPLIED, UNCHANGED, REJECTED, FAILED = "applied", "unchanged", "rejected", "failed"


class Rejected(Exception):
    """This record can never apply: it goes to the failure queue with `code` and the message."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class Feed(Protocol):
    name: str

    def validate(self, document: Any) -> tuple[str | None, str] | None: ...

    def prefetch(self, documents: list[dict]) -> Any: ...

    def apply(self, document: dict, record: msk.KafkaRecord, state: Any) -> str: ...


@dataclass
class _Entry:
    record: msk.KafkaRecord | msk.Unreadable
    document: dict | None = None
    rejection: Rejected | None = None


class BatchRetry(RuntimeError):
    """Redeliver the whole batch: raised instead of a partial batch response when the event
    source mapping cannot take one (on-demand pollers)."""


def decode(record: msk.KafkaRecord, validate: Callable[[Any], tuple[str | None, str] | None]) -> dict:
    """The record's JSON document, checked against the feed's schema; raises Rejected."""
    if record.value is None:
        raise Rejected("empty_value", "record has no value (a tombstone); feeds carry whole documents")
    try:
        document = loads(record.value)
    except InvalidJson as error:
        raise Rejected("malformed_json", error.message, error.field) from None
    except UnicodeDecodeError:
        raise Rejected("malformed_json", "value is not UTF-8") from None
    error = validate(document)
    if error:
        field, message = error
        raise Rejected("schema_violation", f"{field or 'record'} {message}", field)
    return document


def _failure_message(feed: str, entry: _Entry, rejection: Rejected) -> dict:
    record = entry.record
    body: dict[str, Any] = {"feed": feed, "reason": rejection.code, "message": rejection.message,
                            "field": rejection.field}
    if isinstance(record, msk.KafkaRecord):
        body.update(topic=record.topic, partition=record.partition, offset=record.offset,
                    key=None if record.key is None else base64.b64encode(record.key).decode(),
                    value=None if record.value is None else base64.b64encode(record.value).decode(),
                    headers={k: base64.b64encode(v).decode() for k, v in record.headers.items()})
    else:
        body.update(stream=record.stream, offset=record.offset, raw=record.raw)
    return body


def dead_letter(feed: str, rejected: list[tuple[_Entry, Rejected]]) -> set[int]:
    """Send rejected records to the failure queue, ten per SendMessageBatch; returns the
    positions in `rejected` that SQS did not take (or all, when the call itself failed)."""
    url = settings.dead_letter_queue_url()
    if not url:
        logger.error(f"{settings.DEAD_LETTER_QUEUE_URL} is not set: rejected records cannot be set aside")
        return set(range(len(rejected)))
    refused: set[int] = set()
    for start in range(0, len(rejected), 10):
        chunk = rejected[start:start + 10]
        entries = [
            {
                "Id": str(start + i),
                "MessageBody": json.dumps(_failure_message(feed, entry, rejection), default=str),
                "MessageAttributes": {
                    "reason": {"DataType": "String", "StringValue": rejection.code},
                    "feed": {"DataType": "String", "StringValue": feed},
                },
            }
            for i, (entry, rejection) in enumerate(chunk)
        ]
        try:
            response = aws.sqs().send_message_batch(QueueUrl=url, Entries=entries)
        except Exception:
            logger.exception("could not dead-letter rejected feed records")
            refused.update(range(start, start + len(chunk)))
            continue
        refused.update(int(failure["Id"]) for failure in response.get("Failed") or [])
    return refused


def run(event: dict, feed: Feed) -> dict:
    entries: list[_Entry] = []
    for record in msk.records(event):
        entry = _Entry(record)
        if isinstance(record, msk.Unreadable):
            entry.rejection = Rejected("malformed_record", record.reason)
        else:
            try:
                entry.document = decode(record, feed.validate)
            except Rejected as rejection:
                entry.rejection = rejection
        entries.append(entry)
    state = feed.prefetch([e.document for e in entries if e.document is not None])

    outcomes: Counter[str] = Counter()
    resume: dict[str, int] = {}          # partition -> the offset Lambda must resume it from
    rejected: list[tuple[_Entry, Rejected]] = []
    for entry in entries:
        record = entry.record
        if record.stream in resume:
            continue
        rejection = entry.rejection
        if rejection is None:
            try:
                outcomes[feed.apply(entry.document, record, state)] += 1
                continue
            except Rejected as rejected_now:
                rejection = rejected_now
            except Exception:
                logger.exception("feed record failed; its partition resumes here",
                                 extra={"feed": feed.name, **record.identifier})
                resume[record.stream] = record.offset
                continue
        logger.warning("feed record rejected", extra={"feed": feed.name, "reason": rejection.code,
                                                      "detail": rejection.message, **record.identifier})
        rejected.append((entry, rejection))
    # Set aside in batches once the batch is decided. A record SQS did not take is retried with
    # the rest of its partition from there: what was applied after it comes back as a
    # redelivery, which the consumers recognise and skip.
    refused = dead_letter(feed.name, rejected) if rejected else set()
    outcomes[REJECTED] += len(rejected) - len(refused)
    for index in refused:
        record = rejected[index][0].record
        if record.offset is not None:
            resume[record.stream] = min(record.offset, resume.get(record.stream, record.offset))
    failed = [e.record.identifier for e in entries if e.record.stream in resume
              and e.record.offset is not None and e.record.offset >= resume[e.record.stream]]
    outcomes[FAILED] += len(failed)
    for outcome, number in outcomes.items():
        count(f"FeedRecords{outcome.title()}", number)
    if failed and not settings.feed_partial_batch():
        # On-demand pollers ignore batchItemFailures (it would read as success): fail the whole
        # batch so Lambda redelivers it; what was applied comes back as redeliveries and is skipped.
        raise BatchRetry(f"{len(failed)} record(s) of the {feed.name} feed hit a retryable fault")
    return msk.batch_response(failed)
