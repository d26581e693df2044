"""The commerce EventBridge bus: CMK-encrypted, archived for replay, with a schema registry
populated from the event contracts, and one way for every consumer to subscribe."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_eventschemas as eventschemas
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..config import Profile
from ..runtime import settings
from . import _defaults as defaults
from ._iam import grant_send
from ._props import check_exclusive, merge
from ._queues import RuleQueueTarget, consume, dead_letter_alarm, dead_letter_queue, work_queue

CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "runtime" / "common" / "contracts"


def load_contracts(directory: Path = CONTRACTS_DIR) -> dict[str, dict]:
    """Event name -> JSON Schema, from the same files the runtime validates with."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


class EventSubscription(Construct):
    """A rule on `bus` delivering matching events to a consumer Lambda through its own queue.

    Every subscription gets the same safety net: the rule target retries for `max_event_age`
    and dead-letters what it cannot deliver; the queue retries failed messages
    (`MAX_RECEIVE_COUNT`) and dead-letters them; the consumer dead-letters schema-invalid
    events itself with the reason (env `DEAD_LETTER_QUEUE_URL`); an alarm fires on the first
    dead letter. Attributes: `rule`, `queue`, `dead_letter_queue`, `alarm`.

    Parameters: `bus` (events.IEventBus, ours or imported); `detail_types` (required);
    `sources_` (default None: any source); `resources` (default None: any; events naming one
    of these ARNs, for a bus other producers share); `detail` (default None: any; an EventBridge
    content filter on the detail); `consumer` (the Lambda); `encryption_key` (default
    None: SQS-managed encryption); `max_event_age` (default 24 h) and `retry_attempts`
    (default 185) of the rule target; `batch_size` (default 10).
    """

    def __init__(self, scope: Construct, id: str, *, bus: events.IEventBus, detail_types: Sequence[str],
                 sources_: Sequence[str] | None = None, resources: Sequence[str] | None = None,
                 detail: dict | None = None, consumer: lambda_.Function,
                 encryption_key: kms.IKey | None = None, max_event_age: Duration = Duration.hours(24),
                 retry_attempts: int = 185, batch_size: int = 10) -> None:
        super().__init__(scope, id)
        self.dead_letter_queue = dead_letter_queue(self, "DeadLetters", key=encryption_key)
        self.queue = work_queue(self, "Queue", key=encryption_key, dead_letter=self.dead_letter_queue,
                                # SQS wants the visibility timeout to cover the consumer's run (x6 per AWS).
                                visibility_timeout=Duration.seconds(consumer.timeout.to_seconds() * 6)
                                if consumer.timeout else Duration.minutes(5))
        pattern = events.EventPattern(detail_type=list(detail_types),
                                      source=list(sources_) if sources_ else None,
                                      resources=list(resources) if resources else None, detail=detail)
        self.rule = events.Rule(self, "Rule", event_bus=bus, event_pattern=pattern,
                                description=f"{', '.join(detail_types)} to {consumer.node.id}")
        self.rule.add_target(RuleQueueTarget(self.queue, dead_letter_queue=self.dead_letter_queue,
                                             max_event_age=max_event_age, retry_attempts=retry_attempts))
        self.event_source = consume(self.queue, consumer, batch_size=batch_size)
        consumer.add_environment(settings.DEAD_LETTER_QUEUE_URL, self.dead_letter_queue.queue_url)
        grant_send(self.dead_letter_queue, consumer)
        self.alarm = dead_letter_alarm(self, "DeadLetterAlarm", self.dead_letter_queue, consumer.node.id)


