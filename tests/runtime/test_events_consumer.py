"""The SQS consumer runner: what is retried, what is dead-lettered, FIFO order."""

from __future__ import annotations

import pytest

from headless_commerce.runtime.common import aws
from headless_commerce.runtime.events.consumer import RetryLater, run_batch
from tests.runtime.conftest import eventbridge_event, example_event, queue_messages, sqs_event

PLACED = "OrderPlaced"


class Recorder:
    def __init__(self, fail_orders: set[str] = frozenset()) -> None:
        self.seen: list[str] = []
        self.fail_orders = fail_orders

    def __call__(self, envelope: dict) -> None:
        order_id = envelope["detail"]["order_id"]
        self.seen.append(order_id)
        if order_id in self.fail_orders:
            raise RuntimeError("downstream unavailable")


def placed(order_id: str) -> dict:
    return example_event(PLACED, {"order_id": order_id})


def failed_ids(result: dict) -> list[str]:
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def test_both_body_shapes_reach_process(table, dead_letters):
    process = Recorder()
    result = run_batch(sqs_event(eventbridge_event(placed("a")), placed("b")), process,
                       detail_type=PLACED)
    assert failed_ids(result) == [] and process.seen == ["a", "b"]


def test_process_raising_is_a_batch_item_failure_and_others_proceed(table, dead_letters):
    process = Recorder(fail_orders={"b"})
    result = run_batch(sqs_event(placed("a"), placed("b"), placed("c")), process, detail_type=PLACED)
    assert failed_ids(result) == ["msg-1"]
    assert process.seen == ["a", "b", "c"]            # standard queue: no ordering to keep
    assert queue_messages(dead_letters) == []         # retried by SQS, not dead-lettered here


def test_an_event_too_early_is_retried_without_an_error_or_traceback(table, dead_letters, capsys):
    def too_early(envelope: dict) -> None:
        raise RetryLater(f"order {envelope['detail']['order_id']} is still PENDING_PAYMENT")

    result = run_batch(sqs_event(placed("a")), too_early, detail_type=PLACED)
    assert failed_ids(result) == ["msg-0"]
    assert queue_messages(dead_letters) == []
    logged = capsys.readouterr()
    # Any other exception logs an ERROR with its traceback here.
    assert "Traceback" not in logged.out + logged.err and '"level":"ERROR"' not in logged.out + logged.err


def test_fifo_failure_fails_the_rest_of_its_group_only(table, dead_letters):
    process = Recorder(fail_orders={"a2"})
    event = sqs_event(placed("a1"), placed("a2"), placed("b1"), placed("a3"), placed("b2"),
                      fifo=True, groups=["A", "A", "B", "A", "B"])
    result = run_batch(event, process, detail_type=PLACED)
    assert failed_ids(result) == ["msg-1", "msg-3"]
    assert process.seen == ["a1", "a2", "b1", "b2"]   # a3 never ran ahead of a2


def test_invalid_events_are_dead_lettered_with_reason_and_never_block(table, dead_letters):
    process = Recorder()
    wrong_type = example_event("CustomerConsentChanged")
    event = sqs_event("not json", placed("a") | {"version": 7}, wrong_type, placed("b"),
                      {"detail-type": PLACED, "detail": "nope"})
    assert failed_ids(run_batch(event, process, detail_type=PLACED)) == []
    assert process.seen == ["b"]
    received = queue_messages(dead_letters)
    letters = {m["MessageAttributes"]["source_message_id"]["StringValue"]:
               m["MessageAttributes"]["reason"]["StringValue"] for m in received}
    assert letters == {
        "msg-0": "body is not JSON",
        "msg-1": "version must be one of 1",
        "msg-2": "detail_type CustomerConsentChanged is not consumed here (expects OrderPlaced)",
        "msg-4": "event must be a JSON object",
    }
    # The original body is kept for whoever inspects the dead letter.
    assert "not json" in {m["Body"] for m in received}


def test_without_a_dead_letter_queue_invalid_events_fail_for_redrive(table, monkeypatch):
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL", raising=False)
    process = Recorder()
    result = run_batch(sqs_event("not json", placed("a")), process, detail_type=PLACED)
    assert failed_ids(result) == ["msg-0"] and process.seen == ["a"]


def test_unreachable_dead_letter_queue_reports_failure(table, monkeypatch):
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/missing-dlq"
    result = run_batch(sqs_event("not json"), Recorder(), detail_type=PLACED,
                       dead_letter_queue_url=url)
    assert failed_ids(result) == ["msg-0"]


def test_fifo_dead_letter_keeps_group_and_deduplicates_on_message_id(table):
    url = aws.sqs().create_queue(QueueName="consumer-dlq.fifo",
                                 Attributes={"FifoQueue": "true"})["QueueUrl"]
    event = sqs_event("not json", "still not json", fifo=True, groups=["order-1", "order-1"])
    event["Records"].append(dict(event["Records"][0]))   # SQS redelivered msg-0 in the batch
    del event["Records"][1]["attributes"]["MessageGroupId"]
    process = Recorder()
    assert failed_ids(run_batch(event, process, detail_type=PLACED, dead_letter_queue_url=url)) == []
    letters = queue_messages(url)
    assert sorted(m["Attributes"]["MessageGroupId"] for m in letters) == ["invalid", "order-1"]
    assert sorted(m["Attributes"]["MessageDeduplicationId"] for m in letters) == ["msg-0", "msg-1"]


@pytest.mark.parametrize("body", [None, "", "[]", "null"])
def test_degenerate_bodies_are_invalid_not_crashes(table, dead_letters, body):
    event = sqs_event("x")
    event["Records"][0]["body"] = body
    assert failed_ids(run_batch(event, Recorder(), detail_type=PLACED)) == []
    assert len(queue_messages(dead_letters)) == 1
