"""Queues built one way everywhere: TLS only, CMK-encrypted, a dead-letter queue with an alarm."""

from __future__ import annotations

import jsii
from aws_cdk import Duration, Names
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..runtime.events.subscriptions import MAX_RECEIVE_COUNT
from ._iam import grant_send
from ._nag import acknowledge
from ._props import merge


def _encryption(key: kms.IKey | None) -> dict:
    if key is None:
        return {"encryption": sqs.QueueEncryption.SQS_MANAGED}
    return {"encryption": sqs.QueueEncryption.KMS, "encryption_master_key": key,
            "data_key_reuse": Duration.hours(1)}


def dead_letter_queue(scope: Construct, id: str, *, key: kms.IKey | None, fifo: bool = False) -> sqs.Queue:
    """A DLQ that keeps messages for the longest SQS allows, so nothing ages out unseen."""
    queue = sqs.Queue(scope, id, enforce_ssl=True, fifo=fifo or None,
                      retention_period=Duration.days(14), **_encryption(key))
    reason = "This queue is itself the dead-letter queue; a DLQ of a DLQ would only move the problem."
    acknowledge(queue, "AwsSolutions-SQS3", reason)
    acknowledge(queue, "Serverless-SQSRedrivePolicy", reason)
    return queue


def work_queue(scope: Construct, id: str, *, key: kms.IKey | None, dead_letter: sqs.IQueue,
               visibility_timeout: Duration, fifo: bool = False,
               content_based_deduplication: bool | None = None, overrides: dict | None = None) -> sqs.Queue:
    return sqs.Queue(scope, id, **merge({
        "enforce_ssl": True, "fifo": fifo or None,
        "content_based_deduplication": content_based_deduplication,
        "visibility_timeout": visibility_timeout, "retention_period": Duration.days(4),
        "dead_letter_queue": sqs.DeadLetterQueue(queue=dead_letter, max_receive_count=MAX_RECEIVE_COUNT),
        **_encryption(key),
    }, overrides))


@jsii.implements(lambda_.IEventSourceDlq)
class QueueFailureDestination:
    """A stream or Kafka event source's on-failure queue, granted SendMessage and only the key
    actions SQS needs (CDK's SqsDlq grants the whole send family, kms:ReEncrypt* included)."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(self, target, target_handler) -> lambda_.DlqDestinationConfig:
        grant_send(self._queue, target_handler)
        return lambda_.DlqDestinationConfig(destination=self._queue.queue_arn)


def dead_letter_alarm(scope: Construct, id: str, queue: sqs.IQueue, what: str) -> cloudwatch.Alarm:
    """Alarm as soon as one message is dead-lettered: each one is a lost business event."""
    return cloudwatch.Alarm(
        scope, id,
        alarm_description=f"Messages dead-lettered for {what}; inspect and redrive {queue.node.path}",
        metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
        threshold=0, evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)


def consume(queue: sqs.IQueue, consumer: lambda_.Function, *, batch_size: int = 10) -> lambda_.EventSourceMapping:
    """An SQS event source that reports failures per message, so one bad message never makes
    the rest of its batch be redelivered."""
    queue.grant_consume_messages(consumer)
    mapping = consumer.add_event_source_mapping(
        f"From{queue.node.id}", event_source_arn=queue.queue_arn, batch_size=batch_size,
        report_batch_item_failures=True)
    acknowledge(mapping, "Serverless-LambdaEventSourceMappingDestination",
                "Lambda supports on-failure destinations only for stream and Kafka sources; for SQS the "
                "queue's redrive policy moves a repeatedly failing message to its dead-letter queue.")
    return mapping


@jsii.implements(events.IRuleTarget)
class RuleQueueTarget:
    """An SQS rule target whose queue policies admit EventBridge only for this rule.

    CDK's `targets.SqsQueue` conditions a CMK-encrypted queue's policy on the account alone
    (any rule in the account could fill it); here the queue and its dead-letter queue both
    require `aws:SourceArn` = the rule. The key policy already lets EventBridge use the key.
    """

    def __init__(self, queue: sqs.IQueue, *, dead_letter_queue: sqs.IQueue,
                 max_event_age: Duration = Duration.hours(24), retry_attempts: int = 185,
                 message: events.RuleTargetInput | None = None) -> None:
        self.queue = queue
        self.dead_letter_queue = dead_letter_queue
        self.max_event_age = max_event_age
        self.retry_attempts = retry_attempts
        self.message = message

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        for queue in (self.queue, self.dead_letter_queue):
            allow_rule(queue, rule)
        return events.RuleTargetConfig(
            arn=self.queue.queue_arn, input=self.message, target_resource=self.queue,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self.dead_letter_queue.queue_arn),
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_event_age_in_seconds=int(self.max_event_age.to_seconds()),
                maximum_retry_attempts=self.retry_attempts))


def allow_rule(queue: sqs.IQueue, rule: events.IRule) -> None:
    """Let EventBridge send to `queue` on behalf of `rule` only."""
    queue.add_to_resource_policy(iam.PolicyStatement(
        sid=f"From{Names.unique_id(rule)}"[:100],
        principals=[iam.ServicePrincipal("events.amazonaws.com")], actions=["sqs:SendMessage"],
        resources=[queue.queue_arn], conditions={"ArnEquals": {"aws:SourceArn": rule.rule_arn}}))
