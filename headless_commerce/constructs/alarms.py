"""Who hears an alarm, and the alarms on what a shopper would notice.

`AlarmTopic` is the one place alarms go: an SNS topic on its own CMK (CloudWatch must be able to
use the key, and it should not be able to use the data key), with optional e-mail and HTTPS
subscribers. `notify_alarms(scope, topic)` points every CloudWatch alarm under `scope` at it,
including alarms other constructs create later. `ServiceAlarms` adds the alarms a commerce API
needs: Lambda errors and throttles, API 5xx rate and p99 latency, pipe failures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import Aspects, Aws, Duration, IAspect
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_pipes as pipes
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
        self._action = cw_actions.SnsAction(topic)
        self._done: set[str] = set()

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cloudwatch.Alarm) and node.node.addr not in self._done:
            self._done.add(node.node.addr)
            node.add_alarm_action(self._action)
            node.add_ok_action(self._action)


def notify_alarms(scope: IConstruct, topic: sns.ITopic) -> None:
    """Every `cloudwatch.Alarm` under `scope` notifies `topic` when it fires and when it clears."""
    Aspects.of(scope).add(_NotifyAlarms(topic))


class ServiceAlarms(Construct):
    """`alarms` by name, for `functions` (name -> lambda_.IFunction), the API `stage`
    (apigw.Stage, default None: no API alarms) and `pipes_` (CfnPipes, default none).

    Thresholds (defaults): any Lambda error or throttle in 5 minutes; API
    5xx responses above `api_error_rate` (1 %) in 2 of 3 five-minute periods; API p99 latency
    above `api_p99_latency` (3 s) in 2 of 3; any failed pipe execution in 5 minutes.

    A Lambda error here is a crash or timeout: handlers turn every client mistake into a 4xx
    and every handled failure into a JSON 5xx, which the API alarm counts instead.
    """

    def __init__(self, scope: Construct, id: str, *, functions: Mapping[str, lambda_.IFunction],
                 stage: apigw.Stage | None = None, pipes_: Sequence[pipes.CfnPipe] = (),
                 api_error_rate: float = 0.01, api_p99_latency: Duration = Duration.seconds(3)) -> None:
        super().__init__(scope, id)
        five_minutes = Duration.minutes(5)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, fn in sorted(functions.items()):
            self._any(f"{name}Errors", fn.metric_errors(period=five_minutes, statistic="Sum"),
                      f"Function {name} crashed or timed out")
            self._any(f"{name}Throttles", fn.metric_throttles(period=five_minutes, statistic="Sum"),
                      f"Function {name} was throttled: raise its concurrency or the account quota")
        if stage is not None:
            self.alarms["Api5xxRate"] = cloudwatch.Alarm(
                self, "Api5xxRate",
                alarm_description=f"More than {api_error_rate:.0%} of API requests answered 5xx",
                metric=stage.metric_server_error(period=five_minutes, statistic="Average"),
                threshold=api_error_rate, evaluation_periods=3, datapoints_to_alarm=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
            self.alarms["ApiLatencyP99"] = cloudwatch.Alarm(
                self, "ApiLatencyP99",
                alarm_description=f"API p99 latency above {api_p99_latency.to_milliseconds()} ms",
                metric=stage.metric_latency(period=five_minutes, statistic="p99"),
                threshold=api_p99_latency.to_milliseconds(), evaluation_periods=3, datapoints_to_alarm=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
        for index, pipe in enumerate(pipes_):
            metric = cloudwatch.Metric(namespace="AWS/EventBridge/Pipes", metric_name="ExecutionFailed",
                                       dimensions_map={"PipeName": pipe.ref}, period=five_minutes,
                                       statistic="Sum")
            self._any(f"Pipe{index}Failures" if len(pipes_) > 1 else "PipeFailures", metric,
                      f"Pipe {pipe.node.path} failed executions; check its dead-letter queue")

    def _any(self, id: str, metric: cloudwatch.IMetric, description: str) -> None:
        self.alarms[id] = cloudwatch.Alarm(
            self, id, alarm_description=description, metric=metric, threshold=0, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
