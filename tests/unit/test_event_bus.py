"""EventBus templates: bus, archive, schemas, subscriptions, outbox pipe, OMS FIFO hand-off,
consent fan-out."""

import json

import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_

from headless_commerce import model
from headless_commerce.constructs.consent_fanout import ConsentFanout
from headless_commerce.constructs.event_bus import EventBus, load_contracts
from headless_commerce.constructs.outbox_relay import OUTBOX_FILTER
from headless_commerce.constructs.python_functions import PythonFunctions

from .helpers import new_stack, template


def _of(app, stack, type_):
    return {k: v for k, v in app.template(stack)["Resources"].items() if v["Type"] == type_}


def test_bus_is_encrypted_and_archived_per_profile(dev_app, prod_app):
    for app, days in ((dev_app, 7), (prod_app, 365)):
        (bus,) = _of(app, "Foundation", "AWS::Events::EventBus").values()
        assert "KmsKeyIdentifier" in bus["Properties"]
        (archive,) = _of(app, "Foundation", "AWS::Events::Archive").values()
        assert archive["Properties"]["RetentionDays"] == days


def test_schema_registry_holds_every_contract(dev_app):
    contracts = load_contracts()
    assert {"OrderPlaced", "OrderStatusChanged", "PaymentAuthorized", "PaymentFailed", "ProductModified",
            "InventoryChanged", "CustomerConsentChanged"} <= set(contracts)
    schemas = _of(dev_app, "Foundation", "AWS::EventSchemas::Schema")
    assert len(schemas) == len(contracts)
    for schema in schemas.values():
        assert schema["Properties"]["Type"] == "JSONSchemaDraft4"
        assert json.loads(schema["Properties"]["Content"]) in contracts.values()


def test_every_rule_target_has_a_dlq_and_retry_policy(dev_app):
    rules = {**_of(dev_app, "Foundation", "AWS::Events::Rule"), **_of(dev_app, "Commerce", "AWS::Events::Rule")}
    assert len(rules) >= 4
    for rule in rules.values():
        for target in rule["Properties"]["Targets"]:
            assert "Arn" in target["DeadLetterConfig"]
            assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] > 0
            assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 2


