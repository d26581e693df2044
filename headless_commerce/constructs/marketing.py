"""Marketing: consent-driven messages without Amazon Pinpoint (its engagement features reached
end of support on 2026-10-30).

Audiences are ours: the membership table `ConsentFanout` keeps from CustomerConsentChanged.
Messages go out through SES (email), AWS End User Messaging (SMS, `AWS::SMSVOICE::*`, behind
`sms` because it needs an origination identity) and SNS mobile push endpoints; campaigns and
the abandoned-cart check are EventBridge Scheduler schedules that put audience jobs on a queue.
Every send re-checks consent, suppression and the at-most-once record (runtime/marketing/).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import jsii
from aws_cdk import Annotations, Aws, Duration, Stack, TimeZone, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from aws_cdk import aws_smsvoice as smsvoice
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import model
from ..config import Profile
from ..runtime import routes, settings, table_permissions
from ..runtime.events.subscriptions import MARKETING_LIFECYCLE
from ..runtime.marketing import names
from ._iam import grant_send, grant_table_actions, service_role, source_arn_pattern
from ._nag import acknowledge
from ._props import check_exclusive
from ._queues import consume, dead_letter_alarm, dead_letter_queue, work_queue
from ._tables import acknowledge_dev_pitr, secure_table
from .event_bus import EventSubscription
from .python_functions import PythonFunctions

_CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_SCHEDULE = re.compile(r"^(rate|cron|at)\(.+\)$")
_EMAIL = re.compile(r"^[^@\s]+@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")
_PLATFORM_APPLICATION = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:app/([A-Z_]+)/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Campaign:
    """A scheduled message to everyone opted in on `channel`. `schedule`: an EventBridge
    Scheduler expression (`cron(0 9 ? * MON *)`, `rate(7 days)`, `at(2026-12-01T09:00:00)`) in
    `timezone`; `{name}` in `text` becomes the customer's given name."""
    id: str
    schedule: str
    subject: str
    text: str
    channel: str = "email"
    timezone: str = "UTC"


@dataclass(frozen=True)
class SmsOptions:
    """SMS through AWS End User Messaging. `origination_identity`: the ARN of a registered phone
    number, pool or sender ID to send from; None requests a `number_type` number in
    `iso_country_code` (default SIMULATOR: reaches only the simulator destination numbers, with
    no carrier and no registration, until a registered identity is given)."""
    origination_identity: str | None = None
    iso_country_code: str = "US"
    number_type: str = "SIMULATOR"


