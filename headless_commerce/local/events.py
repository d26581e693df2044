"""The event flow, locally: what EventBridge Pipes and Lambda's SQS event source do in AWS.

    commerce table stream --(StreamRelay: outbox filter + relay handler)--> PutEvents to the bus
    bus rules (moto delivers to SQS) --> consumer queues --(QueuePoller)--> consumer handlers
    OrderPlaced rule --> buffer queue --(OmsPipe: group = order id, dedup = event id)--> OMS FIFO

Each is a background thread polling every `interval` seconds, stopped by one Event. The
record/event translation lives in plain functions so it is tested without threads.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from headless_commerce.local import moto_patches
from headless_commerce.local.subscriptions import OMS_HANDOFF, OUTBOX_FILTER, matches

log = logging.getLogger("headless_commerce.local")

POLL_INTERVAL_S = 0.2
# A poller told of new messages (moto_patches.on_activity) still looks this often: a message
# whose visibility timeout ends, a retry, is announced by nothing.
IDLE_POLL_S = 1.0
RETRY_VISIBILITY_S = 1       # a failed message is retried after this (SQS: visibility timeout)
# With `traffic` (local mode's API requests), a poll waits for a moment without requests, at
# most this long (http_adapter.Traffic says why); under steady traffic the flow still polls
# this often, in larger batches.
FLOW_DEFER_S = 0.25
_env_lock = threading.Lock()  # DEAD_LETTER_QUEUE_URL is per consumer but the env is per process


def json_path(document: object, path: str) -> object:
    """The value at a simple `$.a.b.c` path (what the pipe's target parameters use)."""
    value = document
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


# ---- stream -> relay -> bus -------------------------------------------------------------------

def pipe_record(record: dict, stream_arn: str, region: str) -> dict:
    """A DynamoDB Streams GetRecords record as Pipes/Lambda hand it over (JSON-safe)."""
    record = dict(record)
    dynamodb = dict(record.get("dynamodb") or {})
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    record["dynamodb"] = dynamodb
    record.setdefault("eventSource", "aws:dynamodb")
    record.setdefault("awsRegion", region)
    record["eventSourceARN"] = stream_arn
    return record


def relay_batch(records: list[dict], relay: Callable[[list], list[dict]], bus_name: str
                ) -> list[dict]:
    """PutEvents entries for the outbox INSERTs among `records` (the pipe's filter, then its
    enrichment `relay`, then its target mapping `$.source`, `$.detail_type`, `<$.detail>`)."""
    selected = [r for r in records if matches(OUTBOX_FILTER, r)]
    if not selected:
        return []
    return [{"EventBusName": bus_name, "Source": entry["source"],
             "DetailType": entry["detail_type"], "Detail": json.dumps(entry["detail"])}
            for entry in relay(selected)]


def put_events(events_client, entries: list[dict]) -> None:
    for start in range(0, len(entries), 10):
        response = events_client.put_events(Entries=entries[start:start + 10])
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"PutEvents failed: {response.get('Entries')}")


# ---- SQS -> consumer --------------------------------------------------------------------------

def sqs_event(messages: list[dict], queue_arn: str, region: str) -> dict:
    """The event Lambda's SQS event source passes to a function."""
    records = []
    for message in messages:
        records.append({
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes") or {}),
            "messageAttributes": {
                name: {"stringValue": v.get("StringValue"), "binaryValue": v.get("BinaryValue"),
                       "stringListValues": [], "binaryListValues": [], "dataType": v["DataType"]}
                for name, v in (message.get("MessageAttributes") or {}).items()},
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        })
    return {"Records": records}


def failed_ids(result: object, messages: list[dict]) -> set[str]:
    """Message ids to retry: the reported batch item failures (all of them for a bad result)."""
    if not isinstance(result, dict) or not isinstance(result.get("batchItemFailures"), list):
        return {m["MessageId"] for m in messages}
    return {f.get("itemIdentifier") for f in result["batchItemFailures"] if isinstance(f, dict)}


def oms_message(buffer_message: dict) -> dict:
    """SendMessage kwargs the OMS pipe makes of one buffer message (input `<$.body.detail>`)."""
    record = {"body": json.loads(buffer_message["Body"])}
    envelope = json_path(record, OMS_HANDOFF.input_path)
    return {"MessageBody": json.dumps(envelope),
            "MessageGroupId": str(json_path(record, OMS_HANDOFF.group_id_path)),
            "MessageDeduplicationId": str(json_path(record, OMS_HANDOFF.deduplication_id_path))}


