"""Constructs that compose: every dependency can be an imported resource (one test per
`existing_*` path), props the runtime depends on cannot be overridden, and every parameter is
documented with its default."""

from __future__ import annotations

import inspect
import json

import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs

import headless_commerce
from headless_commerce.constructs.app_tier import AppTier
from headless_commerce.constructs.commerce_table import CommerceTable
from headless_commerce.constructs.consent_fanout import ConsentFanout
from headless_commerce.constructs.encryption import EncryptionKey
from headless_commerce.constructs.network import Network
from headless_commerce.constructs.oms_handoff import OmsHandoff
from headless_commerce.constructs.order_events import OrderEvents
from headless_commerce.constructs.python_functions import PythonFunctions
from headless_commerce.runtime import routes

from .helpers import new_stack, template

LAYER = "arn:aws:lambda:eu-west-1:017000801446:layer:Powertools:1"
KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
POOL_ARN = "arn:aws:cognito-idp:eu-west-1:111111111111:userpool/eu-west-1_Theirs"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:theirs-AbCdEf"
BUS_ARN = "arn:aws:events:eu-west-1:111111111111:event-bus/theirs"


def _imports(stack):
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "TheirVpc",
        vpc_id="vpc-1",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        private_subnet_ids=["subnet-1", "subnet-2"],
    )
    key = kms.Key.from_key_arn(stack, "TheirKey", KEY_ARN)
    table = dynamodb.TableV2.from_table_attributes(
        stack, "TheirTable", table_name="their-table", encryption_key=key,
        table_stream_arn="arn:aws:dynamodb:eu-west-1:111111111111:table/their-table/stream/2026")
    return vpc, key, table