class Marketing(Construct):
    """`table` (suppressions and delivery records), `unsubscribe_secret`, `configuration_set`
    (SES, with `event_destination` of bounces and complaints), `lifecycle`, `jobs` and
    `suppression` (functions), `jobs_queue`, `schedule_group`, `schedules` (by id:
    `abandoned-cart` and each campaign), `subscriptions`, and with SMS `sms_configuration_set`,
    `opt_out_list`, `phone_number` (None when an origination identity is given), and
    `push_applications` ({platform: SNS platform application ARN}).

    Parameters: `profile`; `functions` (the PythonFunctions factory); `bus` (events.IEventBus,
    the commerce bus: OrderPlaced and CustomerConsentChanged); `commerce_table`
    (dynamodb.ITableV2: profiles and carts, read only); `audience_table` (dynamodb.ITableV2:
    ConsentFanout's membership, queried); `api_url` (required: the public API base that
    unsubscribe links point at); `email_from` (default None: no e-mail is sent and synth warns;
    an address verified in SES); `encryption_key` (default None: AWS-managed keys);
    `existing_table` or `table_props` (default: a new table); `campaigns` (default none);
    `abandoned_cart_hours` (default 24); `abandoned_cart_schedule` (default `rate(1 hour)`);
    `sms` (default None: no SMS resources, SMS consent is recorded but nothing is sent);
    `push_platform_application_arns` (default none: push is not configured and
    `PUT /me/push-device` answers 422; SNS platform applications, at most one per platform of
    APNS, APNS_SANDBOX and GCM, whose endpoints the senders may publish to and under which
    `grant_push_registration(fn)` lets the customers function register devices).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, functions: PythonFunctions,
                 bus: events.IEventBus, commerce_table: dynamodb.ITableV2, audience_table: dynamodb.ITableV2,
                 api_url: str, email_from: str | None = None, encryption_key: kms.IKey | None = None,
                 existing_table: dynamodb.ITableV2 | None = None, table_props: dict | None = None,
                 campaigns: Sequence[Campaign] = (), abandoned_cart_hours: int = 24,
                 abandoned_cart_schedule: str = "rate(1 hour)", sms: SmsOptions | None = None,
                 push_platform_application_arns: Sequence[str] = ()) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_table=existing_table, table_props=table_props)
        _validate(email_from, campaigns, abandoned_cart_hours, abandoned_cart_schedule, sms)
        self.push_applications = _push_applications(push_platform_application_arns)
        self._key = encryption_key
        self._profile = profile
        if existing_table is not None:
            self.table: dynamodb.ITableV2 = existing_table
        else:
            self.table = secure_table(self, "Table", definition=model.marketing_table_kwargs(), profile=profile,
                                      encryption_key=encryption_key, **(table_props or {}))
            if not profile.point_in_time_recovery:
                acknowledge_dev_pitr(self.table)
        self.unsubscribe_secret = secretsmanager.Secret(
            self, "UnsubscribeKey", encryption_key=encryption_key,
            description="Signs one-click unsubscribe links (HMAC-SHA256 key)",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True,
                                                                        password_length=64))
        # Kept in prod (links in sent messages must keep working), destroyed with a dev stack.
        self.unsubscribe_secret.apply_removal_policy(profile.removal_policy)
        reason = ("Signs unsubscribe links that must keep working in every message already sent; "
                  "rotating it would break them, so it is replaced only deliberately.")
        acknowledge(self.unsubscribe_secret, "AwsSolutions-SMG4", reason)
        acknowledge(self.unsubscribe_secret, "PCI.DSS.321-SecretsManagerRotationEnabled", reason)

        self.configuration_set = ses.ConfigurationSet(
            self, "ConfigurationSet", tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
            reputation_metrics=True, suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS)
        # SES publishes email events to the account's default bus only.
        default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        self.event_destination = ses.ConfigurationSetEventDestination(
            self, "BouncesAndComplaints", configuration_set=self.configuration_set,
            destination=ses.EventDestination.event_bus(default_bus),
            events=[ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT])

        if not email_from:
            # Info, not a warning: a dev deploy without a sender is legitimate (the compliance
            # gate reports warnings as findings).
            Annotations.of(self).add_info(
                "Marketing has no e-mail sender (-c email_from=<address verified in SES>): e-mail messages "
                "are recorded as channel_unavailable and not sent.")
        self.sms_configuration_set = self.opt_out_list = self.phone_number = None
        sms_identity = self._add_sms(sms, profile) if sms is not None else None
        sender_env = {
            settings.MARKETING_TABLE_NAME: self.table.table_name,
            settings.MARKETING_API_URL: api_url,
            settings.MARKETING_UNSUBSCRIBE_SECRET_ARN: self.unsubscribe_secret.secret_arn,
            settings.MARKETING_SES_CONFIGURATION_SET: self.configuration_set.configuration_set_name,
            settings.TABLE_NAME: commerce_table.table_name,
            **({settings.MARKETING_EMAIL_FROM: email_from} if email_from else {}),
            **({settings.MARKETING_SMS_ORIGINATION_IDENTITY: sms_identity,
                settings.MARKETING_SMS_CONFIGURATION_SET: self.sms_configuration_set.ref} if sms_identity else {}),
        }
        self.lifecycle = functions.add(MARKETING_LIFECYCLE.name, handler=MARKETING_LIFECYCLE.handler,
                                       memory_mb=256, timeout_s=30, environment=dict(sender_env))
        self.jobs_dead_letter_queue = dead_letter_queue(self, "JobsDeadLetters", key=encryption_key)
        self.jobs_queue = work_queue(self, "Jobs", key=encryption_key, dead_letter=self.jobs_dead_letter_queue,
                                     visibility_timeout=Duration.minutes(12))
        self.jobs = functions.add(names.JOBS_FUNCTION, handler=names.JOBS_HANDLER, memory_mb=256, timeout_s=120,
                                  environment={
            **sender_env, settings.AUDIENCE_TABLE_NAME: audience_table.table_name,
            settings.MARKETING_JOBS_QUEUE_URL: self.jobs_queue.queue_url,
            settings.DEAD_LETTER_QUEUE_URL: self.jobs_dead_letter_queue.queue_url,
            settings.MARKETING_ABANDONED_CART_HOURS: str(abandoned_cart_hours)})
        # One page per invocation: each page gets the whole timeout and its own retries.
        consume(self.jobs_queue, self.jobs, batch_size=1)
        grant_send(self.jobs_queue, self.jobs)
        grant_send(self.jobs_dead_letter_queue, self.jobs)
        self.jobs_alarm = dead_letter_alarm(self, "JobsDeadLetterAlarm", self.jobs_dead_letter_queue,
                                            "marketing audience jobs")
        # The audience table has no index, so no `/index/*` grant (grant_table_actions adds one for Query).
        iam.Grant.add_to_principal(grantee=self.jobs, actions=["dynamodb:Query"],
                                   resource_arns=[audience_table.table_arn])
        if audience_table.encryption_key is not None:
            audience_table.encryption_key.grant(self.jobs, "kms:Decrypt")
        for fn in (self.lifecycle, self.jobs):
            self._grant_sender(fn, commerce_table, email_from, sms_identity, sorted(self.push_applications.values()))

        self.suppression = functions.add(names.SUPPRESSION_FUNCTION, handler=names.SUPPRESSION_HANDLER, memory_mb=256,
                                         timeout_s=30,
                                         environment={settings.MARKETING_TABLE_NAME: self.table.table_name})
        # Suppressions are only ever added.
        grant_table_actions(self.table, self.suppression, ["dynamodb:PutItem"])
        self.subscriptions = {
            MARKETING_LIFECYCLE.name: EventSubscription(
                self, "LifecycleSubscription", bus=bus, detail_types=list(MARKETING_LIFECYCLE.detail_types),
                sources_=list(MARKETING_LIFECYCLE.sources), consumer=self.lifecycle, encryption_key=encryption_key),
            names.SUPPRESSION_FUNCTION: EventSubscription(
                self, "SuppressionSubscription", bus=default_bus,
                detail_types=list(names.SES_DETAIL_TYPES), sources_=[names.SES_SOURCE],
                consumer=self.suppression, encryption_key=encryption_key),
        }
        self._add_schedules(campaigns, abandoned_cart_schedule)

    # ---- sending ------------------------------------------------------------------------------

    def _grant_sender(self, fn: lambda_.Function, commerce_table: dynamodb.ITableV2, email_from: str | None,
                      sms_identity: str | None, push_arns: Sequence[str]) -> None:
        actions = table_permissions.actions_for(fn.node.id)
        grant_table_actions(commerce_table, fn, [a for a in actions if a != table_permissions.UPDATE])
        if table_permissions.UPDATE in actions:
            # Only to clear a push endpoint SNS disabled from the customer's profile.
            grant_table_actions(commerce_table, fn, [table_permissions.UPDATE],
                                leading_key_prefix=table_permissions.CUSTOMER_KEY_PREFIX)
        # Suppression lookups, delivery claims (conditional put), release and the sent mark.
        grant_table_actions(self.table, fn, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                             "dynamodb:DeleteItem"])
        self.unsubscribe_secret.grant_read(fn)
        if email_from:
            identities = [_identity_arn(email_from), _identity_arn(email_from.split("@", 1)[1])]
            configuration_set = (f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:configuration-set/"
                                 f"{self.configuration_set.configuration_set_name}")
            fn.add_to_role_policy(iam.PolicyStatement(
                actions=["ses:SendEmail"], resources=[*identities, configuration_set],
                conditions={"StringEquals": {"ses:FromAddress": email_from}}))
        if sms_identity:
            fn.add_to_role_policy(iam.PolicyStatement(
                actions=["sms-voice:SendTextMessage"],
                resources=[r for r in (sms_identity, self.sms_configuration_set.attr_arn,
                                       self.opt_out_list.attr_arn if self.opt_out_list else None) if r]))
        if push_arns:
            fn.add_to_role_policy(iam.PolicyStatement(
                actions=["sns:Publish"], resources=[_endpoints_of(arn) for arn in push_arns]))
            for arn in push_arns:
                acknowledge(fn.role, f"AwsSolutions-IAM5[Resource::{_endpoints_of(arn)}]",
                            "SNS names each device endpoint of a platform application with a random id; the "
                            "wildcard covers only the endpoints of this one application.")

    def grant_push_registration(self, fn: lambda_.Function) -> None:
        """Let the `/me/push-device` route's function (AppTier's `customers`) create, re-enable
        and delete device endpoints of the push platform applications; nothing without them."""
        if not self.push_applications:
            return
        fn.add_environment(settings.PUSH_PLATFORM_APPLICATIONS,
                           Stack.of(self).to_json_string(dict(sorted(self.push_applications.items()))))
        arns = sorted(self.push_applications.values())
        fn.add_to_role_policy(iam.PolicyStatement(actions=["sns:CreatePlatformEndpoint"], resources=arns))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["sns:SetEndpointAttributes", "sns:DeleteEndpoint"],
                                                  resources=[_endpoints_of(arn) for arn in arns]))
        for arn in arns:
            acknowledge(fn.role, f"AwsSolutions-IAM5[Resource::{_endpoints_of(arn)}]",
                        "SNS names each device endpoint of a platform application with a random id; the "
                        "wildcard covers only the endpoints of this one application.")

    def grant_unsubscribe(self, fn: lambda_.Function) -> None:
        """Give the unsubscribe route's function (AppTier's `unsubscribe`) the signing key."""
        fn.add_environment(settings.MARKETING_UNSUBSCRIBE_SECRET_ARN, self.unsubscribe_secret.secret_arn)
        self.unsubscribe_secret.grant_read(fn)

    def _add_sms(self, sms: SmsOptions, profile: Profile) -> str:
        self.opt_out_list = smsvoice.CfnOptOutList(self, "SmsOptOutList")
        self.sms_configuration_set = smsvoice.CfnConfigurationSet(self, "SmsConfigurationSet")
        if sms.origination_identity:
            return sms.origination_identity
        # STOP / HELP replies are answered by End User Messaging and land in the opt-out list.
        self.phone_number = smsvoice.CfnPhoneNumber(
            self, "SmsPhoneNumber", iso_country_code=sms.iso_country_code, number_type=sms.number_type,
            number_capabilities=["SMS"], opt_out_list_name=self.opt_out_list.ref,
            deletion_protection_enabled=profile.deletion_protection,
            mandatory_keywords=smsvoice.CfnPhoneNumber.MandatoryKeywordsProperty(
                help=smsvoice.CfnPhoneNumber.MandatoryKeywordProperty(
                    message="Shop messages. Reply STOP to opt out. Msg&data rates may apply."),
                stop=smsvoice.CfnPhoneNumber.MandatoryKeywordProperty(
                    message="You are unsubscribed and will receive no more messages.")))
        return self.phone_number.attr_arn

    # ---- schedules ----------------------------------------------------------------------------

    def _add_schedules(self, campaigns: Sequence[Campaign], abandoned_cart_schedule: str) -> None:
        self.schedule_group = scheduler.ScheduleGroup(self, "Schedules", removal_policy=self._profile.removal_policy)
        self.schedule_dead_letter_queue = dead_letter_queue(self, "ScheduleDeadLetters", key=self._key)
        self.schedule_alarm = dead_letter_alarm(self, "ScheduleDeadLetterAlarm", self.schedule_dead_letter_queue,
                                                "marketing schedules")
        run = scheduler.ContextAttribute.scheduled_time
        jobs = [(names.ABANDONED_CART_JOB_ID, abandoned_cart_schedule, "UTC",
                 {"job": names.ABANDONED_CART, "id": names.ABANDONED_CART_JOB_ID, "run": run},
                 "Hourly check for carts left untouched, reminding consenting customers once per cart")]
        jobs += [(c.id, c.schedule, c.timezone,
                  {"job": names.CAMPAIGN, "id": c.id, "run": run, "channel": c.channel,
                   "subject": c.subject, "text": c.text}, f"Marketing campaign {c.id}")
                 for c in campaigns]
        # Scheduler assumes this role only for schedules of this group, to send jobs (and
        # undeliverable ones to the dead-letter queue): SendMessage and the two key actions.
        self.schedule_role = service_role(
            self, "SchedulerRole", service="scheduler.amazonaws.com",
            source_arn=source_arn_pattern("scheduler", f"schedule/{self.schedule_group.schedule_group_name}/*"),
            description="EventBridge Scheduler puts marketing jobs on their queue")
        for queue in (self.jobs_queue, self.schedule_dead_letter_queue):
            grant_send(queue, self.schedule_role)
        self.schedules: dict[str, scheduler.Schedule] = {}
        for name, expression, timezone, body, description in jobs:
            self.schedules[name] = scheduler.Schedule(
                self, f"Schedule-{name}", description=description, schedule_group=self.schedule_group,
                schedule=_expression(expression, timezone), key=self._key,
                target=_QueueTarget(self.jobs_queue, self.schedule_role,
                                    scheduler.ScheduleTargetInput.from_object(body), self.schedule_dead_letter_queue))


@jsii.implements(scheduler.IScheduleTarget)
class _QueueTarget:
    """A schedule's SQS target with a role of exact grants (the L2 target grants the key's
    whole `GenerateDataKey*` family and `ReEncrypt*`, which sending never needs)."""

    def __init__(self, queue: sqs.IQueue, role: iam.IRole, body: scheduler.ScheduleTargetInput,
                 dead_letters: sqs.IQueue) -> None:
        self._queue, self._role, self._body, self._dead_letters = queue, role, body, dead_letters

    def bind(self, _schedule: scheduler.ISchedule) -> scheduler.ScheduleTargetConfig:
        return scheduler.ScheduleTargetConfig(
            arn=self._queue.queue_arn, role=self._role, input=self._body,
            dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=self._dead_letters.queue_arn),
            retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(maximum_event_age_in_seconds=6 * 3600,
                                                                   maximum_retry_attempts=10))


def _expression(expression: str, timezone: str) -> scheduler.ScheduleExpression:
    return scheduler.ScheduleExpression.expression(expression, None if timezone == "UTC" else TimeZone.of(timezone))


def _identity_arn(identity: str) -> str:
    return f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:identity/{identity}"


def _endpoints_of(application_arn: str) -> str:
    # arn:aws:sns:region:account:app/GCM/name -> arn:aws:sns:region:account:endpoint/GCM/name/*
    return application_arn.replace(":app/", ":endpoint/", 1) + "/*"


def _push_applications(arns: Sequence[str]) -> dict[str, str]:
    """{platform: application ARN}; the platform is read from the ARN (app/<platform>/<name>)."""
    by_platform: dict[str, str] = {}
    problems = []
    for arn in arns:
        found = None if Token.is_unresolved(arn) else _PLATFORM_APPLICATION.match(arn)
        if found is None or found.group(1) not in routes.PUSH_PLATFORMS:
            problems.append(f"push platform application {arn!r} must be the literal ARN of an SNS platform "
                            f"application of {', '.join(routes.PUSH_PLATFORMS)} (arn:aws:sns:REGION:ACCOUNT:"
                            "app/PLATFORM/NAME)")
        elif found.group(1) in by_platform:
            problems.append(f"two push platform applications for {found.group(1)}: a device registers under one")
        else:
            by_platform[found.group(1)] = arn
    if problems:
        raise ValueError("Marketing: " + "; ".join(problems))
    return by_platform


def _validate(email_from: str | None, campaigns: Sequence[Campaign], hours: int, abandoned_schedule: str,
              sms: SmsOptions | None) -> None:
    problems = []
    if email_from is not None and not _EMAIL.match(email_from):
        problems.append(f"email_from {email_from!r} is not an e-mail address")
    if not isinstance(hours, int) or hours < 1:
        problems.append(f"abandoned_cart_hours must be a whole number of hours >= 1, got {hours!r}")
    for expression in (abandoned_schedule, *(c.schedule for c in campaigns)):
        if not _SCHEDULE.match(expression):
            problems.append(f"schedule {expression!r} must be rate(...), cron(...) or at(...)")
    ids = [c.id for c in campaigns]
    for campaign in campaigns:
        if not _CAMPAIGN_ID.match(campaign.id) or campaign.id == names.ABANDONED_CART_JOB_ID:
            problems.append(f"campaign id {campaign.id!r} must match {_CAMPAIGN_ID.pattern} "
                            "and not be 'abandoned-cart'")
        if campaign.channel not in model.CONSENT_CHANNELS:
            problems.append(f"campaign {campaign.id}: channel must be one of {', '.join(model.CONSENT_CHANNELS)}")
        if not campaign.subject.strip() or not campaign.text.strip():
            problems.append(f"campaign {campaign.id}: subject and text are required")
    if len(set(ids)) != len(ids):
        problems.append("campaign ids must be unique")
    if sms is not None and sms.origination_identity is not None and not sms.origination_identity.startswith("arn:"):
        problems.append("sms.origination_identity must be the ARN of a phone number, pool or sender ID")
    if problems:
        raise ValueError("Marketing: " + "; ".join(problems))
