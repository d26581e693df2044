"""Checkout -> outbox -> relay -> bus -> OMS hand-off -> OMS -> bus -> status applier, on
moto, with the stream record delivered twice and every consumer message redelivered.

The hand-off mirrors constructs/oms_handoff.py: a rule puts OrderPlaced on a standard buffer
queue, and a Pipe moves each message to the OMS FIFO queue with body `<$.body.detail>` (the
envelope), MessageGroupId `$.body.detail.detail.order_id` and MessageDeduplicationId
`$.body.detail.id` (a rule target can only set a static group id).

moto 5.2.5 routes PutEvents -> rule pattern -> SQS itself and applies FIFO deduplication.
It has no EventBridge Pipes, so both pipes are emulated exactly as their targets map:
`pipe_to_bus` for the outbox relay ($.source, $.detail_type, <$.detail>) and
`pipe_to_oms_queue` for the hand-off above.
"""

from __future__ import annotations

import json

from headless_commerce import model
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.events import relay
from headless_commerce.runtime.oms import consumer as oms_consumer
from headless_commerce.runtime.orders import repository as orders_repository
from headless_commerce.runtime.orders import status_events
from tests.runtime.conftest import add, checkout, outbox_stream_records, queue_messages


def pipe_to_bus(entries: list[dict], bus_name: str) -> None:
    aws.eventbridge().put_events(Entries=[
        {"EventBusName": bus_name, "Source": e["source"], "DetailType": e["detail_type"],
         "Detail": json.dumps(e["detail"])} for e in entries])


def oms_handoff(bus_name: str) -> tuple[str, str, str]:
    """(buffer url, OMS FIFO url, OMS FIFO arn) with the OrderPlaced rule on the buffer."""
    sqs = aws.sqs()
    buffer = sqs.create_queue(QueueName="oms-buffer")["QueueUrl"]
    buffer_arn = sqs.get_queue_attributes(QueueUrl=buffer, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fifo = sqs.create_queue(QueueName="oms-orders.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "false"})["QueueUrl"]
    fifo_arn = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = aws.eventbridge()
    events.put_rule(Name="orders-to-oms", EventBusName=bus_name, EventPattern=json.dumps(
        {"source": [model.EventSource.ORDERS], "detail-type": [model.EventName.ORDER_PLACED]}))
    events.put_targets(Rule="orders-to-oms", EventBusName=bus_name,
                       Targets=[{"Id": "buffer", "Arn": buffer_arn}])
    return buffer, fifo, fifo_arn


def pipe_to_oms_queue(buffer_url: str, fifo_url: str) -> int:
    moved = queue_messages(buffer_url)
    for message in moved:
        event = json.loads(message["Body"])
        aws.sqs().send_message(QueueUrl=fifo_url, MessageBody=json.dumps(event["detail"]),
                               MessageGroupId=event["detail"]["detail"]["order_id"],
                               MessageDeduplicationId=event["detail"]["id"])
    return len(moved)


def lambda_event(messages: list[dict], queue_arn: str) -> dict:
    """The SQS event source's batch for received messages."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": "us-east-1"}
        for m in messages]}


def test_a_placed_order_reaches_the_oms_once_and_comes_back_accepted(catalog, sandbox, bus, dead_letters):
    add("alice", "mug-1", 2)
    order = checkout("alice", "key-e2e-000001").body
    assert order["status"] == "CONFIRMED"
    buffer_url, oms_url, oms_arn = oms_handoff(bus.name)

    # The stream delivers the OrderPlaced record twice (a Pipes retry); both relays publish.
    [record] = outbox_stream_records(model.EventName.ORDER_PLACED)
    first, second = relay.handler([record], None), relay.handler([record], None)
    assert first == second and len(first) == 1
    pipe_to_bus(first, bus.name)
    pipe_to_bus(second, bus.name)

    # Both copies reach the buffer (EventBridge gives each PutEvents its own event id); the
    # FIFO queue drops the second by the envelope's id: one message for the OMS.
    assert pipe_to_oms_queue(buffer_url, oms_url) == 2
    received = queue_messages(oms_url)
    assert len(received) == 1
    envelope = json.loads(received[0]["Body"])
    assert envelope == first[0]["detail"] and envelope["detail"]["order_id"] == order["order_id"]
    assert received[0]["Attributes"]["MessageGroupId"] == order["order_id"]

    # The OMS gets the message twice (visibility timeout ran out): one status change published.
    batch = lambda_event(received, oms_arn)
    assert oms_consumer.handler(batch, None) == {"batchItemFailures": []}
    assert oms_consumer.handler(batch, None) == {"batchItemFailures": []}
    status_messages = queue_messages(bus.status_queue_url)
    assert len(status_messages) == 1
    status = json.loads(status_messages[0]["Body"])
    assert status["source"] == "commerce.oms" and status["detail-type"] == "OrderStatusChanged"
    assert status["detail"]["detail"] == {"order_id": order["order_id"], "customer_id": "alice",
                                          "to": "ACCEPTED_BY_OMS"}

    # The orders service applies it; again, and an older CONFIRMED event, change nothing.
    status_batch = lambda_event(status_messages, "arn:aws:sqs:us-east-1:123456789012:order-status")
    assert status_events.handler(status_batch, None) == {"batchItemFailures": []}
    accepted = orders_repository.get(order["order_id"])
    assert accepted["status"] == "ACCEPTED_BY_OMS"
    assert status_events.handler(status_batch, None) == {"batchItemFailures": []}
    confirmed = relay.handler(outbox_stream_records(model.EventName.ORDER_STATUS_CHANGED), None)
    assert [e["detail"]["detail"]["to"] for e in confirmed] == ["CONFIRMED"]
    older = {"Records": [{**status_batch["Records"][0], "messageId": "older",
                          "body": json.dumps({"detail-type": "OrderStatusChanged",
                                              "source": "commerce.orders",
                                              "detail": confirmed[0]["detail"]})}]}
    assert status_events.handler(older, None) == {"batchItemFailures": []}
    assert orders_repository.get(order["order_id"]) == accepted
    assert queue_messages(dead_letters) == []
