"""`feed publish`: reading JSON Lines into keyed records, the MSK producer's IAM settings and
token callback against the real client libraries (no broker runs here, so delivery to MSK is
only checked up to the client), bootstrap broker lookup, and the CLI's usage errors."""

import base64
import json
import urllib.parse

import boto3
import pytest
from botocore.stub import Stubber

from headless_commerce import cli, feed_publish
from headless_commerce.local import feeds as local_feeds

ARN = "arn:aws:kafka:eu-west-1:123456789012:cluster/feeds/751d2973-a626-431c-9d4e-d7975eb44dd7-2"


def test_jsonl_lines_become_records_keyed_by_their_id(tmp_path):
    path = tmp_path / "catalog.jsonl"
    path.write_text('{"type": "product", "product_id": "p-1"}\n\n'
                    '{"type": "category", "category_id": "c-1"}\n'
                    'not json\n[1, 2]\n')
    messages = feed_publish.read_jsonl("catalog", path)
    assert [(m.line, m.key) for m in messages] == [(1, b"p-1"), (3, b"c-1"), (4, None), (5, None)]
    assert messages[2].value == b"not json"          # published as is: the consumer rejects it
    assert feed_publish.key_for("inventory", b'{"sku": "s-9"}') == b"s-9"
    assert feed_publish.key_for("order_status", b'{"order_id": 7}') is None


@pytest.mark.parametrize("feed, content, message", [
    ("prices", "{}\n", "unknown feed 'prices'"),
    ("inventory", "\n  \n", "has no records"),
])
def test_unusable_input_is_a_publish_error(tmp_path, feed, content, message):
    path = tmp_path / "feed.jsonl"
    path.write_text(content)
    with pytest.raises(feed_publish.PublishError, match=message):
        feed_publish.read_jsonl(feed, path)
    with pytest.raises(feed_publish.PublishError, match="cannot read"):
        feed_publish.read_jsonl("inventory", tmp_path / "missing.jsonl")


def test_produce_requests_stay_under_the_sqs_message_size():
    records = [(f"k{i}".encode(), b"x" * 3000) for i in range(200)]
    bodies = local_feeds.produce_requests("inventory", records)
    assert len(bodies) > 1 and all(len(b) < 256 * 1024 for b in bodies)
    decoded = [r for b in bodies for r in json.loads(b)["records"]]
    assert [base64.b64decode(r["key"]) for r in decoded] == [k for k, _ in records]


def test_the_token_callback_signs_an_msk_connect_request_with_the_callers_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    token, expires_at = feed_publish.oauth_callback("eu-west-1")("")
    url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    parsed = urllib.parse.urlparse(url)
    query = urllib.parse.parse_qs(parsed.query)
    assert parsed.netloc == "kafka.eu-west-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert (
        query["X-Amz-Credential"][0].startswith("AKIDEXAMPLE/")
        and "/eu-west-1/kafka-cluster/" in query["X-Amz-Credential"][0]
    )
    import time
    assert time.time() < expires_at < time.time() + 3600        # seconds, not the signer's milliseconds


def test_the_real_producer_takes_the_iam_settings_and_asks_the_callback_for_a_token():
    from confluent_kafka import Producer

    asked = []

    def provider(region):
        asked.append(region)
        return "token", 4_102_444_800_000

    config = feed_publish.producer_config("127.0.0.1:9", "eu-west-1", token_provider=provider)
    assert {k: config[k] for k in ("security.protocol", "sasl.mechanisms", "acks", "enable.idempotence")} == {
        "security.protocol": "SASL_SSL", "sasl.mechanisms": "OAUTHBEARER", "acks": "all",
        "enable.idempotence": True}
    producer = Producer({**config, "log_level": 0})
    producer.poll(0.2)
    assert asked == ["eu-west-1"]
    # Nothing listens there: the record is never acknowledged, and publishing says so.
    message = feed_publish.Message(b"k", b'{"sku": "s"}', 1)
    with pytest.raises(feed_publish.PublishError, match="not acknowledged before the timeout"):
        feed_publish.publish_kafka("scm.inventory.v1", [message], producer, flush_timeout_s=0.5)


class FakeProducer:
    def __init__(self, error_on=None):
        self.produced, self.error_on, self.pending = [], error_on, []

    def produce(self, topic, *, value, key, on_delivery):
        self.produced.append((topic, key, value))
        self.pending.append((on_delivery, value))

    def poll(self, timeout):
        return 0

    def flush(self, timeout):
        for callback, value in self.pending:
            callback("KafkaError{code=TOPIC_AUTHORIZATION_FAILED}" if value == self.error_on else None, value)
        self.pending = []
        return 0


