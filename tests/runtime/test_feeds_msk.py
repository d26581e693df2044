"""The MSK event format in one place: reading real-shaped batches (headers, null and absent
keys, tombstones, bad base64), partial batch responses, and building events for local mode."""

import json
from pathlib import Path

import pytest

from headless_commerce.runtime.feeds import msk

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "msk_event.json").read_text())


def test_reads_every_record_with_key_value_and_headers():
    parsed = list(msk.records(FIXTURE))
    assert [type(r).__name__ for r in parsed] == ["KafkaRecord", "KafkaRecord", "Unreadable", "KafkaRecord"]
    first, second, bad, tombstone = parsed
    assert (first.topic, first.partition, first.offset, first.timestamp) == ("scm.inventory.v1", 0, 15, 1767225600000)
    assert first.key == b"mug-1"
    assert json.loads(first.value) == {"sku": "mug-1", "quantity": 7, "version": 1}
    assert first.headers == {"source": b"wms", "trace-id": b"1-abc"}
    assert first.stream == "scm.inventory.v1-0"
    assert first.identifier == {"partition": "scm.inventory.v1-0", "offset": 15}
    assert second.key is None and second.headers == {}     # no key at all
    assert bad.stream == "scm.inventory.v1-1" and bad.offset == 3 and "base64" in bad.reason
    assert tombstone.key == b"tee-s" and tombstone.value is None  # null value


@pytest.mark.parametrize("raw, reason", [
    ({"partition": 0, "offset": 1, "value": ""}, "no topic"),
    ({"topic": "t", "partition": "0", "offset": 1}, "integers"),
    ({"topic": "t", "partition": 0, "offset": 1, "key": 12}, "key must be a base64 string"),
    ({"topic": "t", "partition": 0, "offset": 1, "headers": [{"h": [300]}]}, "byte values"),
    ({"topic": "t", "partition": 0, "offset": 1, "headers": ["h"]}, "list of objects"),
    ("not an object", "must be an object"),
])
def test_a_malformed_record_is_one_unreadable_entry_not_a_failed_batch(raw, reason):
    event = {"records": {"t-0": [raw, msk.kafka_record("t", 0, 2, b"{}")]}}
    bad, good = msk.records(event)
    assert isinstance(bad, msk.Unreadable) and reason in bad.reason
    assert isinstance(good, msk.KafkaRecord) and good.offset == 2


def test_an_event_without_records_is_refused():
    with pytest.raises(msk.MalformedRecord):
        list(msk.records({"Records": []}))


def test_partial_batch_response_names_topic_partition_and_offset():
    record = next(msk.records(FIXTURE))
    assert msk.batch_response([record.identifier]) == {
        "batchItemFailures": [{"itemIdentifier": {"partition": "scm.inventory.v1-0", "offset": 15}}]}
    assert msk.batch_response([]) == {"batchItemFailures": []}


def test_built_events_read_back_and_keep_one_key_on_one_partition():
    records = [msk.kafka_record("t", msk.partition_for(b"k1", 3, i), i, b"v", key=b"k1",
                                headers={"h": b"\x00\xff"}) for i in range(5)]
    records.append(msk.kafka_record("t", msk.partition_for(None, 3, 7), 0, None))
    event = msk.event(reversed(records))
    assert event["eventSource"] == "aws:kafka"
    parsed = list(msk.records(event))
    keyed = [r for r in parsed if r.key == b"k1"]
    assert len({r.partition for r in keyed}) == 1
    assert [r.offset for r in keyed] == sorted(r.offset for r in keyed)  # offset order per partition
    assert keyed[0].headers == {"h": b"\x00\xff"}
    (unkeyed,) = [r for r in parsed if r.key is None]
    assert unkeyed.value is None and unkeyed.partition == 7 % 3
