"""The Marketing construct and its toggles in the templates: no Pinpoint anywhere; SES with a
configuration set whose bounces and complaints reach the suppression consumer; Scheduler
schedules putting audience jobs on a queue; SMS resources only behind `marketing_sms`;
`-c marketing=false` leaves nothing of it behind; exact permissions."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk.assertions import Match

from headless_commerce import model
from headless_commerce.config import ConfigError, from_context
from headless_commerce.constructs.marketing import Campaign, Marketing, SmsOptions
from headless_commerce.constructs.python_functions import PythonFunctions
from headless_commerce.runtime.marketing import names
from tests.unit.helpers import new_stack, template

LAYER = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:1"


def _of(app, type_: str, stack: str = "Commerce") -> dict:
    return {k: v for k, v in app.template(stack)["Resources"].items() if v["Type"] == type_}


def _statements(app, role_id: str) -> list[dict]:
    return [s for p in _of(app, "AWS::IAM::ManagedPolicy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _function(app, handler: str) -> tuple[str, dict]:
    (found,) = [(k, f) for k, f in _of(app, "AWS::Lambda::Function").items()
                if f["Properties"].get("Handler") == handler]
    return found


def test_no_pinpoint_resource_in_any_stack(dev_app, prod_app):
    for app in (dev_app, prod_app):
        for stack in app.reference.stacks:
            types = {r["Type"] for r in app.template(stack)["Resources"].values()}
            assert not [t for t in types if t.startswith("AWS::Pinpoint")], stack


def test_bounces_and_complaints_flow_from_ses_to_the_suppression_consumer(dev_app):
    (set_id, config_set), = _of(dev_app, "AWS::SES::ConfigurationSet").items()
    assert config_set["Properties"]["DeliveryOptions"] == {"TlsPolicy": "REQUIRE"}
    (destination,) = _of(dev_app, "AWS::SES::ConfigurationSetEventDestination").values()
    assert destination["Properties"]["ConfigurationSetName"] == {"Ref": set_id}
    event = destination["Properties"]["EventDestination"]
    assert sorted(event["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert event["EventBridgeDestination"]["EventBusArn"]["Fn::Join"][1][-1] == ":event-bus/default"
    (rule,) = [r for r in _of(dev_app, "AWS::Events::Rule").values()
               if r["Properties"].get("EventPattern", {}).get("source") == [names.SES_SOURCE]]
    assert sorted(rule["Properties"]["EventPattern"]["detail-type"]) == sorted(names.SES_DETAIL_TYPES)
    assert rule["Properties"]["EventBusName"] == "default"     # where SES publishes
    _fn_id, fn = _function(dev_app, names.SUPPRESSION_HANDLER)
    role_id = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    table_actions = {a for s in _statements(dev_app, role_id) for a in _actions(s) if a.startswith("dynamodb:")}
    assert table_actions == {"dynamodb:PutItem"}      # suppressions are only ever added


def _actions(statement: dict) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


def test_senders_send_only_as_the_configured_address_and_read_consent_from_the_profile(prod_app):
    for handler in ("headless_commerce.runtime.marketing.lifecycle.handler", names.JOBS_HANDLER):
        _fn_id, fn = _function(prod_app, handler)
        env = fn["Properties"]["Environment"]["Variables"]
        assert env["MARKETING_EMAIL_FROM"] == "no-reply@shop.example.com"
        assert env["MARKETING_SMS_ORIGINATION_IDENTITY"].startswith("arn:aws:sms-voice:")
        assert "MARKETING_API_URL" in env and "MARKETING_UNSUBSCRIBE_SECRET_ARN" in env
        statements = _statements(prod_app, fn["Properties"]["Role"]["Fn::GetAtt"][0])
        (send,) = [s for s in statements if "ses:SendEmail" in _actions(s)]
        assert send["Condition"] == {"StringEquals": {"ses:FromAddress": "no-reply@shop.example.com"}}
        assert all("*" not in json.dumps(r) or "identity/" in json.dumps(r) for r in send["Resource"])
        (sms,) = [s for s in statements if "sms-voice:SendTextMessage" in _actions(s)]
        assert env["MARKETING_SMS_ORIGINATION_IDENTITY"] in sms["Resource"]
        commerce = [s for s in statements if any(a.startswith("dynamodb:") for a in _actions(s))
                    and any("AppTierData" in json.dumps(r) for r in _list(s["Resource"]))]
        reads = {a for s in commerce if "Condition" not in s for a in _actions(s)}
        assert reads <= {"dynamodb:GetItem", "dynamodb:BatchGetItem"}, reads
        # The one write: clearing a push endpoint SNS disabled, on customer items only.
        (clear,) = [s for s in commerce if "Condition" in s]
        assert _actions(clear) == ["dynamodb:UpdateItem"]
        assert clear["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CUSTOMER#*"]}}


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_schedules_put_jobs_on_the_queue_with_a_role_only_scheduler_may_assume(dev_app):
    (schedule,) = _of(dev_app, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "rate(1 hour)" and props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    body = json.loads(props["Target"]["Input"])
    assert body == {"job": "abandoned_cart", "id": "abandoned-cart", "run": "<aws.scheduler.scheduled-time>"}
    assert "Arn" in props["Target"]["DeadLetterConfig"] and props["KmsKeyArn"]
    role_id = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
    role = dev_app.template("Commerce")["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    actions = sorted(a for s in _statements(dev_app, role_id) for a in _actions(s))
    assert actions == ["kms:Decrypt", "kms:GenerateDataKey", "sqs:SendMessage"]
    jobs_fn_id, _jobs_fn = _function(dev_app, names.JOBS_HANDLER)
    (mapping,) = [m["Properties"] for m in _of(dev_app, "AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["FunctionName"] == {"Ref": jobs_fn_id}]
    assert mapping["BatchSize"] == 1 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_unsubscribe_route_is_public_and_its_function_reads_only_the_signing_key(dev_app):
    methods = [m["Properties"] for m in _of(dev_app, "AWS::ApiGateway::Method").values()
               if m["Properties"].get("OperationName") in ("getSubscription", "unsubscribe")]
    assert sorted(m["HttpMethod"] for m in methods) == ["GET", "POST"]
    assert all(m["AuthorizationType"] == "NONE" for m in methods)
    _fn_id, fn = _function(dev_app, "headless_commerce.runtime.marketing.unsubscribe.handler")
    secret_ref = fn["Properties"]["Environment"]["Variables"]["MARKETING_UNSUBSCRIBE_SECRET_ARN"]
    (_key_id,) = [k for k in _of(dev_app, "AWS::SecretsManager::Secret") if {"Ref": k} == secret_ref]
    statements = _statements(dev_app, fn["Properties"]["Role"]["Fn::GetAtt"][0])
    assert {a for s in statements for a in _actions(s) if a.startswith("secretsmanager:")} == {
        "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}


def test_marketing_false_creates_none_of_it(tmp_path):
    from headless_commerce.app_builder import build

    reference = build({"marketing": "false", "web": "false", "edge": "false", "integration": "false",
                       "search": "false"}, outdir=str(tmp_path), compliance=False)
    reference.app.synth()
    commerce = json.loads((tmp_path / f"{reference.stacks['Commerce'].stack_name}.template.json").read_text())
    types = {r["Type"] for r in commerce["Resources"].values()}
    assert not types & {"AWS::SES::ConfigurationSet", "AWS::Scheduler::Schedule", "AWS::Scheduler::ScheduleGroup",
                        "AWS::SMSVOICE::PhoneNumber"}
    handlers = {f["Properties"].get("Handler", "") for f in commerce["Resources"].values()
                if f["Type"] == "AWS::Lambda::Function"}
    assert not [h for h in handlers if ".marketing." in h and not h.endswith("audience.handler")]
    paths = {r["Properties"].get("PathPart") for r in commerce["Resources"].values()
             if r["Type"] == "AWS::ApiGateway::Resource"}
    assert "unsubscribe" not in paths
    assert reference.stacks["Commerce"].marketing is None


def _construct(profile: str = "dev", **kwargs):
    stack, prof = new_stack(profile)
    functions = PythonFunctions(stack, "Functions", profile=prof, vpc=None, powertools_layer_arn=LAYER)
    bus = events.EventBus(stack, "Bus")
    commerce = dynamodb.TableV2(stack, "Commerce", partition_key=dynamodb.Attribute(
        name="pk", type=dynamodb.AttributeType.STRING))
    audience = dynamodb.TableV2(stack, "Audience", partition_key=dynamodb.Attribute(
        name=model.AUDIENCE_PARTITION_KEY, type=dynamodb.AttributeType.STRING))
    marketing = Marketing(stack, "Marketing", profile=prof, functions=functions, bus=bus, commerce_table=commerce,
                          audience_table=audience, api_url="https://api.example.com/v1/", **kwargs)
    return stack, marketing


def test_sms_toggle_requests_a_simulator_number_with_an_opt_out_list():
    stack, _marketing = _construct(sms=SmsOptions(), email_from="shop@example.com")
    t = template(stack)
    t.has_resource_properties("AWS::SMSVOICE::PhoneNumber", {
        "NumberType": "SIMULATOR", "NumberCapabilities": ["SMS"], "IsoCountryCode": "US",
        "OptOutListName": {"Ref": Match.string_like_regexp("MarketingSmsOptOutList")},
        "MandatoryKeywords": {"STOP": Match.any_value(), "HELP": Match.any_value()}})
    t.resource_count_is("AWS::SMSVOICE::ConfigurationSet", 1)
    without = template(_construct(email_from="shop@example.com")[0])
    for type_ in ("AWS::SMSVOICE::PhoneNumber", "AWS::SMSVOICE::OptOutList", "AWS::SMSVOICE::ConfigurationSet"):
        without.resource_count_is(type_, 0)


def test_a_registered_origination_identity_replaces_the_number():
    arn = "arn:aws:sms-voice:eu-west-1:111111111111:pool/pool-abc"
    stack, marketing = _construct(sms=SmsOptions(origination_identity=arn))
    t = template(stack)
    t.resource_count_is("AWS::SMSVOICE::PhoneNumber", 0)
    assert marketing.phone_number is None
    t.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like(
        {"MARKETING_SMS_ORIGINATION_IDENTITY": arn})}})


def test_campaigns_become_schedules_in_their_time_zone():
    stack, marketing = _construct(campaigns=[Campaign("spring-sale", "cron(0 9 ? * MON *)", "Spring sale",
                                                      "Hi {name}", timezone="Europe/Paris")])
    assert set(marketing.schedules) == {"abandoned-cart", "spring-sale"}
    template(stack).has_resource_properties("AWS::Scheduler::Schedule", {
        "ScheduleExpression": "cron(0 9 ? * MON *)", "ScheduleExpressionTimezone": "Europe/Paris",
        "Target": Match.object_like({"Input": Match.serialized_json(Match.object_like(
            {"job": "campaign", "id": "spring-sale", "channel": "email", "subject": "Spring sale"}))})})


@pytest.mark.parametrize("kwargs,message", [
    ({"campaigns": [Campaign("bad id!", "rate(1 day)", "s", "t")]}, "campaign id"),
    ({"campaigns": [Campaign("abandoned-cart", "rate(1 day)", "s", "t")]}, "campaign id"),
    ({"campaigns": [Campaign("a", "every monday", "s", "t")]}, "schedule"),
    ({"campaigns": [Campaign("a", "rate(1 day)", "s", "t", channel="fax")]}, "channel"),
    ({"campaigns": [Campaign("a", "rate(1 day)", "s", "t"), Campaign("a", "rate(2 days)", "s", "t")]}, "unique"),
    ({"abandoned_cart_hours": 0}, "abandoned_cart_hours"),
    ({"email_from": "not-an-address"}, "email_from"),
    ({"sms": SmsOptions(origination_identity="+14155550100")}, "origination_identity"),
    ({"existing_table": "placeholder", "table_props": {}}, "existing_table and table_props"),
])
def test_wrong_props_raise_one_value_error(kwargs, message):
    if "existing_table" in kwargs:
        stack, _ = new_stack()
        kwargs = {**kwargs, "existing_table": dynamodb.TableV2.from_table_name(stack, "Other", "other")}
    with pytest.raises(ValueError, match=message):
        _construct(**kwargs)


def test_existing_table_is_used_as_it_is():
    stack, prof = new_stack()
    existing = dynamodb.TableV2.from_table_name(stack, "Kept", "kept-marketing")
    functions = PythonFunctions(stack, "Functions", profile=prof, vpc=None, powertools_layer_arn=LAYER)
    table = dynamodb.TableV2(stack, "Commerce",
                             partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING))
    audience = dynamodb.TableV2(stack, "Audience", partition_key=dynamodb.Attribute(
        name="channel", type=dynamodb.AttributeType.STRING))
    marketing = Marketing(stack, "Marketing", profile=prof, functions=functions, bus=events.EventBus(stack, "Bus"),
                          commerce_table=table, audience_table=audience, api_url="https://api.example.com/v1/",
                          existing_table=existing)
    assert marketing.table is existing
    t = template(stack)
    t.resource_count_is("AWS::DynamoDB::GlobalTable", 2)     # the commerce and audience tables only
    t.has_resource_properties("AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like(
        {"MARKETING_TABLE_NAME": "kept-marketing"})}})


APNS_APP = "arn:aws:sns:us-east-1:123456789012:app/APNS/shop"
GCM_APP = "arn:aws:sns:us-east-1:123456789012:app/GCM/shop"


def test_push_registration_gets_exactly_the_endpoint_actions_of_its_applications():
    stack, marketing = _construct(push_platform_application_arns=[APNS_APP, GCM_APP])
    assert marketing.push_applications == {"APNS": APNS_APP, "GCM": GCM_APP}
    customers = PythonFunctions(stack, "Api", profile=marketing._profile, vpc=None, powertools_layer_arn=LAYER).add(
        "customers", handler="headless_commerce.runtime.customers.handler.handler", memory_mb=256, timeout_s=10,
        environment={})
    marketing.grant_push_registration(customers)
    t = template(stack)
    resources = t.to_json()["Resources"]
    (fn,) = [f for f in resources.values() if f["Type"] == "AWS::Lambda::Function"
             and f["Properties"]["Handler"].startswith("headless_commerce.runtime.customers")]
    env = fn["Properties"]["Environment"]["Variables"]
    assert json.loads(env["PUSH_PLATFORM_APPLICATIONS"]) == {"APNS": APNS_APP, "GCM": GCM_APP}
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [s for r in resources.values() if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
                  and {"Ref": role} in r["Properties"].get("Roles", [])
                  for s in r["Properties"]["PolicyDocument"]["Statement"]]
    sns = {tuple(_actions(s)): s["Resource"] for s in statements if _actions(s)[0].startswith("sns:")}
    assert sns == {("sns:CreatePlatformEndpoint",): [APNS_APP, GCM_APP],
                   ("sns:SetEndpointAttributes", "sns:DeleteEndpoint"): [
                       "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/shop/*",
                       "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/shop/*"]}


def test_without_push_applications_registration_gets_nothing():
    stack, marketing = _construct()
    fn = PythonFunctions(stack, "Api", profile=marketing._profile, vpc=None, powertools_layer_arn=LAYER).add(
        "customers", handler="headless_commerce.runtime.customers.handler.handler", memory_mb=256, timeout_s=10,
        environment={})
    marketing.grant_push_registration(fn)
    assert "sns:" not in json.dumps(template(stack).to_json())
    assert "PUSH_PLATFORM_APPLICATIONS" not in json.dumps(template(stack).to_json())


@pytest.mark.parametrize("arns,message", [
    (["arn:aws:sns:us-east-1:123456789012:mytopic"], "literal ARN of an SNS platform application"),
    (["arn:aws:sns:us-east-1:123456789012:app/WNS/shop"], "APNS, APNS_SANDBOX, GCM"),
    ([APNS_APP, APNS_APP.replace("/shop", "/other")], "two push platform applications for APNS"),
])
def test_wrong_push_applications_raise(arns, message):
    with pytest.raises(ValueError, match=message):
        _construct(push_platform_application_arns=arns)


@pytest.mark.parametrize("context,message", [
    ({"marketing": "false", "marketing_sms": "true"}, "marketing_sms needs marketing"),
    ({"sms_origination_identity": "arn:aws:sms-voice:us-east-1:123456789012:pool/pool-1"}, "only with"),
    ({"marketing_sms": "true", "sms_origination_identity": "+14155550100"}, "ARN of an End User Messaging"),
])
def test_config_refuses_inconsistent_sms_settings(context, message):
    with pytest.raises(ConfigError, match=message):
        from_context(context)


def test_prod_sms_needs_a_registered_identity():
    from tests.conftest import PROD_CONTEXT

    context = {k: v for k, v in PROD_CONTEXT.items() if k != "sms_origination_identity"}
    with pytest.raises(ConfigError, match="simulator number reaches no real phone"):
        from_context(context)
    assert from_context(PROD_CONTEXT).sms_origination_identity.startswith("arn:aws:sms-voice:")