def test_every_dead_letter_queue_has_an_alarm(dev_app):
    for stack in ("Foundation", "Commerce"):
        queues = _of(dev_app, stack, "AWS::SQS::Queue")
        dlq_ids = {json.dumps({"Fn::GetAtt": [k, "Arn"]}) for k in queues}
        redrive_targets = {json.dumps(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
                           for q in queues.values() if "RedrivePolicy" in q["Properties"]}
        alarmed = {json.dumps(a["Properties"]["Dimensions"][0]["Value"])
                   for a in _of(dev_app, stack, "AWS::CloudWatch::Alarm").values() if "Dimensions" in a["Properties"]}
        dead_letter_names = {json.dumps({"Fn::GetAtt": [json.loads(t)["Fn::GetAtt"][0], "QueueName"]})
                             for t in redrive_targets if json.loads(t)["Fn::GetAtt"]}
        assert redrive_targets <= dlq_ids
        assert dead_letter_names <= alarmed, stack


def test_outbox_pipe_relays_only_outbox_inserts_to_the_bus(dev_app):
    (pipe,) = list(_of(dev_app, "Commerce", "AWS::Pipes::Pipe").values())
    props = pipe["Properties"]
    stream = props["SourceParameters"]["DynamoDBStreamParameters"]
    assert json.loads(props["SourceParameters"]["FilterCriteria"]["Filters"][0]["Pattern"]) == OUTBOX_FILTER
    assert OUTBOX_FILTER["eventName"] == ["INSERT"]
    assert "Arn" in stream["DeadLetterConfig"] and stream["OnPartialBatchItemFailure"] == "AUTOMATIC_BISECT"
    assert props["TargetParameters"]["EventBridgeEventBusParameters"] == {"DetailType": "$.detail_type",
                                                                          "Source": "$.source"}
    assert "Enrichment" in props and "StreamArn" in json.dumps(props["Source"])


def test_pipe_role_puts_only_commerce_sources(dev_app):
    policies = _of(dev_app, "Commerce", "AWS::IAM::ManagedPolicy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
                  if s["Action"] == "events:PutEvents"]
    sources = [s["Condition"]["StringEquals"]["events:source"] for s in statements]
    assert sorted(set(model.EVENT_SOURCES.values())) in sources  # the relay
    assert model.EventSource.OMS in sources  # the example OMS, its own source only
    assert all(s.get("Condition") for s in statements)


def test_oms_handoff_fifo_with_group_per_order_and_dedup_by_event(dev_app):
    queues = _of(dev_app, "Foundation", "AWS::SQS::Queue")
    fifo = [q["Properties"] for q in queues.values() if q["Properties"].get("FifoQueue")]
    assert len(fifo) == 2  # the OMS queue and its FIFO DLQ
    main = next(q for q in fifo if "RedrivePolicy" in q)
    assert main["ContentBasedDeduplication"] is False and "KmsMasterKeyId" in main
    (pipe,) = _of(dev_app, "Foundation", "AWS::Pipes::Pipe").values()
    target = pipe["Properties"]["TargetParameters"]
    assert target["SqsQueueParameters"] == {"MessageGroupId": "$.body.detail.detail.order_id",
                                            "MessageDeduplicationId": "$.body.detail.id"}
    (rule,) = _of(dev_app, "Foundation", "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {"source": ["commerce.orders"], "detail-type": ["OrderPlaced"]}


def test_consumers_report_batch_item_failures(dev_app):
    mappings = _of(dev_app, "Commerce", "AWS::Lambda::EventSourceMapping").values()
    # OMS, order status, consent ledger, audience; the search indexer; the response cache's
    # invalidation; marketing lifecycle, jobs and suppression; recommendation signals,
    # Personalize interactions and the users dataset; Location's geofence events (its nested
    # stack, inlined).
    assert len(mappings) == 13
    assert all(m["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings)


def test_api_destination_only_when_configured(dev_app, prod_app):
    assert _of(dev_app, "Commerce", "AWS::Events::ApiDestination") == {}
    (destination,) = _of(prod_app, "Commerce", "AWS::Events::ApiDestination").values()
    assert destination["Properties"]["InvocationEndpoint"] == "https://cms.example.com/consents"
    stack, prof = new_stack()
    bus = EventBus(stack, "Events", profile=prof, contracts={})
    functions = PythonFunctions(
        stack, "Fns", profile=prof, vpc=None, powertools_layer_arn="arn:aws:lambda:eu-west-1:1:layer:p:1"
    )
    ConsentFanout(stack, "Consents", profile=prof, functions=functions, bus=bus.bus,
                  webhook_url="https://cms.example.com/hook", webhook_rate_per_second=5)
    t = template(stack)
    t.resource_count_is("AWS::Events::ApiDestination", 1)
    t.has_resource_properties("AWS::Events::ApiDestination", {"InvocationRateLimitPerSecond": 5,
                                                              "InvocationEndpoint": "https://cms.example.com/hook"})
    t.resource_count_is("AWS::Events::Connection", 1)
    with pytest.raises(ValueError, match="https://"):
        ConsentFanout(stack, "Bad", profile=prof, functions=functions, bus=bus.bus, webhook_url="http://x")


def test_existing_bus_and_conflict():
    stack, prof = new_stack()
    existing = events.EventBus.from_event_bus_name(stack, "Theirs", "their-bus")
    bus = EventBus(stack, "Events", profile=prof, existing_bus=existing, contracts={"OrderPlaced": {"type": "object"}})
    t = template(stack)
    t.resource_count_is("AWS::Events::EventBus", 0)
    t.resource_count_is("AWS::Events::Archive", 0)
    t.resource_count_is("AWS::EventSchemas::Schema", 1)
    assert bus.bus is existing and bus.archive is None
    with pytest.raises(ValueError, match="existing_bus and bus_props"):
        EventBus(stack, "Events2", profile=prof, existing_bus=existing, bus_props={})


def test_subscribe_puts_everything_in_the_consumer_scope():
    stack, prof = new_stack()
    bus = EventBus(stack, "Events", profile=prof, contracts={})
    fn = lambda_.Function(stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_14, handler="x.handler",
                          code=lambda_.Code.from_inline("def handler(e, c): pass"))
    sub = bus.subscribe(stack, "Sub", detail_types=["OrderPlaced"], consumer=fn)
    assert sub.node.scope is stack and sub.rule.node.path.startswith("Test/Sub")
    t = template(stack)
    t.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": {
        "DEAD_LETTER_QUEUE_URL": {"Ref": stack.get_logical_id(sub.dead_letter_queue.node.default_child)}}}})


def test_rules_follow_the_subscription_table(dev_app):
    from headless_commerce.runtime.events.subscriptions import RULE_CONSUMERS

    patterns = [r["Properties"]["EventPattern"] for r in _of(dev_app, "Commerce", "AWS::Events::Rule").values()
                if "EventPattern" in r["Properties"]]
    for consumer in RULE_CONSUMERS:
        assert {"source": list(consumer.sources), "detail-type": list(consumer.detail_types)} in patterns
    functions = [f["Properties"]["Handler"] for f in _of(dev_app, "Commerce", "AWS::Lambda::Function").values()
                 if f["Properties"].get("Handler", "").startswith("headless_commerce.")]
    from headless_commerce.runtime.events.subscriptions import ALL_HANDLERS
    assert set(ALL_HANDLERS) <= set(functions)
