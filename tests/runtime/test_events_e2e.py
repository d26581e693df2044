"""Checkout -> outbox -> relay -> bus -> OMS FIFO queue -> OMS -> bus -> status applier, on
moto, with the stream record delivered twice and every consumer message redelivered.

What moto 5.2.5 routes itself: PutEvents -> rule pattern -> SQS target, SqsParameters'
MessageGroupId (a static value, as in AWS), and FIFO content-based deduplication. What it does
not: a target's InputPath (ignored), so the OMS target uses the equivalent InputTransformer
(`{"detail": "$.detail"}` / `<detail>`) to deliver the bare envelope as `InputPath: $.detail`
does in AWS; and the Pipe, emulated by `pipe_to_bus` exactly as its target maps the relay's
output ($.source, $.detail_type, <$.detail>).
"""

from __future__ import annotations

import json

from headless_commerce import model
from headless_commerce.runtime.common import aws, repositories
from headless_commerce.runtime.events import relay
from headless_commerce.runtime.oms import consumer as oms_consumer
from headless_commerce.runtime.orders import status_events
from tests.runtime.conftest import add, checkout, outbox_stream_records, queue_messages

OMS_GROUP = "orders"


def pipe_to_bus(entries: list[dict], bus_name: str) -> None:
    aws.eventbridge().put_events(Entries=[
        {"EventBusName": bus_name, "Source": e["source"], "DetailType": e["detail_type"],
         "Detail": json.dumps(e["detail"])} for e in entries])


def oms_fifo_queue(bus_name: str) -> tuple[str, str]:
    sqs = aws.sqs()
    url = sqs.create_queue(QueueName="oms-orders.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = aws.eventbridge()
    events.put_rule(Name="orders-to-oms", EventBusName=bus_name, EventPattern=json.dumps(
        {"source": [model.EventSource.ORDERS], "detail-type": [model.EventName.ORDER_PLACED]}))
    events.put_targets(Rule="orders-to-oms", EventBusName=bus_name, Targets=[{
        "Id": "oms", "Arn": arn, "SqsParameters": {"MessageGroupId": OMS_GROUP},
        "InputTransformer": {"InputPathsMap": {"detail": "$.detail"}, "InputTemplate": "<detail>"}}])
    return url, arn


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
    oms_url, oms_arn = oms_fifo_queue(bus.name)

    # The stream delivers the OrderPlaced record twice (a Pipes retry); both relays publish.
    [record] = outbox_stream_records(model.EventName.ORDER_PLACED)
    first, second = relay.handler([record], None), relay.handler([record], None)
    assert first == second and len(first) == 1
    pipe_to_bus(first, bus.name)
    pipe_to_bus(second, bus.name)

    # FIFO content-based deduplication: one message for the OMS, the bare envelope.
    received = queue_messages(oms_url)
    assert len(received) == 1
    envelope = json.loads(received[0]["Body"])
    assert envelope == first[0]["detail"] and envelope["detail"]["order_id"] == order["order_id"]
    assert received[0]["Attributes"]["MessageGroupId"] == OMS_GROUP

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
    accepted = repositories.get_order(order["order_id"])
    assert accepted["status"] == "ACCEPTED_BY_OMS"
    assert status_events.handler(status_batch, None) == {"batchItemFailures": []}
    confirmed = relay.handler(outbox_stream_records(model.EventName.ORDER_STATUS_CHANGED), None)
    assert [e["detail"]["detail"]["to"] for e in confirmed] == ["CONFIRMED"]
    older = {"Records": [{**status_batch["Records"][0], "messageId": "older",
                          "body": json.dumps({"detail-type": "OrderStatusChanged",
                                              "source": "commerce.orders",
                                              "detail": confirmed[0]["detail"]})}]}
    assert status_events.handler(older, None) == {"batchItemFailures": []}
    assert repositories.get_order(order["order_id"]) == accepted
    assert queue_messages(dead_letters) == []
