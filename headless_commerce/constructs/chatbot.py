"""Chatbot: an Amazon Lex V2 bot (en_US) built from the one intent definition
(runtime/chatbot/intents.py) that local mode's matcher also uses, a version cut from DRAFT, a
`live` alias whose code hook is the fulfillment function, and the key that signs anonymous chat
session ids. `connect(fn)` lets the POST /chat function talk to the alias.

Cost: nothing while idle except the session key's secret (about $0.40/month) and the functions'
alarms; Lex bills per request (text: $0.00075 each, us-east-1), the fulfillment Lambda per
invocation.
"""

from __future__ import annotations

import hashlib
import json

from aws_cdk import Aws, Duration, Names, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lex as lex
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .. import config
from ..runtime import settings, table_permissions
from ..runtime.chatbot import intents
from ..runtime.chatbot.names import FULFILLMENT_FUNCTION, FULFILLMENT_HANDLER
from . import _defaults as defaults
from ._iam import grant_table_actions, service_role, source_arn_pattern
from ._nag import acknowledge
from ._props import check_exclusive, merge
from .encryption import EncryptionKey
from .python_functions import PythonFunctions

ALIAS_NAME = "live"
# The Lambda code-hook interface Lex V2 sends (messageVersion of the event).
CODE_HOOK_INTERFACE_VERSION = "1.0"
MAX_RETRIES = 2


def _message(text: str) -> dict:
    return {"message": {"plainTextMessage": {"value": text}}}


def _slots(intent: intents.Intent) -> dict:
    if not intent.slots:
        return {}
    return {
        "slots": [{
            "name": slot.name, "slotTypeName": slot.slot_type,
            "valueElicitationSetting": {
                "slotConstraint": "Required",
                "promptSpecification": {"messageGroupsList": [_message(slot.prompt)],
                                        "maxRetries": MAX_RETRIES, "allowInterrupt": True},
            },
        } for slot in intent.slots],
        "slotPriorities": [{"priority": index + 1, "slotName": slot.name} for index, slot in enumerate(intent.slots)],
    }


def bot_locale(nlu_confidence_threshold: float = intents.NLU_CONFIDENCE_THRESHOLD) -> dict:
    """The en_US locale (lex.CfnBot.BotLocaleProperty, in the camel case jsii reads nested
    structs in) from the shared intent definition: every intent is fulfilled by the code hook;
    Lex asks for a missing slot with the prompt the local matcher uses; slot types keep the value
    as typed."""
    slot_types = [{
        "name": slot_type.name, "description": slot_type.description,
        "valueSelectionSetting": {"resolutionStrategy": "ORIGINAL_VALUE"},
        "slotTypeValues": [{"sampleValue": {"value": value}} for value in slot_type.sample_values],
    } for slot_type in intents.SLOT_TYPES]
    built = [{
        "name": intent.name, "description": intent.description,
        "sampleUtterances": [{"utterance": utterance} for utterance in intent.utterances],
        "fulfillmentCodeHook": {"enabled": True}, **_slots(intent),
    } for intent in intents.INTENTS]
    # Lex refuses a bot without it; the code hook answers with the same fallback text as locally.
    built.append({"name": intents.FALLBACK_INTENT, "description": "Anything the bot does not understand",
                  "parentIntentSignature": "AMAZON.FallbackIntent", "fulfillmentCodeHook": {"enabled": True}})
    return {"localeId": intents.LOCALE_ID, "nluConfidenceThreshold": nlu_confidence_threshold,
            "description": "Shop assistant (text)", "slotTypes": slot_types, "intents": built}


