"""Local mode's stand-in for the MSK event sources: no Kafka broker runs on a laptop (none is
installable here), so `headless-commerce feed publish --local` puts produce requests on an
embedded SQS inbox per feed, and a poller here plays broker and event source mapping at once:
it assigns each record a partition (by key) and an offset, hands MSK-shaped batches to the same
consumer handlers the Lambda functions run, retries a partition from its first failed offset,
and sends records that keep failing to the failure queue, as the on-failure destination would.

Offsets are microseconds since the epoch (kept increasing within a run): like Kafka's they only
grow, also across restarts with --data-dir, which is what the consumers' redelivery check needs.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterable

from headless_commerce.local.events import QueuePoller
from headless_commerce.runtime import settings
from headless_commerce.runtime.feeds import msk
from headless_commerce.runtime.feeds.names import FEEDS

# Named like the rest of local mode's resources (local/aws.py PREFIX).
INBOX_PREFIX = "hc-local-feed-"
FAILURES_QUEUE = "hc-local-feed-failures"
# Lambda's default for the deployed event sources is the profile's (100 in dev).
BATCH_SIZE = 100
ATTEMPTS = 3
RETRY_PAUSE_S = 0.2
# SQS takes 256 KiB per message; produce requests stay below with room for the envelope.
MAX_REQUEST_BYTES = 200_000


def inbox_name(feed: str) -> str:
    return f"{INBOX_PREFIX}{feed.replace('_', '-')}"


def produce_requests(feed: str, messages: Iterable[tuple[bytes | None, bytes]]) -> list[str]:
    """SQS bodies carrying `(key, value)` records for `feed`, each under MAX_REQUEST_BYTES."""
    bodies, current, size = [], [], 0
    for key, value in messages:
        record = {"key": None if key is None else base64.b64encode(key).decode(),
                  "value": base64.b64encode(value).decode()}
        length = len(record["value"]) + len(record["key"] or "") + 40
        if current and size + length > MAX_REQUEST_BYTES:
            bodies.append(json.dumps({"feed": feed, "records": current}))
            current, size = [], 0
        current.append(record)
        size += length
    if current:
        bodies.append(json.dumps({"feed": feed, "records": current}))
    return bodies


class FeedPoller(QueuePoller):
    """One feed's inbox -> partitions and offsets -> MSK batches -> the feed's consumer."""

    def __init__(self, feed: str, *, sqs, inbox_url: str, failures_url: str, region: str,
                 handler: Callable[[dict, object], object], stop: threading.Event, interval: float) -> None:
        super().__init__(f"{feed}-feed", sqs=sqs, queue_url=inbox_url, queue_arn=f"local:{inbox_url}",
                         region=region, handler=handler, stop=stop, interval=interval, batch_size=1,
                         environment={settings.DEAD_LETTER_QUEUE_URL: failures_url})
        self.feed = FEEDS[feed]
        self._failures_url = failures_url
        self._next: dict[int, int] = {}
        self.delivered = 0
        self.gave_up = 0

    def _offset(self, partition: int) -> int:
        offset = max(self._next.get(partition, 0), time.time_ns() // 1000)
        self._next[partition] = offset + 1
        return offset

    def assign(self, records: list[dict]) -> list[dict]:
        built = []
        for index, record in enumerate(records):
            key = None if record.get("key") is None else base64.b64decode(record["key"])
            partition = msk.partition_for(key, self.feed.partitions, index)
            built.append(msk.kafka_record(self.feed.default_topic, partition, self._offset(partition),
                                          base64.b64decode(record["value"]), key=key,
                                          timestamp=time.time_ns() // 1_000_000))
        return built

    def deliver(self, records: list[dict]) -> None:
        for start in range(0, len(records), BATCH_SIZE):
            pending = records[start:start + BATCH_SIZE]
            for attempt in range(ATTEMPTS):
                result = self._invoke(msk.event(pending))
                failed = _failed(result, pending)
                if not failed:
                    break
                # Lambda resumes each failed partition at its first failed offset.
                pending = [r for r in pending if f"{r['topic']}-{r['partition']}" in failed
                           and r["offset"] >= failed[f"{r['topic']}-{r['partition']}"]]
                time.sleep(RETRY_PAUSE_S * (attempt + 1))
            else:
                self._give_up(pending)
            self.delivered += len(records[start:start + BATCH_SIZE])

    def _give_up(self, records: list[dict]) -> None:
        """The on-failure destination: what still fails after the retries, with the batch."""
        self.gave_up += len(records)
        for record in records:
            self._sqs.send_message(QueueUrl=self._failures_url, MessageBody=json.dumps(
                {"feed": self.feed.name, "reason": "retries_exhausted", "record": record}),
                MessageAttributes={"reason": {"DataType": "String", "StringValue": "retries_exhausted"},
                                   "feed": {"DataType": "String", "StringValue": self.feed.name}})

    def poll(self) -> bool:
        messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=1,
                                             WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return False
        message = messages[0]
        try:
            records = json.loads(message["Body"])["records"]
        except (ValueError, KeyError, TypeError):
            records = None
        if records is not None:
            self.deliver(self.assign(records))
            self.processed += len(records)
        self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        return True


def _failed(result: object, records: list[dict]) -> dict[str, int]:
    """Failed partition -> first failed offset (every partition when the handler crashed)."""
    if not isinstance(result, dict) or not isinstance(result.get("batchItemFailures"), list):
        failures = [{"itemIdentifier": {"partition": f"{r['topic']}-{r['partition']}", "offset": r["offset"]}}
                    for r in records]
    else:
        failures = result["batchItemFailures"]
    first: dict[str, int] = {}
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if isinstance(identifier, dict):
            stream, offset = identifier.get("partition"), identifier.get("offset")
            first[stream] = min(offset, first.get(stream, offset))
    return first


def create_queues(sqs) -> tuple[dict[str, str], str]:
    """(inbox URL per feed, failure queue URL); CreateQueue returns the existing queue."""
    inboxes = {feed: sqs.create_queue(QueueName=inbox_name(feed))["QueueUrl"] for feed in FEEDS}
    return inboxes, sqs.create_queue(QueueName=FAILURES_QUEUE)["QueueUrl"]


def pollers(sqs, region: str, *, import_handler: Callable[[str], Callable], stop: threading.Event,
            interval: float) -> dict[str, FeedPoller]:
    inboxes, failures = create_queues(sqs)
    return {f"{feed}-feed": FeedPoller(feed, sqs=sqs, inbox_url=inboxes[feed], failures_url=failures,
                                       region=region, handler=import_handler(FEEDS[feed].handler),
                                       stop=stop, interval=interval)
            for feed in FEEDS}