class EventBus(Construct):
    """`bus`, `archive`, `dead_letter_queue` (the bus's own, with `dead_letter_alarm`),
    `schema_registry`, `schemas` (by event name).

    With `existing_bus` only the schema registry is created: the bus's owner decides on
    encryption, archiving and its dead-letter queue.

    Parameters: `profile` (archive retention); `encryption_key` (default None: an AWS-owned
    key); `existing_bus` (default None: a new bus from `_defaults.event_bus`) or `bus_props`
    (overrides); `contracts` (default None: the JSON Schemas in runtime/common/contracts).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, encryption_key: kms.IKey | None = None,
                 existing_bus: events.IEventBus | None = None, bus_props: dict | None = None,
                 contracts: dict[str, dict] | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_bus=existing_bus, bus_props=bus_props)
        self._key = encryption_key
        self.archive: events.CfnArchive | None = None
        self.dead_letter_queue: sqs.Queue | None = None
        self.dead_letter_alarm: cloudwatch.Alarm | None = None
        if existing_bus is not None:
            self.bus: events.IEventBus = existing_bus
        else:
            # Events the bus itself cannot deliver to a rule target (for example a key it may
            # not use) land here; each rule target also has its own dead-letter queue.
            self.dead_letter_queue = dead_letter_queue(self, "DeadLetters", key=encryption_key)
            bus = events.EventBus(self, "Bus", **merge(
                {**defaults.event_bus(encryption_key), "dead_letter_queue": self.dead_letter_queue}, bus_props))
            self.dead_letter_queue.add_to_resource_policy(iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")], actions=["sqs:SendMessage"],
                resources=[self.dead_letter_queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": bus.event_bus_arn}}))
            self.dead_letter_alarm = dead_letter_alarm(self, "DeadLetterAlarm", self.dead_letter_queue,
                                                       "the commerce event bus")
            # Not `bus.archive()`: in this CDK version it drops the key (KmsKeyIdentifier: "").
            # Not `events.Archive(kms_key=...)` either: its key-policy statement names the bus by
            # GetAtt while the bus names the key, a circular dependency. The L1 plus one statement
            # conditioned on this account's bus encryption context is the same grant without it.
            self.archive = events.CfnArchive(
                self, "Archive", source_arn=bus.event_bus_arn, description="Every commerce event, for replay",
                event_pattern={"account": [Aws.ACCOUNT_ID]},
                retention_days=int(profile.event_archive_retention.to_days()),
                kms_key_identifier=encryption_key.key_arn if encryption_key is not None else None)
            if encryption_key is not None:
                # EventBridge's documented archive key policy: it also re-encrypts events.
                encryption_key.add_to_resource_policy(iam.PolicyStatement(
                    sid="AllowEventBridgeArchiveOfCommerceBus",
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"],
                    resources=["*"],
                    conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                                "ArnLike": {"kms:EncryptionContext:aws:events:event-bus:arn":
                                            f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:event-bus/*"}}))
            self.bus = bus

        self.schema_registry = eventschemas.CfnRegistry(
            self, "Registry", description="Versioned contracts of the commerce events")
        self.schemas = {
            name: eventschemas.CfnSchema(
                self, f"{name}Schema", registry_name=self.schema_registry.attr_registry_name,
                type="JSONSchemaDraft4", content=json.dumps(schema),
                description=f"{name} event contract")
            for name, schema in (contracts if contracts is not None else load_contracts()).items()
        }

    def subscribe(self, scope: Construct, id: str, *, detail_types: Sequence[str], consumer: lambda_.Function,
                  sources_: Sequence[str] | None = None, **options) -> EventSubscription:
        """Create the subscription in `scope` (the consumer's stack), never in this one."""
        return EventSubscription(scope, id, bus=self.bus, detail_types=detail_types, sources_=sources_,
                                 consumer=consumer, **options)

    def grant_put_events(self, grantee: iam.IGrantable, source: str) -> iam.Grant:
        """PutEvents on this bus, only for events whose `source` is the publisher's own."""
        return grant_put_events(self.bus, grantee, source)


def grant_put_events(bus: events.IEventBus, grantee: iam.IGrantable, source: str) -> iam.Grant:
    """PutEvents on `bus` (ours or an imported one), only with the publisher's own `source`."""
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=["events:PutEvents"], resource_arns=[bus.event_bus_arn],
        conditions={"StringEquals": {"events:source": source}})