# ---- threads ----------------------------------------------------------------------------------

class _Poller(threading.Thread):
    def __init__(self, name: str, stop: threading.Event, interval: float) -> None:
        super().__init__(name=name, daemon=True)
        self._stop_event = stop
        self.interval = interval
        self.errors = 0
        self._wake = threading.Event()
        self._listening = False
        self.traffic = None          # http_adapter.Traffic: defer to requests being answered

    def listen(self, *activities: str) -> None:
        """Poll when one of `activities` (moto_patches.queue_activity, stream_activity) has
        something new, and every IDLE_POLL_S otherwise, instead of every `interval`."""
        for name in activities:
            moto_patches.on_activity(name, self._wake)
        self._listening = True

    def wake(self) -> None:
        """Poll now (stop() calls it so a sleeping poller sees the stop at once)."""
        self._wake.set()

    def poll(self) -> bool:
        """One round; True when it did work (poll again at once)."""
        raise NotImplementedError

    def run(self) -> None:
        while not self._stop_event.is_set():
            if self.traffic is not None:
                self.traffic.wait_quiet(FLOW_DEFER_S)
            self._wake.clear()     # before reading: a write during the poll wakes the next wait
            try:
                busy = self.poll()
            except Exception:
                self.errors += 1
                log.exception("%s failed; retrying", self.name)
                busy = False
            if busy or self._stop_event.is_set():
                continue
            if self._listening:
                self._wake.wait(max(self.interval, IDLE_POLL_S))
            else:
                self._stop_event.wait(self.interval)


def table_of_stream(stream_arn: str) -> str:
    """arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL -> NAME"""
    return stream_arn.split(":", 5)[5].split("/")[1]


def queue_of_url(queue_url: str) -> str:
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


