"""CustomerConsentChanged fan-out: the append-only consent ledger, the marketing audience and,
when configured, a third-party CMS/marketing system through an EventBridge API destination.
Each target fails independently into its own dead-letter queue."""

from __future__ import annotations

from aws_cdk import Aws, Duration, SecretValue, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .. import model
from ..config import Profile
from ..runtime import settings, table_permissions
from ..runtime.consents import webhook_key_sync
from ..runtime.events.subscriptions import CONSENT_LEDGER, MARKETING_AUDIENCE, Consumer
from ._iam import grant_table_actions, service_role, source_arn_pattern
from ._nag import acknowledge
from ._queues import dead_letter_alarm, dead_letter_queue
from ._tables import secure_table
from .event_bus import EventSubscription
from .python_functions import PythonFunctions

WEBHOOK_API_KEY_HEADER = "x-api-key"
KEY_SYNC_HANDLER = "headless_commerce.runtime.consents.webhook_key_sync.handler"
CONSENT_PATTERN = events.EventPattern(source=[model.EventSource.CUSTOMERS],
                                      detail_type=[model.EventName.CUSTOMER_CONSENT_CHANGED])


class ConsentFanout(Construct):
    """`ledger_table`, `audience_table`, `ledger`, `audience` (functions), `subscriptions`, and
    when `webhook_url` is given `api_destination`, `connection`, `connection_secret` and
    `key_sync` (the function that copies a changed key from the secret into the connection).

    Parameters: `profile`; `functions` (the factory that builds the consumers); `bus`
    (events.IEventBus: ours or an imported one; the bus); `encryption_key` (default None:
    AWS-managed keys); `profile_table` (default None: the audience keeps no contact details);
    `webhook_url` (default None: no third-party webhook;
    https only); `webhook_rate_per_second` (default 10).

    Operators put the third party's key in `connection_secret` (a plain string); within five
    minutes `key_sync` puts it on the connection and labels that secret version
    `SYNCED_TO_CONNECTION`.
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, functions: PythonFunctions,
                 bus: events.IEventBus, encryption_key: kms.IKey | None = None,
                 profile_table: dynamodb.ITableV2 | None = None, webhook_url: str | None = None,
                 webhook_rate_per_second: int = 10) -> None:
        super().__init__(scope, id)
        if webhook_url is not None and not webhook_url.startswith("https://"):
            raise ValueError(f"ConsentFanout: webhook_url must be an https:// URL, got {webhook_url!r}")
        self.ledger_table = secure_table(self, "LedgerTable", definition=model.consent_ledger_table_kwargs(),
                                         profile=profile, encryption_key=encryption_key)
        self.audience_table = secure_table(self, "AudienceTable", definition=model.audience_table_kwargs(),
                                           profile=profile, encryption_key=encryption_key)
        self.ledger = functions.add(CONSENT_LEDGER.name, handler=CONSENT_LEDGER.handler, memory_mb=256,
                                    timeout_s=30,
                                    environment={settings.CONSENT_LEDGER_TABLE_NAME: self.ledger_table.table_name})
        # Append-only: the ledger writer may add history, never change or delete it.
        grant_table_actions(self.ledger_table, self.ledger, ["dynamodb:PutItem"])
        audience_env = {settings.AUDIENCE_TABLE_NAME: self.audience_table.table_name}
        if profile_table is not None:
            # Contact details are copied from the profile, never carried on the bus.
            audience_env[settings.TABLE_NAME] = profile_table.table_name
        self.audience = functions.add(MARKETING_AUDIENCE.name, handler=MARKETING_AUDIENCE.handler, memory_mb=256,
                                      timeout_s=30, environment=audience_env)
        # Membership items are read, put and (opt-out) rewritten by key; nothing is queried.
        grant_table_actions(self.audience_table, self.audience, ["dynamodb:GetItem", "dynamodb:PutItem"])
        if profile_table is not None:
            grant_table_actions(profile_table, self.audience,
                                table_permissions.actions_for(MARKETING_AUDIENCE.name))
        self.subscriptions = {
            consumer.name: self._subscribe(bus, consumer, fn, encryption_key)
            for consumer, fn in ((CONSENT_LEDGER, self.ledger), (MARKETING_AUDIENCE, self.audience))
        }
        self.api_destination: events.ApiDestination | None = None
        self.connection_secret: secretsmanager.Secret | None = None
        if webhook_url:
            self._add_api_destination(bus, functions, encryption_key, webhook_url, webhook_rate_per_second)

    def _subscribe(self, bus: events.IEventBus, consumer: Consumer, fn, key: kms.IKey | None):
        return EventSubscription(self, f"{consumer.name.title().replace('_', '')}Subscription", bus=bus, consumer=fn,
                                 detail_types=list(consumer.detail_types), sources_=list(consumer.sources),
                                 encryption_key=key)

    def _add_api_destination(self, bus: events.IEventBus, functions: PythonFunctions, key: kms.IKey | None,
                             url: str, rate: int) -> None:
        # The operator pastes the third party's API key here; EventBridge copies it into the connection.
        self.connection_secret = secretsmanager.Secret(
            self, "ConnectionSecret", encryption_key=key,
            description="API key for the third-party consent webhook",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True))
        reason = ("A third party issues this API key; no rotation Lambda can mint it, so operators "
                  "replace the value when the provider rolls it.")
        acknowledge(self.connection_secret, "AwsSolutions-SMG4", reason)
        acknowledge(self.connection_secret, "PCI.DSS.321-SecretsManagerRotationEnabled", reason)
        connection = events.Connection(
            self, "Connection", description="Third-party consent webhook",
            authorization=events.Authorization.api_key(
                WEBHOOK_API_KEY_HEADER, SecretValue.secrets_manager(self.connection_secret.secret_arn)))
        self.api_destination = events.ApiDestination(
            self, "Destination", connection=connection, endpoint=url,
            http_method=events.HttpMethod.POST, rate_limit_per_second=rate,
            description="CustomerConsentChanged to the third-party CMS")
        dead_letters = dead_letter_queue(self, "WebhookDeadLetters", key=key)
        rule = events.Rule(self, "WebhookRule", event_bus=bus, event_pattern=CONSENT_PATTERN,
                           description="CustomerConsentChanged to the third-party CMS")
        # The rule invokes the destination with this role; only EventBridge rules of this
        # account may assume it.
        invoke_role = service_role(self, "WebhookInvokeRole", service="events.amazonaws.com",
                                   source_arn=source_arn_pattern("events", "rule/*"),
                                   description="EventBridge invokes the consent webhook API destination")
        rule.add_target(targets.ApiDestination(self.api_destination, dead_letter_queue=dead_letters,
                                               event_role=invoke_role,
                                               max_event_age=Duration.hours(24), retry_attempts=185,
                                               event=events.RuleTargetInput.from_event_path("$.detail")))
        self.webhook_alarm = dead_letter_alarm(self, "WebhookDeadLetterAlarm", dead_letters, "the consent webhook")
        self.connection = connection
        self._add_key_sync(functions, connection, key)

    def _add_key_sync(self, functions: PythonFunctions, connection: events.Connection, key: kms.IKey | None) -> None:
        """CloudFormation resolves the connection's secret reference only when the Connection
        changes, so a key the operator puts in the secret later would never reach EventBridge.
        `key_sync` copies each new secret version into the connection (runtime module
        consents/webhook_key_sync.py): every 5 minutes, and at once on the CloudTrail event of
        a change where a trail delivers management events."""
        secret = self.connection_secret
        self.key_sync = functions.add(
            "consent_webhook_key_sync", handler=KEY_SYNC_HANDLER, memory_mb=256, timeout_s=30,
            invoked_synchronously=False,
            environment={webhook_key_sync.ENV_CONNECTION_NAME: connection.connection_name,
                         webhook_key_sync.ENV_SECRET_ARN: secret.secret_arn,
                         webhook_key_sync.ENV_API_KEY_HEADER: WEBHOOK_API_KEY_HEADER})
        secret.grant_read(self.key_sync)
        self.key_sync.add_to_role_policy(iam.PolicyStatement(
            actions=["secretsmanager:UpdateSecretVersionStage"], resources=[secret.secret_arn]))
        self.key_sync.add_to_role_policy(iam.PolicyStatement(
            actions=["events:UpdateConnection"], resources=[connection.connection_arn]))
        # EventBridge keeps the connection's credentials in a secret it manages, named after the
        # connection; UpdateConnection writes it with the caller's permissions.
        managed = (f"arn:{Aws.PARTITION}:secretsmanager:{Aws.REGION}:{Aws.ACCOUNT_ID}:secret:"
                   f"events!connection/{connection.connection_name}/*")
        self.key_sync.add_to_role_policy(iam.PolicyStatement(
            actions=["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                     "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret"], resources=[managed]))
        acknowledge(
            self.key_sync.role,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:"
            f"<AWS::AccountId>:secret:events!connection/<{_logical_id(connection, events.CfnConnection)}>/*]",
            "EventBridge names the secret holding a connection's credentials with a random suffix; "
            "the wildcard covers only the secret of this one connection.",
        )
        dead_letters = dead_letter_queue(self, "KeySyncScheduleDeadLetters", key=key)
        self.key_sync_rules = [
            events.Rule(self, "KeySyncSchedule", schedule=events.Schedule.rate(Duration.minutes(5)),
                        description="Copy a changed consent webhook API key into its connection"),
            events.Rule(self, "KeySyncOnChange", description="Consent webhook API key changed",
                        event_pattern=events.EventPattern(
                            source=["aws.secretsmanager"], detail_type=["AWS API Call via CloudTrail"],
                            detail={"eventSource": ["secretsmanager.amazonaws.com"],
                                    "eventName": ["PutSecretValue", "UpdateSecret"],
                                    "requestParameters": {"secretId": [secret.secret_arn, secret.secret_name]}})),
        ]
        for rule in self.key_sync_rules:
            rule.add_target(targets.LambdaFunction(self.key_sync, dead_letter_queue=dead_letters,
                                                   retry_attempts=2, max_event_age=Duration.minutes(5)))
        self.key_sync_alarm = dead_letter_alarm(self, "KeySyncDeadLetterAlarm", dead_letters,
                                                "the consent webhook key sync")


def _logical_id(construct: Construct, cfn_type: type) -> str:
    (cfn,) = [c for c in construct.node.children if isinstance(c, cfn_type)]
    return Stack.of(cfn).get_logical_id(cfn)
