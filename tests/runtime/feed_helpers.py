"""Building MSK batches for the feed consumers and reading what they set aside (tests and the
bench share these)."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pytest

from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.feeds import msk
from headless_commerce.runtime.feeds.names import FEEDS


class Topic:
    """A topic with keyed partitions and growing offsets, like a broker would assign them."""

    def __init__(self, feed: str, partitions: int = 3) -> None:
        self.name = FEEDS[feed].default_topic
        self.partitions = partitions
        self.offsets = [0] * partitions

    def records(self, documents: Iterable[object], key_field: str | None = None) -> list[dict]:
        built = []
        for index, document in enumerate(documents):
            value = document if isinstance(document, bytes) else json.dumps(document).encode()
            key = None
            if key_field and isinstance(document, dict) and key_field in document:
                key = str(document[key_field]).encode()
            partition = msk.partition_for(key, self.partitions, index)
            built.append(msk.kafka_record(self.name, partition, self.offsets[partition], value, key=key))
            self.offsets[partition] += 1
        return built

    def batch(self, documents: Iterable[object], key_field: str | None = None) -> dict:
        return msk.event(self.records(documents, key_field))


def failure_messages(url: str) -> list[dict]:
    """Every record set aside so far (the queue is drained)."""
    found = []
    while True:
        batch = aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                          MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append({**json.loads(message["Body"]),
                          "attribute_reason": message["MessageAttributes"]["reason"]["StringValue"]})
            aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def failures(table, monkeypatch) -> str:
    """The feeds' failure queue (moto), its URL in the consumers' environment."""
    url = aws.sqs().create_queue(QueueName="feed-failures")["QueueUrl"]
    monkeypatch.setenv(settings.DEAD_LETTER_QUEUE_URL, url)
    return url