class StreamRelay(_Poller):
    """The outbox pipe: the table's stream (from TRIM_HORIZON) -> relay handler -> PutEvents.

    It follows each shard's NextShardIterator like the pipe does; an iterator that expired
    (15 minutes idle, as in DynamoDB) is replaced by one AFTER the last sequence number read.
    A failed PutEvents keeps the position, so the batch is read and relayed again. With
    `trim`, what was relayed is then dropped from the stream (local mode: its only reader)."""

    def __init__(self, *, streams, events, table_stream_arn: str, bus_name: str, region: str,
                 relay: Callable[[list], list[dict]], stop: threading.Event,
                 interval: float = POLL_INTERVAL_S,
                 positions: dict[str, str | None] | None = None,
                 trim: Callable[[str, str], object] | None = None) -> None:
        super().__init__("outbox-relay", stop, interval)
        self._streams, self._events = streams, events
        # trim(stream_arn, sequence): records up to it are relayed and may be dropped.
        self._trim = trim
        self._arn, self._bus, self._region, self._relay = table_stream_arn, bus_name, region, relay
        # `positions`: the last sequence number relayed per shard by a previous run.
        self._positions: dict[str, str | None] = {
            shard["ShardId"]: (positions or {}).get(shard["ShardId"])
            for shard in streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]}
        self._iterators: dict[str, str | None] = dict.fromkeys(self._positions)
        self.published = 0
        self.listen(moto_patches.stream_activity(table_of_stream(table_stream_arn)))

    @property
    def positions(self) -> dict[str, str | None]:
        return dict(self._positions)

    def _iterator(self, shard_id: str, position: str | None) -> str:
        kwargs = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
                  if position else {"ShardIteratorType": "TRIM_HORIZON"})
        return self._streams.get_shard_iterator(StreamArn=self._arn, ShardId=shard_id,
                                                **kwargs)["ShardIterator"]

    def _read(self, shard_id: str) -> dict:
        iterator = self._iterators[shard_id]
        if iterator is not None:
            try:
                return self._streams.get_records(ShardIterator=iterator, Limit=100)
            except self._streams.exceptions.ExpiredIteratorException:
                pass
        iterator = self._iterator(shard_id, self._positions[shard_id])
        try:
            return self._streams.get_records(ShardIterator=iterator, Limit=100)
        except self._streams.exceptions.TrimmedDataAccessException:
            # Trimmed after being relayed (a state saved while the relay moved on): the
            # oldest record left is the first not relayed yet.
            iterator = self._iterator(shard_id, None)
            return self._streams.get_records(ShardIterator=iterator, Limit=100)

    def poll(self) -> bool:
        busy = False
        for shard_id in list(self._positions):
            response = self._read(shard_id)
            if not response["Records"]:
                self._iterators[shard_id] = response.get("NextShardIterator")
                continue
            records = [pipe_record(r, self._arn, self._region) for r in response["Records"]]
            entries = relay_batch(records, self._relay, self._bus)
            self._iterators[shard_id] = None      # until PutEvents succeeds: re-read on failure
            put_events(self._events, entries)     # raises: position kept, the batch is retried
            self.published += len(entries)
            self._positions[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            self._iterators[shard_id] = response.get("NextShardIterator")
            if self._trim is not None:
                self._trim(self._arn, self._positions[shard_id])
            busy = True
        return busy


class QueuePoller(_Poller):
    """Lambda's SQS event source: receive a batch, call the handler, delete what succeeded
    (ReportBatchItemFailures); failures come back after RETRY_VISIBILITY_S and are dead-
    lettered by the queue's redrive policy after MAX_RECEIVE_COUNT receives."""

    def __init__(self, name: str, *, sqs, queue_url: str, queue_arn: str, region: str,
                 handler: Callable[[dict, object], object], environment: dict[str, str],
                 stop: threading.Event, interval: float = POLL_INTERVAL_S,
                 batch_size: int = 10) -> None:
        super().__init__(name, stop, interval)
        self._sqs, self._url, self._arn, self._region = sqs, queue_url, queue_arn, region
        self._handler, self._environment, self._batch = handler, environment, batch_size
        self.processed = 0
        self.listen(moto_patches.queue_activity(queue_of_url(queue_url)))

    def _invoke(self, event: dict) -> object:
        with _env_lock:
            saved = {k: os.environ.get(k) for k in self._environment}
            os.environ.update(self._environment)
            try:
                return self._handler(event, None)
            except Exception:
                log.exception("%s handler raised", self.name)
                return None
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value

    def poll(self) -> bool:
        messages = self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=self._batch, WaitTimeSeconds=0,
            AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return False
        failed = failed_ids(self._invoke(sqs_event(messages, self._arn, self._region)), messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(QueueUrl=self._url,
                                                    ReceiptHandle=message["ReceiptHandle"],
                                                    VisibilityTimeout=RETRY_VISIBILITY_S)
        self.processed += len(done)
        return True


class OmsPipe(_Poller):
    """The OMS hand-off pipe: buffer queue -> FIFO queue, group = order id, dedup = event id."""

    def __init__(self, *, sqs, buffer_url: str, fifo_url: str, stop: threading.Event,
                 interval: float = POLL_INTERVAL_S) -> None:
        super().__init__("oms-pipe", stop, interval)
        self._sqs, self._buffer, self._fifo = sqs, buffer_url, fifo_url
        self.forwarded = 0
        self.listen(moto_patches.queue_activity(queue_of_url(buffer_url)))

    def poll(self) -> bool:
        messages = self._sqs.receive_message(QueueUrl=self._buffer, MaxNumberOfMessages=10,
                                             WaitTimeSeconds=0).get("Messages", [])
        for message in messages:
            try:
                kwargs = oms_message(message)
            except (ValueError, KeyError):
                log.error("OMS pipe: unreadable OrderPlaced message %s", message["MessageId"])
                continue  # left in the buffer: its redrive policy dead-letters it
            self._sqs.send_message(QueueUrl=self._fifo, **kwargs)
            self._sqs.delete_message(QueueUrl=self._buffer, ReceiptHandle=message["ReceiptHandle"])
            self.forwarded += 1
        return bool(messages)


def scheduled_event(rule_name: str, region: str) -> dict:
    """What an EventBridge schedule delivers to its Lambda target."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "000000000000",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": region,
            "resources": [f"arn:aws:events:{region}:000000000000:rule/{rule_name}"], "detail": {}}


class ScheduledInvoker(_Poller):
    """A `rate(...)` schedule: invokes `handler` every `interval` seconds."""

    def __init__(self, name: str, *, handler: Callable[[dict, object], object], region: str,
                 stop: threading.Event, interval: float) -> None:
        super().__init__(name, stop, interval)
        self._handler = handler
        self._region = region

    def poll(self) -> bool:
        self._handler(scheduled_event(self.name, self._region), None)
        return False