def test_app_tier_runs_on_imported_pool_vpc_key_table_and_secret():
    stack, prof = new_stack()
    vpc, key, table = _imports(stack)
    pool = cognito.UserPool.from_user_pool_arn(stack, "TheirPool", POOL_ARN)
    secret = secretsmanager.Secret.from_secret_complete_arn(stack, "TheirSecret", SECRET_ARN)
    tier = AppTier(stack, "App", profile=prof, user_pool=pool, vpc=vpc, encryption_key=key, existing_table=table,
                   existing_payment_secret=secret, powertools_layer_arn=LAYER)
    t = template(stack)
    for type_ in ("AWS::Cognito::UserPool", "AWS::DynamoDB::GlobalTable", "AWS::KMS::Key",
                  "AWS::SecretsManager::Secret", "AWS::EC2::VPC"):
        t.resource_count_is(type_, 0)
    (authorizer,) = t.find_resources("AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["ProviderARNs"] == [POOL_ARN]
    functions = t.find_resources("AWS::Lambda::Function")
    checkout = next(f for f in functions.values() if f["Properties"]["Handler"] == routes.FUNCTIONS["checkout"].handler)
    assert checkout["Properties"]["Environment"]["Variables"]["PAYMENT_SECRET_ARN"] == SECRET_ARN
    assert checkout["Properties"]["VpcConfig"]["SubnetIds"] == ["subnet-1", "subnet-2"]
    assert checkout["Properties"]["KmsKeyArn"] == KEY_ARN
    # A pool defined elsewhere gets the trigger from its owner: the function is exposed for that.
    assert tier.post_confirmation is not None and tier.table is table


def test_app_tier_attaches_the_trigger_to_a_pool_of_this_app():
    from headless_commerce.constructs.identity import Identity

    stack, prof = new_stack()
    identity = Identity(stack, "Identity", profile=prof)
    AppTier(stack, "App", profile=prof, user_pool=identity.user_pool, powertools_layer_arn=LAYER)
    (pool,) = template(stack).find_resources("AWS::Cognito::UserPool").values()
    assert "PostConfirmation" in pool["Properties"]["LambdaConfig"]


def test_event_consumers_run_on_an_imported_bus_and_table():
    stack, prof = new_stack()
    _vpc, key, table = _imports(stack)
    bus = events.EventBus.from_event_bus_arn(stack, "TheirBus", BUS_ARN)
    functions = PythonFunctions(stack, "Fns", profile=prof, vpc=None, powertools_layer_arn=LAYER)
    oms_queue = sqs.Queue.from_queue_arn(stack, "TheirOms", "arn:aws:sqs:eu-west-1:111111111111:oms.fifo")
    oms_dlq = sqs.Queue.from_queue_arn(stack, "TheirOmsDlq", "arn:aws:sqs:eu-west-1:111111111111:oms-dlq.fifo")
    OrderEvents(stack, "Orders", functions=functions, table=table, bus=bus, oms_queue=oms_queue,
                oms_dead_letter_queue=oms_dlq, encryption_key=key)
    ConsentFanout(stack, "Consents", profile=prof, functions=functions, bus=bus, encryption_key=key,
                  profile_table=table)
    t = template(stack)
    t.resource_count_is("AWS::Events::EventBus", 0)
    rules = t.find_resources("AWS::Events::Rule").values()
    assert rules and all(r["Properties"]["EventBusName"] == "theirs" for r in rules)
    assert BUS_ARN in json.dumps(t.find_resources("AWS::IAM::Policy"))


def test_encryption_key_existing_path_and_conflict():
    stack, prof = new_stack()
    theirs = kms.Key.from_key_arn(stack, "Theirs", KEY_ARN)
    assert EncryptionKey(stack, "Key", profile=prof, existing_key=theirs).key is theirs
    template(stack).resource_count_is("AWS::KMS::Key", 0)
    with pytest.raises(ValueError, match="existing_key and key_props"):
        EncryptionKey(stack, "Key2", profile=prof, existing_key=theirs, key_props={})


def test_oms_handoff_existing_queue_path():
    stack, _prof = new_stack()
    bus = events.EventBus.from_event_bus_arn(stack, "TheirBus", BUS_ARN)
    theirs = sqs.Queue.from_queue_arn(stack, "Theirs", "arn:aws:sqs:eu-west-1:111111111111:their-oms.fifo")
    handoff = OmsHandoff(stack, "Oms", bus=bus, existing_queue=theirs)
    assert handoff.queue is theirs
    (pipe,) = template(stack).find_resources("AWS::Pipes::Pipe").values()
    assert pipe["Properties"]["Target"] == theirs.queue_arn


def test_commerce_table_existing_path():
    stack, prof = new_stack()
    _, _, table = _imports(stack)
    assert CommerceTable(stack, "Data", profile=prof, existing_table=table).table is table
    template(stack).resource_count_is("AWS::DynamoDB::GlobalTable", 0)


@pytest.mark.parametrize("prop,value", [
    ("partition_key", dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING)),
    ("sort_key", None),
    ("dynamo_stream", dynamodb.StreamViewType.KEYS_ONLY),
    ("time_to_live_attribute", "expires"),
    ("global_secondary_indexes", []),
])
def test_table_props_cannot_change_what_the_runtime_depends_on(prop, value):
    stack, prof = new_stack()
    with pytest.raises(ValueError, match=f"table_props cannot change {prop}"):
        CommerceTable(stack, "Data", profile=prof, table_props={prop: value})
    # Anything else still overrides the defaults.
    CommerceTable(stack, "Ok", profile=prof, table_props={"table_name": "shop-data"})
    template(stack).has_resource_properties("AWS::DynamoDB::GlobalTable", {"TableName": "shop-data"})


def test_fifo_settings_and_subnets_are_locked_too():
    stack, prof = new_stack()
    bus = events.EventBus.from_event_bus_arn(stack, "TheirBus", BUS_ARN)
    with pytest.raises(ValueError, match="queue_props cannot change content_based_deduplication, fifo"):
        OmsHandoff(stack, "Oms", bus=bus, queue_props={"fifo": False, "content_based_deduplication": True})
    with pytest.raises(ValueError, match="vpc_props cannot change subnet_configuration"):
        Network(stack, "Net", profile=prof, vpc_props={"subnet_configuration": []})


def _construct_classes():
    from constructs import Construct

    for name in headless_commerce.__all__:
        value = getattr(headless_commerce, name)
        if inspect.isclass(value) and issubclass(value, Construct) and ".constructs." in value.__module__:
            yield value


@pytest.mark.parametrize("cls", list(_construct_classes()), ids=lambda c: c.__name__)
def test_every_parameter_is_documented_with_its_default(cls):
    doc = inspect.getdoc(cls) or ""
    parameters = [p for p in inspect.signature(cls.__init__).parameters.values()
                  if p.kind is inspect.Parameter.KEYWORD_ONLY]
    undocumented = [p.name for p in parameters if f"`{p.name}`" not in doc]
    assert not undocumented, f"{cls.__name__} docstring does not document {undocumented}"
    if any(p.default is not inspect.Parameter.empty for p in parameters):
        assert "default" in doc.lower(), cls.__name__
