"""The Chatbot construct: a Lex V2 bot (Bot, BotVersion, BotAlias; no other Lex type) built from
the shared intent definition with its fallback intent, the alias's code hook on the fulfillment
function with an invoke permission for that alias only, RecognizeText granted on the alias only,
the new, existing and conflict paths, and `-c chatbot=false` leaving nothing behind."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Duration
from aws_cdk import aws_secretsmanager as secretsmanager

from headless_commerce.constructs.chatbot import Chatbot
from headless_commerce.runtime import settings
from headless_commerce.runtime.chatbot import intents
from headless_commerce.runtime.chatbot.names import FULFILLMENT_HANDLER
from tests.unit.helpers import commerce_base, resources_of, template


@pytest.fixture(scope="module")
def built():
    base = commerce_base()
    bot = Chatbot(base.stack, "Chat", profile=base.profile, functions=base.functions, table=base.table,
                  encryption_key=base.key)
    api_fn = base.functions.add("chat", handler="headless_commerce.runtime.chatbot.handler.handler",
                                memory_mb=256, timeout_s=10, environment={})
    bot.connect(api_fn)
    return bot, template(base.stack).to_json()


def _logical_id(tmpl: dict, type_: str) -> str:
    (found,) = resources_of(tmpl, type_)
    return found


def _fulfillment_id(tmpl: dict) -> str:
    (found,) = [k for k, v in resources_of(tmpl, "AWS::Lambda::Function").items()
                if v["Properties"].get("Handler") == FULFILLMENT_HANDLER]
    return found


def test_only_lex_v2_bot_version_and_alias(built):
    _, tmpl = built
    lex_types = sorted(v["Type"] for v in tmpl["Resources"].values() if v["Type"].startswith("AWS::Lex"))
    assert lex_types == ["AWS::Lex::Bot", "AWS::Lex::BotAlias", "AWS::Lex::BotVersion"]


def test_bot_locale_is_the_shared_intent_definition_with_a_fallback_intent(built):
    _, tmpl = built
    bot = tmpl["Resources"][_logical_id(tmpl, "AWS::Lex::Bot")]["Properties"]
    assert bot["DataPrivacy"] == {"ChildDirected": False}
    assert bot["IdleSessionTTLInSeconds"] == 600 and bot["AutoBuildBotLocales"] is True
    (locale,) = bot["BotLocales"]
    assert locale["LocaleId"] == "en_US" and locale["NluConfidenceThreshold"] == intents.NLU_CONFIDENCE_THRESHOLD
    by_name = {intent["Name"]: intent for intent in locale["Intents"]}
    assert by_name["FallbackIntent"]["ParentIntentSignature"] == "AMAZON.FallbackIntent"
    assert set(by_name) == {i.name for i in intents.INTENTS} | {"FallbackIntent"}
    for intent in intents.INTENTS:
        built_intent = by_name[intent.name]
        assert [u["Utterance"] for u in built_intent["SampleUtterances"]] == list(intent.utterances)
        assert built_intent["FulfillmentCodeHook"] == {"Enabled": True}
        assert [(s["Name"], s["SlotTypeName"]) for s in built_intent.get("Slots", [])] == \
            [(s.name, s.slot_type) for s in intent.slots]
        for slot, built_slot in zip(intent.slots, built_intent.get("Slots", []), strict=True):
            setting = built_slot["ValueElicitationSetting"]
            assert setting["SlotConstraint"] == "Required"
            assert setting["PromptSpecification"]["MessageGroupsList"][0]["Message"]["PlainTextMessage"]["Value"] \
                == slot.prompt
    assert {t["Name"]: t["ValueSelectionSetting"]["ResolutionStrategy"] for t in locale["SlotTypes"]} == \
        {t.name: "ORIGINAL_VALUE" for t in intents.SLOT_TYPES}


def test_version_from_draft_alias_code_hook_and_a_permission_for_that_alias_only(built):
    _, tmpl = built
    bot_id, version_id, alias_id = (_logical_id(tmpl, t) for t in
                                    ("AWS::Lex::Bot", "AWS::Lex::BotVersion", "AWS::Lex::BotAlias"))
    version = tmpl["Resources"][version_id]["Properties"]
    assert version["BotId"] == {"Fn::GetAtt": [bot_id, "Id"]}
    assert version["BotVersionLocaleSpecification"] == [
        {"LocaleId": "en_US", "BotVersionLocaleDetails": {"SourceBotVersion": "DRAFT"}}]
    alias = tmpl["Resources"][alias_id]["Properties"]
    assert alias["BotVersion"] == {"Fn::GetAtt": [version_id, "BotVersion"]}
    fulfillment = _fulfillment_id(tmpl)
    (setting,) = alias["BotAliasLocaleSettings"]
    assert setting["LocaleId"] == "en_US" and setting["BotAliasLocaleSetting"]["Enabled"] is True
    assert setting["BotAliasLocaleSetting"]["CodeHookSpecification"]["LambdaCodeHook"] == {
        "LambdaArn": {"Fn::GetAtt": [fulfillment, "Arn"]}, "CodeHookInterfaceVersion": "1.0"}
    permissions = [p["Properties"] for p in resources_of(tmpl, "AWS::Lambda::Permission").values()
                   if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [fulfillment, "Arn"]}]
    assert permissions == [{"Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": [fulfillment, "Arn"]},
                            "Principal": "lexv2.amazonaws.com", "SourceAccount": {"Ref": "AWS::AccountId"},
                            "SourceArn": {"Fn::GetAtt": [alias_id, "Arn"]}}]


def test_the_bot_role_is_for_lex_on_this_accounts_bots_only(built):
    _, tmpl = built
    role_id = tmpl["Resources"][_logical_id(tmpl, "AWS::Lex::Bot")]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    role = tmpl["Resources"][role_id]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "lexv2.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "ManagedPolicyArns" not in role and "Policies" not in role


def _statements_of_role(tmpl: dict, role_id: str) -> list[dict]:
    return [s for p in {**resources_of(tmpl, "AWS::IAM::Policy"), **resources_of(tmpl, "AWS::IAM::ManagedPolicy")
                        }.values() if {"Ref": role_id} in p["Properties"].get("Roles", [])
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_connect_grants_recognize_text_on_the_alias_and_sets_the_environment(built):
    _, tmpl = built
    (_, api_fn), = [(k, v) for k, v in resources_of(tmpl, "AWS::Lambda::Function").items()
                         if v["Properties"].get("Handler") == "headless_commerce.runtime.chatbot.handler.handler"]
    env = api_fn["Properties"]["Environment"]["Variables"]
    alias_id = _logical_id(tmpl, "AWS::Lex::BotAlias")
    assert env[settings.LEX_BOT_ALIAS_ID] == {"Fn::GetAtt": [alias_id, "BotAliasId"]}
    assert env[settings.LEX_BOT_ID] == {"Fn::GetAtt": [_logical_id(tmpl, "AWS::Lex::Bot"), "Id"]}
    assert env[settings.LEX_LOCALE_ID] == "en_US" and settings.CHAT_SESSION_SECRET_ARN in env
    role_id = api_fn["Properties"]["Role"]["Fn::GetAtt"][0]
    lex_statements = [s for s in _statements_of_role(tmpl, role_id) if "lex" in json.dumps(s["Action"])]
    assert lex_statements == [{"Action": "lex:RecognizeText", "Effect": "Allow",
                               "Resource": {"Fn::GetAtt": [alias_id, "Arn"]}}]
    # The fulfillment function reads the table (GetItem: the owner check) and nothing else of it.
    fulfillment_role = tmpl["Resources"][_fulfillment_id(tmpl)]["Properties"]["Role"]["Fn::GetAtt"][0]
    dynamo_actions = {a for s in _statements_of_role(tmpl, fulfillment_role)
                      for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
                      if a.startswith("dynamodb:")}
    assert dynamo_actions == {"dynamodb:GetItem"}


def test_existing_session_secret_is_used_and_conflicts_and_bad_values_raise():
    base = commerce_base()
    secret = secretsmanager.Secret.from_secret_name_v2(base.stack, "Existing", "chat-key")
    bot = Chatbot(base.stack, "Chat", profile=base.profile, functions=base.functions, table=base.table,
                  encryption_key=base.key, existing_session_secret=secret)
    assert bot.session_secret is secret
    assert not resources_of(template(base.stack).to_json(), "AWS::SecretsManager::Secret")
    cases = [
        ({"existing_session_secret": secret, "session_secret_props": {"description": "x"}},
         "existing_session_secret and session_secret_props"),
        ({"bot_props": {"name": "mine", "role_arn": "arn"}}, "cannot change name, role_arn"),
        ({"nlu_confidence_threshold": 1.5}, "nlu_confidence_threshold"),
        ({"idle_session_ttl": Duration.seconds(30)}, "idle_session_ttl"),
    ]
    for number, (kwargs, message) in enumerate(cases):
        with pytest.raises(ValueError, match=message):
            Chatbot(base.stack, f"Bad{number}", profile=base.profile, functions=base.functions, table=base.table,
                    encryption_key=base.key, **kwargs)


def test_bot_props_override_defaults():
    base = commerce_base()
    Chatbot(base.stack, "Chat", profile=base.profile, functions=base.functions, table=base.table,
            encryption_key=base.key, idle_session_ttl=Duration.minutes(5),
            bot_props={"description": "Our assistant"})
    tmpl = template(base.stack).to_json()
    bot = tmpl["Resources"][_logical_id(tmpl, "AWS::Lex::Bot")]["Properties"]
    assert bot["Description"] == "Our assistant" and bot["IdleSessionTTLInSeconds"] == 300


def test_reference_app_has_the_bot_and_the_chat_routes(dev_app):
    commerce = dev_app.template("Commerce")
    assert len(resources_of(commerce, "AWS::Lex::Bot")) == 1
    paths = {r["Properties"].get("PathPart") for r in resources_of(commerce, "AWS::ApiGateway::Resource").values()}
    assert "chat" in paths


def test_chatbot_off_leaves_no_bot_function_or_route(tmp_path):
    from headless_commerce.app_builder import build

    reference = build({"chatbot": "false", "web": "false", "edge": "false", "integration": "false",
                       "search": "false", "personalization": "false", "marketing": "false"},
                      outdir=str(tmp_path), compliance=False)
    reference.app.synth()
    commerce = json.loads((tmp_path / f"{reference.stacks['Commerce'].stack_name}.template.json").read_text())
    assert not [r for r in commerce["Resources"].values() if r["Type"].startswith("AWS::Lex")]
    handlers = {f["Properties"].get("Handler", "") for f in resources_of(commerce, "AWS::Lambda::Function").values()}
    assert not [h for h in handlers if ".chatbot." in h]
    paths = {r["Properties"].get("PathPart") for r in resources_of(commerce, "AWS::ApiGateway::Resource").values()}
    assert "chat" not in paths
