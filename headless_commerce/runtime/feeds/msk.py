"""The Lambda event format of Amazon MSK (and self-managed Kafka) event sources, in one place:
reading batches, reporting partial failures, and building the same shape for local mode.

An event is `{"eventSource": "aws:kafka", "eventSourceArn", "bootstrapServers", "records":
{"<topic>-<partition>": [record, ...]}}`; each record has `topic`, `partition`, `offset`,
`timestamp`, `timestampType`, `key` (base64, absent or null when the producer sent none),
`value` (base64; null for a tombstone) and `headers` (a list of one-entry objects, each value
a list of byte values).

Hand-written rather than Powertools' KafkaEvent: that decodes base64 leniently and raises on
the first bad record, while a feed must turn one bad record into one rejection and go on.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


class MalformedRecord(ValueError):
    """A record whose envelope cannot be read (bad base64, missing fields)."""


@dataclass(frozen=True)
class KafkaRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int | None
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes] = field(default_factory=dict)

    @property
    def stream(self) -> str:
        """`<topic>-<partition>`: the unit Kafka orders records in."""
        return f"{self.topic}-{self.partition}"

    @property
    def identifier(self) -> dict:
        """The record's id in a partial batch response."""
        return {"partition": self.stream, "offset": self.offset}

    @property
    def position(self) -> dict:
        """Where the record sits in Kafka; stored on what it wrote, so a redelivery is known."""
        return {"stream": self.stream, "offset": self.offset}


@dataclass(frozen=True)
class Unreadable:
    """A record that could not be parsed, with what is known of where it came from."""
    raw: object
    stream: str
    offset: int | None
    reason: str

    @property
    def identifier(self) -> dict:
        return {"partition": self.stream, "offset": self.offset}


def _b64(value: object, name: str) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedRecord(f"{name} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedRecord(f"{name} is not valid base64") from None


def _headers(raw: object) -> dict[str, bytes]:
    headers: dict[str, bytes] = {}
    for entry in raw or []:
        if not isinstance(entry, dict):
            raise MalformedRecord("headers must be a list of objects")
        for name, data in entry.items():
            try:
                headers[str(name)] = bytes(data)
            except (TypeError, ValueError):
                raise MalformedRecord(f"header {name!r} is not a list of byte values") from None
    return headers


def parse_record(raw: object) -> KafkaRecord:
    if not isinstance(raw, dict):
        raise MalformedRecord("record must be an object")
    try:
        topic, partition, offset = raw["topic"], raw["partition"], raw["offset"]
    except KeyError as missing:
        raise MalformedRecord(f"record has no {missing.args[0]}") from None
    if not isinstance(topic, str) or not isinstance(partition, int) or not isinstance(offset, int):
        raise MalformedRecord("topic, partition and offset must be a string and integers")
    timestamp = raw.get("timestamp")
    return KafkaRecord(topic=topic, partition=partition, offset=offset,
                       timestamp=timestamp if isinstance(timestamp, int) else None,
                       key=_b64(raw.get("key"), "key"), value=_b64(raw.get("value"), "value"),
                       headers=_headers(raw.get("headers")))


def records(event: dict) -> Iterator[KafkaRecord | Unreadable]:
    """Every record of an MSK event, partition by partition in offset order."""
    batches = event.get("records") if isinstance(event, dict) else None
    if not isinstance(batches, dict):
        raise MalformedRecord("event has no `records` object (not an MSK event)")
    for stream, entries in batches.items():
        for raw in entries if isinstance(entries, list) else [entries]:
            try:
                yield parse_record(raw)
            except MalformedRecord as error:
                offset = raw.get("offset") if isinstance(raw, dict) else None
                yield Unreadable(raw, stream, offset if isinstance(offset, int) else None, str(error))


def batch_response(failed: Iterable[dict]) -> dict:
    """ReportBatchItemFailures: Lambda retries from the first failed offset of each partition."""
    return {"batchItemFailures": [{"itemIdentifier": identifier} for identifier in failed]}


# ---- building events (local mode, tests, the bench) ------------------------------------------

def partition_for(key: bytes | None, partitions: int, index: int) -> int:
    """Keyed records always land on one partition (so one key's records stay in order);
    unkeyed ones round-robin. (Kafka hashes with murmur2; any stable hash keeps the guarantee.)"""
    if key is None:
        return index % partitions
    return zlib.crc32(key) % partitions


def kafka_record(topic: str, partition: int, offset: int, value: bytes | None, *, key: bytes | None = None,
                 headers: dict[str, bytes] | None = None, timestamp: int = 0) -> dict:
    """One record as Lambda delivers it."""
    return {
        "topic": topic, "partition": partition, "offset": offset, "timestamp": timestamp,
        "timestampType": "CREATE_TIME",
        "key": None if key is None else base64.b64encode(key).decode(),
        "value": None if value is None else base64.b64encode(value).decode(),
        "headers": [{name: list(data)} for name, data in (headers or {}).items()],
    }


def event(records_: Iterable[dict], *, cluster_arn: str = "local") -> dict:
    """An MSK event of already-built records, grouped by `<topic>-<partition>` in offset order."""
    grouped: dict[str, list[dict]] = {}
    for record in sorted(records_, key=lambda r: (r["topic"], r["partition"], r["offset"])):
        grouped.setdefault(f"{record['topic']}-{record['partition']}", []).append(record)
    return {"eventSource": "aws:kafka", "eventSourceArn": cluster_arn,
            "bootstrapServers": "localhost:9098", "records": grouped}