class Chatbot(Construct):
    """Public attributes: `bot` (lex.CfnBot), `bot_version` (lex.CfnBotVersion), `bot_alias`
    (lex.CfnBotAlias, `live`), `role` (the bot's role), `fulfillment` (the code-hook function),
    `session_secret` (signs anonymous chat session ids), `locale_id`.
    `connect(fn)` wires the POST /chat function: the alias to call, RecognizeText on that alias
    only, and read access to the session secret.

    Parameters: `profile`; `functions` (the PythonFunctions factory); `table`
    (dynamodb.ITableV2, the commerce table: order status reads); `encryption_key` (default None:
    a new CMK, for the session secret); `nlu_confidence_threshold` (default 0.40: below it Lex
    answers with the fallback intent; 0..1); `idle_session_ttl` (default 10 minutes, 1 minute to
    24 hours: how long Lex keeps an idle conversation); `bot_props` (default None: overrides
    `_defaults.chatbot_bot` key by key, lex.CfnBot props in snake case; name, role, locales and
    bot file are locked); `existing_session_secret` or `session_secret_props` (default: a new
    64-character generated secret encrypted with the key).
    """

    def __init__(self, scope: Construct, id: str, *, profile: config.Profile, functions: PythonFunctions,
                 table: dynamodb.ITableV2, encryption_key: kms.IKey | None = None,
                 nlu_confidence_threshold: float = intents.NLU_CONFIDENCE_THRESHOLD,
                 idle_session_ttl: Duration = Duration.minutes(10), bot_props: dict | None = None,
                 existing_session_secret: secretsmanager.ISecret | None = None,
                 session_secret_props: dict | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_session_secret=existing_session_secret,
                        session_secret_props=session_secret_props)
        if not 0 <= nlu_confidence_threshold <= 1:
            raise ValueError(f"Chatbot: nlu_confidence_threshold must be 0..1, got {nlu_confidence_threshold}")
        if not 60 <= idle_session_ttl.to_seconds() <= 86_400:
            raise ValueError("Chatbot: idle_session_ttl must be 1 minute to 24 hours (Lex V2's range)")
        self.locale_id = intents.LOCALE_ID
        key = encryption_key or EncryptionKey(self, "Key", profile=profile).key
        self.key = key

        self.role = service_role(self, "BotRole", service="lexv2.amazonaws.com",
                                 source_arn=source_arn_pattern("lex", "bot/*"),
                                 description="Amazon Lex V2 runs the shop assistant bot (text only: no Polly, "
                                             "no Comprehend)")
        locale = bot_locale(nlu_confidence_threshold)
        ttl = {"idle_session_ttl_in_seconds": int(idle_session_ttl.to_seconds())}
        props = merge({**defaults.chatbot_bot(profile), **ttl}, bot_props, locked=defaults.CHATBOT_BOT_LOCKED,
                      owner=type(self).__name__, props_name="bot_props")
        # Lex bot names allow letters, digits and single - or _ between them; 100 at most.
        name = f"{Stack.of(self).stack_name}-{Names.unique_id(self)[-8:]}"
        self.bot = lex.CfnBot(self, "Bot", name=name, role_arn=self.role.role_arn, bot_locales=[locale], **props)
        # A version is a snapshot of DRAFT: a new one is cut whenever the definition changes
        # (the id carries its hash), and the alias moves to it.
        digest = hashlib.sha256(json.dumps(locale, sort_keys=True).encode()).hexdigest()[:10]
        self.bot_version = lex.CfnBotVersion(
            self, f"Version{digest}", bot_id=self.bot.attr_id, description=f"Definition {digest}",
            bot_version_locale_specification=[{"localeId": self.locale_id,
                                               "botVersionLocaleDetails": {"sourceBotVersion": "DRAFT"}}])

        self.fulfillment = functions.add(
            FULFILLMENT_FUNCTION, handler=FULFILLMENT_HANDLER, memory_mb=256, timeout_s=10,
            environment={settings.TABLE_NAME: table.table_name})
        grant_table_actions(table, self.fulfillment, table_permissions.actions_for(FULFILLMENT_FUNCTION))
        self.bot_alias = lex.CfnBotAlias(
            self, "Alias", bot_id=self.bot.attr_id, bot_alias_name=ALIAS_NAME,
            bot_version=self.bot_version.attr_bot_version,
            description="What POST /chat talks to; its code hook fulfills every intent",
            bot_alias_locale_settings=[{"localeId": self.locale_id, "botAliasLocaleSetting": {
                "enabled": True,
                "codeHookSpecification": {"lambdaCodeHook": {
                    "lambdaArn": self.fulfillment.function_arn,
                    "codeHookInterfaceVersion": CODE_HOOK_INTERFACE_VERSION}}}}])
        # Only this alias may invoke the code hook (not the test alias, not another bot).
        self.fulfillment.add_permission("LexAliasInvoke", principal=iam.ServicePrincipal("lexv2.amazonaws.com"),
                                        action="lambda:InvokeFunction", source_arn=self.bot_alias.attr_arn,
                                        source_account=Aws.ACCOUNT_ID)

        if existing_session_secret is not None:
            self.session_secret: secretsmanager.ISecret = existing_session_secret
        else:
            secret = secretsmanager.Secret(self, "SessionKey", encryption_key=key, **merge({
                "description": "Signs anonymous chat session ids (HMAC-SHA256 key)",
                "generate_secret_string": secretsmanager.SecretStringGenerator(exclude_punctuation=True,
                                                                               password_length=64),
            }, session_secret_props, owner=type(self).__name__, props_name="session_secret_props"))
            reason = ("Signs anonymous chat session ids that expire within 24 hours; replacing the value only "
                      "restarts open anonymous conversations, and no other system holds a copy to rotate in step.")
            acknowledge(secret, "AwsSolutions-SMG4", reason)
            acknowledge(secret, "PCI.DSS.321-SecretsManagerRotationEnabled", reason)
            self.session_secret = secret

    @property
    def alias_arn(self) -> str:
        return self.bot_alias.attr_arn

    def connect(self, fn: lambda_.Function) -> None:
        """Let the chat API function ask the bot: the alias to call, RecognizeText on that alias
        only (the session id carries no trust: the function derives it), and the session key."""
        fn.add_environment(settings.LEX_BOT_ID, self.bot.attr_id)
        fn.add_environment(settings.LEX_BOT_ALIAS_ID, self.bot_alias.attr_bot_alias_id)
        fn.add_environment(settings.LEX_LOCALE_ID, self.locale_id)
        fn.add_environment(settings.CHAT_SESSION_SECRET_ARN, self.session_secret.secret_arn)
        fn.add_to_role_policy(iam.PolicyStatement(actions=["lex:RecognizeText"], resources=[self.alias_arn]))
        self.session_secret.grant_read(fn)
