"""Personalization templates per toggle and profile: the CMK-encrypted ECOMMERCE dataset group,
schemas, datasets, tracker, purchased-items filter; recommenders (custom resource) off in dev
unless asked and on in prod; the SSM parameters the API reads; the consumers and schedules;
least-privilege grants; `-c personalization=false` removing all of it; and the props rules."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk.assertions import Template

from headless_commerce import model
from headless_commerce.app_builder import build
from headless_commerce.constructs.commerce_table import CommerceTable
from headless_commerce.constructs.encryption import EncryptionKey
from headless_commerce.constructs.personalization import EXCLUDE_PURCHASED, Personalization
from headless_commerce.constructs.python_functions import PythonFunctions
from headless_commerce.runtime import settings

from .helpers import new_stack

LAYER = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:1"


def _of(template: dict, type_: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _build(profile: str = "dev", **props):
    stack, prof = new_stack(profile)
    key = EncryptionKey(stack, "Key", profile=prof).key
    table = CommerceTable(stack, "Data", profile=prof, encryption_key=key, dax_enabled=False).table
    functions = PythonFunctions(stack, "Fns", profile=prof, vpc=None, encryption_key=key, powertools_layer_arn=LAYER)
    bus = events.EventBus(stack, "Bus")
    built = Personalization(stack, "Perso", profile=prof, functions=functions, table=table, bus=bus,
                            encryption_key=key, **props)
    api = functions.add("recommendations", handler="headless_commerce.runtime.recommendations.handler.handler",
                        memory_mb=512, timeout_s=10, environment={})
    built.grant_recommend(api)
    return stack, built, Template.from_stack(stack).to_json()


def _recommenders(template: dict) -> dict:
    (resource,) = _of(template, "Custom::PersonalizeRecommenders").values()
    return resource


def test_dataset_group_is_ecommerce_cmk_encrypted_with_three_datasets(dev_app):
    template = dev_app.template("Commerce")
    (group,) = _of(template, "AWS::Personalize::DatasetGroup").values()
    assert group["Properties"]["Domain"] == "ECOMMERCE"
    assert "KmsKeyArn" in group["Properties"] and "RoleArn" in group["Properties"]
    datasets = {d["Properties"]["DatasetType"] for d in _of(template, "AWS::Personalize::Dataset").values()}
    assert datasets == {"Interactions", "Items", "Users"}
    schemas = {json.loads(s["Properties"]["Schema"])["name"]: json.loads(s["Properties"]["Schema"])
               for s in _of(template, "AWS::Personalize::Schema").values()}
    assert {f["name"] for f in schemas["Interactions"]["fields"]} == {"USER_ID", "ITEM_ID", "EVENT_TYPE", "TIMESTAMP"}
    assert {"ITEM_ID", "PRICE", "CATEGORY_L1"} <= {f["name"] for f in schemas["Items"]["fields"]}
    assert all(s["Properties"]["Domain"] == "ECOMMERCE" for s in _of(template, "AWS::Personalize::Schema").values())
    assert len(_of(template, "AWS::Personalize::EventTracker")) == 1
    (filter_,) = _of(template, "AWS::Personalize::Filter").values()
    assert filter_["Properties"]["FilterExpression"] == EXCLUDE_PURCHASED
    assert not [t for t in template["Resources"].values() if t["Type"].startswith("AWS::Pinpoint::")]


def test_the_personalize_role_is_trusted_only_for_this_account(dev_app):
    template = dev_app.template("Commerce")
    roles = [r for r in _of(template, "AWS::IAM::Role").values()
             if "personalize.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])]
    (role,) = roles
    condition = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert "aws:SourceAccount" in condition["StringEquals"] and "aws:SourceArn" in condition["ArnLike"]


def test_dev_creates_no_recommenders_and_prod_does(dev_app, prod_app):
    dev = dev_app.template("Commerce")
    assert _recommenders(dev)["Properties"]["Enabled"] == "false"
    assert not [r for r in _of(dev, "AWS::Events::Rule").values()
                if "reconcile" in json.dumps(r["Properties"].get("Targets", []))]
    prod = prod_app.template("Commerce")
    recommenders = _recommenders(prod)["Properties"]
    assert recommenders["Enabled"] == "true"
    assert [r["Kind"] for r in recommenders["Recommenders"]] == ["for_you", "also_viewed", "bought_together"]
    assert [r for r in _of(prod, "AWS::Events::Rule").values()
            if "reconcile" in json.dumps(r["Properties"].get("Targets", []))]
    # The parameters the API reads start as NONE in both.
    for template in (dev, prod):
        values = {p["Properties"]["Value"] for p in _of(template, "AWS::SSM::Parameter").values()}
        assert values == {"NONE"}


def test_the_recommenders_are_deleted_before_what_they_depend_on():
    stack, built, template = _build()
    (_, resource) = next(iter({k: v for k, v in template["Resources"].items()
                                     if v["Type"] == "Custom::PersonalizeRecommenders"}.items()))
    depends = set(resource["DependsOn"])
    for dependency in (*built.datasets.values(), built.event_tracker, built.filter):
        assert stack.get_logical_id(dependency) in depends
    assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": [
        stack.get_logical_id(built.resources_function.node.default_child), "Arn"]}


def test_recommenders_context_turns_them_on_in_dev_and_toggle_removes_everything():
    on = build({"profile": "dev", "recommenders": "true", "web": "false", "integration": "false"}, compliance=False)
    template = Template.from_stack(on.stacks["Commerce"]).to_json()
    assert _recommenders(template)["Properties"]["Enabled"] == "true"
    off = build({"profile": "dev", "personalization": "false", "web": "false", "integration": "false"},
                compliance=False)
    template = Template.from_stack(off.stacks["Commerce"]).to_json()
    assert not [r for r in template["Resources"].values() if "Personalize" in r["Type"]]
    assert not [r for r in _of(template, "AWS::ApiGateway::Resource").values()
                if r["Properties"]["PathPart"] == "recommendations"]
    handlers = {f["Properties"].get("Handler") for f in _of(template, "AWS::Lambda::Function").values()}
    assert not [h for h in handlers if h and ".recommendations." in h]
    with pytest.raises(ValueError, match="recommenders needs personalization"):
        build({"profile": "dev", "personalization": "false", "recommenders": "true"}, compliance=False)


def test_the_api_function_reads_the_parameters_filter_and_signals(dev_app):
    template = dev_app.template("Commerce")
    (api,) = [f for f in _of(template, "AWS::Lambda::Function").values()
              if f["Properties"].get("Handler", "").endswith("recommendations.handler.handler")]
    variables = api["Properties"]["Environment"]["Variables"]
    assert {settings.RECOMMENDER_PARAMETERS, settings.PERSONALIZE_FILTER_ARN,
            settings.RECOMMENDATION_SIGNALS_TABLE_NAME, settings.TABLE_NAME} <= set(variables)
    paths = {r["Properties"]["PathPart"] for r in _of(template, "AWS::ApiGateway::Resource").values()}
    assert "recommendations" in paths


def test_grants_are_least_privilege():
    stack, built, template = _build()
    statements = [s for p in _of(template, "AWS::IAM::Policy").values()
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]

    def resources_of(action: str) -> list:
        found = [s["Resource"] for s in statements if action in (s["Action"] if isinstance(s["Action"], list)
                                                                 else [s["Action"]])]
        assert found, action
        return found

    assert "*" not in json.dumps(resources_of("personalize:GetRecommendations")).replace(f"{built.name}-*", "")
    assert resources_of("personalize:PutEvents") == [{"Fn::GetAtt": [
        stack.get_logical_id(built.event_tracker), "EventTrackerArn"]}]
    assert resources_of("personalize:PutItems") == [{"Fn::GetAtt": [
        stack.get_logical_id(built.datasets["items"]), "DatasetArn"]}]
    assert resources_of("personalize:PutUsers") == [{"Fn::GetAtt": [
        stack.get_logical_id(built.datasets["users"]), "DatasetArn"]}]
    assert resources_of("personalize:ListRecommenders") == ["*"]    # no resource-level permission
    assert "ssm:PutParameter" not in json.dumps([s for s in statements if "GetRecommendations" in json.dumps(s)])


def test_signals_table_has_the_score_index_and_ttl():
    _, _, template = _build()
    (table,) = [t for t in _of(template, "AWS::DynamoDB::GlobalTable").values()
                if "LocalSecondaryIndexes" in t["Properties"]]
    (index,) = table["Properties"]["LocalSecondaryIndexes"]
    assert index["IndexName"] == model.SIGNALS_BY_SCORE
    assert {"AttributeName": model.SIGNALS_SCORE, "KeyType": "RANGE"} in index["KeySchema"]
    assert table["Properties"]["TimeToLiveSpecification"]["AttributeName"] == model.SIGNALS_TTL_ATTRIBUTE
    assert "SSESpecification" in table["Properties"]


def test_existing_signals_table_and_props_rules():
    stack, _ = new_stack()
    theirs = dynamodb.TableV2.from_table_name(stack, "Theirs", "their-signals")
    with pytest.raises(ValueError, match="existing_signals_table and signals_table_props"):
        _build(existing_signals_table=theirs, signals_table_props={"table_name": "x"})
    with pytest.raises(ValueError, match="cannot change sort_key"):
        _build(signals_table_props={"sort_key": dynamodb.Attribute(name="x", type=dynamodb.AttributeType.STRING)})
    with pytest.raises(ValueError, match="min_recommendation_requests_per_second"):
        _build(min_recommendation_requests_per_second=0)
    _, _, template = _build(existing_signals_table=None, recommenders=True, min_recommendation_requests_per_second=3)
    recommenders = _recommenders(template)["Properties"]["Recommenders"]
    assert {r["MinRecommendationRequestsPerSecond"] for r in recommenders} == {"3"}


def test_an_imported_signals_table_is_used_as_is():
    stack, prof = new_stack()
    key = EncryptionKey(stack, "Key", profile=prof).key
    table = CommerceTable(stack, "Data", profile=prof, encryption_key=key, dax_enabled=False).table
    functions = PythonFunctions(stack, "Fns", profile=prof, vpc=None, encryption_key=key, powertools_layer_arn=LAYER)
    theirs = dynamodb.TableV2.from_table_name(stack, "Theirs", "their-signals")
    built = Personalization(stack, "Perso", profile=prof, functions=functions, table=table,
                            bus=events.EventBus(stack, "Bus"), encryption_key=key, existing_signals_table=theirs)
    template = Template.from_stack(stack).to_json()
    assert built.signals.table is theirs
    assert not [t for t in _of(template, "AWS::DynamoDB::GlobalTable").values()
                if "LocalSecondaryIndexes" in t["Properties"]]
    consumer = template["Resources"][stack.get_logical_id(built.signals.consumer.node.default_child)]
    variables = consumer["Properties"]["Environment"]["Variables"]
    assert variables[settings.RECOMMENDATION_SIGNALS_TABLE_NAME] == "their-signals"


def test_the_users_dataset_holds_no_personal_data_and_profile_changes_feed_it():
    stack, built, template = _build()
    (users,) = [json.loads(s["Properties"]["Schema"]) for s in _of(template, "AWS::Personalize::Schema").values()
                if json.loads(s["Properties"]["Schema"])["name"] == "Users"]
    assert {f["name"] for f in users["fields"]} == {"USER_ID", "LOCALE", "COUNTRY"}
    env = template["Resources"][stack.get_logical_id(built.users_consumer.node.default_child)]["Properties"][
        "Environment"]["Variables"]
    assert env[settings.PERSONALIZE_USERS_DATASET_ARN] == {"Fn::GetAtt": [
        stack.get_logical_id(built.datasets["users"]), "DatasetArn"]}
    changed = [model.EventName.CUSTOMER_PROFILE_CHANGED]
    (rule,) = [r for r in _of(template, "AWS::Events::Rule").values()
               if r["Properties"].get("EventPattern", {}).get("detail-type") == changed]
    assert rule["Properties"]["EventPattern"]["source"] == [model.EventSource.CUSTOMERS]
    # The consumer reads profiles (GetItem) and writes nothing to the table.
    role = template["Resources"][stack.get_logical_id(built.users_consumer.node.default_child)]["Properties"][
        "Role"]["Fn::GetAtt"][0]
    actions = {a for p in _of(template, "AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
               for s in p["Properties"]["PolicyDocument"]["Statement"]
               for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]) if a.startswith("dynamodb:")}
    assert actions == {"dynamodb:GetItem"}
