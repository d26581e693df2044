"""`headless-commerce feed publish <feed> FILE.jsonl`: one record per line, to local mode or to
the feed's topic on Amazon MSK.

Each line is a record's value as the PIM or supply-chain system would produce it; its key is
the record's id (`product_id` or `category_id`, `sku`, `order_id`), so one item's records stay
in order on one partition. A line that is not valid JSON is still published (without a key):
the consumer sets it aside in the failure queue with the reason, as it would in production.

- `--local URL` (a running `headless-commerce local`): the produce requests go to local mode's
  embedded SQS inbox and local mode delivers MSK-shaped batches to the same consumers (no Kafka
  broker runs locally); the command waits until they are processed.
- `--bootstrap-servers HOST:9098,...` or `--cluster-arn ARN`: a Kafka producer (confluent-kafka,
  `pip install 'headless-commerce[kafka]'`) with IAM authentication (SASL OAUTHBEARER tokens
  from aws-msk-iam-sasl-signer-python, signed with the caller's AWS credentials). The brokers
  are reachable only inside the VPC: run it on a bastion or a VPC-attached runner whose role
  has the topic's `kafka-cluster:WriteData` (IntegrationPipelines.grant_produce).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from headless_commerce.runtime.feeds.names import FEEDS

# The record fields that key each feed's records, in order of preference.
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "catalog": ("product_id", "category_id"),
    "inventory": ("sku",),
    "order_status": ("order_id",),
}


class PublishError(RuntimeError):
    """What the operator has to fix; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class Message:
    key: bytes | None
    value: bytes
    line: int


def key_for(feed: str, value: bytes) -> bytes | None:
    try:
        document = json.loads(value)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    for field in KEY_FIELDS[feed]:
        if isinstance(document.get(field), str):
            return document[field].encode()
    return None


def read_jsonl(feed: str, path: str | Path) -> list[Message]:
    """The file's non-blank lines as records of `feed`."""
    if feed not in FEEDS:
        raise PublishError(f"unknown feed {feed!r}; choose one of {', '.join(FEEDS)}")
    try:
        raw = Path(path).read_bytes()
    except OSError as problem:
        raise PublishError(f"cannot read {path}: {problem.strerror or problem}") from None
    messages = []
    for number, line in enumerate(raw.splitlines(), start=1):
        value = line.strip()
        if value:
            messages.append(Message(key_for(feed, value), value, number))
    if not messages:
        raise PublishError(f"{path} has no records (one JSON document per line)")
    return messages


# ---- local mode -------------------------------------------------------------------------------

@dataclass(frozen=True)
class LocalResult:
    published: int
    requests: int
    failures_queued: int


def _local_sqs(api_url: str):
    import urllib.error
    import urllib.request

    import boto3

    url = api_url.rstrip("/") + "/.well-known/headless-commerce.json"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            discovery = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as problem:
        raise PublishError(f"no local mode answers at {api_url} ({problem}); start it with "
                           "`headless-commerce local`") from None
    # The embedded AWS accepts any credentials; these never leave the machine.
    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                 region_name=discovery["region"]).client(
        "sqs", endpoint_url=discovery["aws_endpoint_url"])


def publish_local(feed: str, messages: list[Message], api_url: str, *, timeout_s: float = 600,
                  sqs=None) -> LocalResult:
    from headless_commerce.local import feeds as local_feeds

    sqs = sqs or _local_sqs(api_url)
    try:
        inbox = sqs.get_queue_url(QueueName=local_feeds.inbox_name(feed))["QueueUrl"]
        failures = sqs.get_queue_url(QueueName=local_feeds.FAILURES_QUEUE)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        raise PublishError(f"the local mode at {api_url} has no feed inbox (an older version?)") from None
    before = _visible(sqs, failures)
    bodies = local_feeds.produce_requests(feed, ((m.key, m.value) for m in messages))
    for body in bodies:
        sqs.send_message(QueueUrl=inbox, MessageBody=body)
    deadline = time.monotonic() + timeout_s
    while _visible(sqs, inbox, in_flight=True):
        if time.monotonic() > deadline:
            raise PublishError(f"local mode did not process the feed within {timeout_s:.0f} s")
        time.sleep(0.1)
    return LocalResult(published=len(messages), requests=len(bodies),
                       failures_queued=max(0, _visible(sqs, failures) - before))


def local_failures_hint() -> str:
    from headless_commerce.local import feeds as local_feeds

    return f"embedded SQS queue {local_feeds.FAILURES_QUEUE}, each with its `reason`"


def _visible(sqs, url: str, *, in_flight: bool = False) -> int:
    names = ["ApproximateNumberOfMessages", *(["ApproximateNumberOfMessagesNotVisible"] if in_flight else [])]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


# ---- Amazon MSK (IAM auth) --------------------------------------------------------------------

def oauth_callback(region: str, token_provider: Callable[[str], tuple[str, int]] | None = None
                   ) -> Callable[[str], tuple[str, float]]:
    """confluent-kafka's `oauth_cb`: an MSK IAM token for `region` and its expiry in seconds
    since the epoch (the signer returns milliseconds)."""
    if token_provider is None:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

        token_provider = MSKAuthTokenProvider.generate_auth_token

    def callback(_config: str) -> tuple[str, float]:
        token, expiry_ms = token_provider(region)
        return token, expiry_ms / 1000

    return callback


def producer_config(bootstrap_servers: str, region: str, *,
                    token_provider: Callable[[str], tuple[str, int]] | None = None) -> dict:
    """librdkafka settings for IAM auth over TLS, with idempotent, fully acknowledged writes
    (a retried send never duplicates a record on the partition)."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "OAUTHBEARER",
        "oauth_cb": oauth_callback(region, token_provider),
        "enable.idempotence": True,
        "acks": "all",
        "client.id": "headless-commerce-feed-publish",
        "linger.ms": 20,
        "compression.type": "zstd",
    }


def bootstrap_servers(cluster_arn: str, region: str, *, kafka_client=None) -> str:
    """The cluster's IAM bootstrap brokers (kafka:GetBootstrapBrokers)."""
    if kafka_client is None:
        import boto3

        kafka_client = boto3.client("kafka", region_name=region)
    brokers = kafka_client.get_bootstrap_brokers(ClusterArn=cluster_arn)
    found = brokers.get("BootstrapBrokerStringSaslIam")
    if not found:
        raise PublishError(f"{cluster_arn} has no IAM-authenticated brokers (is IAM access control on?)")
    return found


def publish_kafka(topic: str, messages: Iterable[Message], producer, *, flush_timeout_s: float = 60) -> int:
    """Produce every message; raises PublishError naming the lines Kafka did not take."""
    failed: list[str] = []
    delivered = 0

    def on_delivery(error, message) -> None:
        nonlocal delivered
        if error is not None:
            failed.append(str(error))
        else:
            delivered += 1

    for message in messages:
        while True:
            try:
                producer.produce(topic, value=message.value, key=message.key, on_delivery=on_delivery)
                break
            except BufferError:          # the local queue is full: let deliveries drain
                producer.poll(0.5)
        producer.poll(0)
    remaining = producer.flush(flush_timeout_s)
    if failed or remaining:
        raise PublishError(f"{len(failed) + remaining} records were not acknowledged"
                           + (f": {failed[0]}" if failed else " before the timeout"))
    return delivered


def make_producer(bootstrap: str, region: str):
    try:
        from confluent_kafka import Producer
    except ImportError:
        raise PublishError(
            "publishing to MSK needs the `kafka` extra: pip install 'headless-commerce[kafka]'"
        ) from None
    return Producer(producer_config(bootstrap, region))