def test_publish_produces_key_and_value_and_reports_refused_records():
    messages = [feed_publish.Message(b"s-1", b'{"sku": "s-1"}', 1), feed_publish.Message(None, b"x", 2)]
    producer = FakeProducer()
    assert feed_publish.publish_kafka("scm.inventory.v1", messages, producer) == 2
    assert producer.produced == [("scm.inventory.v1", b"s-1", b'{"sku": "s-1"}'), ("scm.inventory.v1", None, b"x")]
    with pytest.raises(feed_publish.PublishError, match="TOPIC_AUTHORIZATION_FAILED"):
        feed_publish.publish_kafka("scm.inventory.v1", messages, FakeProducer(error_on=b"x"))


def test_bootstrap_brokers_are_the_iam_ones():
    client = boto3.client("kafka", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stub:
        stub.add_response("get_bootstrap_brokers",
                          {"BootstrapBrokerStringSaslIam": "b-1.feeds:9098,b-2.feeds:9098",
                           "BootstrapBrokerStringTls": "b-1.feeds:9094"}, {"ClusterArn": ARN})
        stub.add_response("get_bootstrap_brokers", {"BootstrapBrokerStringTls": "b-1.feeds:9094"},
                          {"ClusterArn": ARN})
        assert feed_publish.bootstrap_servers(ARN, "eu-west-1", kafka_client=client) == "b-1.feeds:9098,b-2.feeds:9098"
        with pytest.raises(feed_publish.PublishError, match="no IAM-authenticated brokers"):
            feed_publish.bootstrap_servers(ARN, "eu-west-1", kafka_client=client)


def test_cli_usage_errors_exit_2(tmp_path, capsys):
    path = tmp_path / "inventory.jsonl"
    path.write_text('{"sku": "s", "quantity": 1, "version": 1}\n')
    with pytest.raises(SystemExit) as exited:
        cli.main(["feed", "publish", "inventory", str(path)])          # no target
    assert exited.value.code == 2
    assert cli.main(["feed", "publish", "inventory", str(tmp_path / "none.jsonl"), "--local",
                     "http://127.0.0.1:9"]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert cli.main(["feed", "publish", "inventory", str(path), "--local", "http://127.0.0.1:9"]) == 2
    assert "no local mode answers at http://127.0.0.1:9" in capsys.readouterr().err


def test_local_broker_retries_a_partition_from_its_failed_offset_then_sets_records_aside(table, monkeypatch):
    import threading

    from headless_commerce.runtime.common import aws
    from headless_commerce.runtime.feeds import msk

    monkeypatch.setattr(local_feeds, "RETRY_PAUSE_S", 0)
    sqs = aws.sqs()
    inboxes, failures_url = local_feeds.create_queues(sqs)
    seen: list[list[tuple[int, int]]] = []

    def handler(event, context):
        records = list(msk.records(event))
        seen.append([(r.partition, r.offset) for r in records])
        # The record keyed "bad" always fails; everything else succeeds.
        failed = [r.identifier for r in records if r.key == b"bad"]
        return msk.batch_response(failed[:1])

    poller = local_feeds.FeedPoller("inventory", sqs=sqs, inbox_url=inboxes["inventory"], failures_url=failures_url,
                                    region="us-east-1", handler=handler, stop=threading.Event(), interval=0)
    keys = [b"a", b"bad", b"a", b"b"]
    for body in local_feeds.produce_requests("inventory", [(k, b"{}") for k in keys]):
        sqs.send_message(QueueUrl=inboxes["inventory"], MessageBody=body)
    assert poller.poll() is True and poller.poll() is False
    bad_partition = msk.partition_for(b"bad", 6, 1)
    assert len(seen) == local_feeds.ATTEMPTS
    retried = seen[1]
    assert {p for p, _ in retried} == {bad_partition}          # only the failed partition comes back
    assert poller.gave_up == len(retried)
    messages = sqs.receive_message(QueueUrl=failures_url, MaxNumberOfMessages=10,
                                   MessageAttributeNames=["All"])["Messages"]
    assert {m["MessageAttributes"]["reason"]["StringValue"] for m in messages} == {"retries_exhausted"}
    assert len(messages) == len(retried)
