"""Who hears an alarm, and the alarms on what a shopper would notice.

`AlarmTopic` is the one place alarms go: an SNS topic on its own CMK (CloudWatch must be able to
use the key, and it should not be able to use the data key), with optional e-mail and HTTPS
subscribers. `notify_alarms(scope, topic)` points every CloudWatch alarm under `scope` at it,
including alarms other constructs create later. What to alarm on is `monitoring.StackMonitoring`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Aspects, Aws, Duration, IAspect
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from ..config import Profile
from ._queues import dead_letter_alarm, dead_letter_queue


class AlarmTopic(Construct):
    """`topic` and `key` (None with `existing_topic`); `subscriptions` in the order given and
    `dead_letter_queue` for notifications SNS could not deliver (when there are subscriptions).

    Parameters: `profile` (the key's removal policy and deletion window); `emails` (default
    none) and `https_endpoints` (default none) subscribe to the topic;
    e-mail subscribers must confirm the message SNS sends. `existing_topic` (None) reuses a
    topic the caller owns: its key policy must already allow CloudWatch.
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, emails: Sequence[str] = (),
                 https_endpoints: Sequence[str] = (), existing_topic: sns.ITopic | None = None) -> None:
        super().__init__(scope, id)
        self.key: kms.Key | None = None
        if existing_topic is not None:
            self.topic: sns.ITopic = existing_topic
        else:
            self.key = kms.Key(self, "Key", description="Encrypts alarm notifications",
                               enable_key_rotation=True, removal_policy=profile.removal_policy,
                               pending_window=Duration.days(30 if profile.is_production else 7))
            # CloudWatch publishes to an encrypted topic as the service, so the key policy (not a
            # grant) must let it make data keys, and only for alarms of this account.
            self.key.add_to_resource_policy(iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))
            topic = sns.Topic(self, "Topic", display_name="Headless commerce alarms",
                              master_key=self.key, enforce_ssl=True)
            topic.add_to_resource_policy(iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"], resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                            "ArnLike": {"aws:SourceArn":
                                        f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"}}))
            self.topic = topic
        bad = [url for url in https_endpoints if not url.startswith("https://")]
        if bad:
            raise ValueError(f"AlarmTopic: https_endpoints must be https:// URLs, got {', '.join(bad)}")
        self.subscriptions: list[sns.Subscription] = []
        self.dead_letter_queue: sqs.Queue | None = None
        if emails or https_endpoints:
            # A notification SNS gives up on (a bouncing mailbox, an endpoint down for hours) is
            # kept here rather than dropped; its own alarm still reaches the other subscribers.
            self.dead_letter_queue = dead_letter_queue(self, "UndeliveredNotifications", key=self.key)
            if self.key is not None:
                self.key.add_to_resource_policy(iam.PolicyStatement(
                    sid="AllowSnsToDeadLetterUndelivered",
                    principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
                    conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))
            dead_letter_alarm(self, "UndeliveredNotificationsAlarm", self.dead_letter_queue,
                              "alarm notifications SNS could not deliver")
        for address in emails:
            self.subscriptions.append(sns.Subscription(
                self, f"Email{len(self.subscriptions)}", topic=self.topic, protocol=sns.SubscriptionProtocol.EMAIL,
                endpoint=address, dead_letter_queue=self.dead_letter_queue))
        for url in https_endpoints:
            self.subscriptions.append(sns.Subscription(
                self, f"Https{len(self.subscriptions)}", topic=self.topic, protocol=sns.SubscriptionProtocol.HTTPS,
                endpoint=url, dead_letter_queue=self.dead_letter_queue))


@jsii.implements(IAspect)
class _NotifyAlarms:
    def __init__(self, topic: sns.ITopic) -> None:
        self.topic = topic
        self._action = cw_actions.SnsAction(topic)
        self._done: set[str] = set()

    def visit(self, node: IConstruct) -> None:
        # Alarms and composite alarms this app creates (imported alarms have no resource here),
        # including those cdk-monitoring-constructs makes on the JavaScript side.
        if (isinstance(node, cloudwatch.AlarmBase) and node.node.default_child is not None
                and node.node.addr not in self._done):
            self._done.add(node.node.addr)
            node.add_alarm_action(self._action)
            node.add_ok_action(self._action)


def notify_alarms(scope: IConstruct, topic: sns.ITopic) -> None:
    """Every alarm and composite alarm under `scope` notifies `topic` when it fires and when it
    clears. Calling it again for the same scope and topic changes nothing."""
    if any(isinstance(a, _NotifyAlarms) and a.topic is topic for a in Aspects.of(scope).all):
        return
    Aspects.of(scope).add(_NotifyAlarms(topic))
