"""Orders handed to the Order Management System over an SQS FIFO queue.

EventBridge rule targets can only set a static FIFO message group, so the rule fills a buffer
queue and an EventBridge Pipe moves each event on with MessageGroupId = order id (orders stay
in sequence per order, not globally) and MessageDeduplicationId = the event's id (a relayed
duplicate of the same outbox event is dropped by SQS).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import model
from ..config import Profile
from ..runtime.events.subscriptions import OMS_DEDUPLICATION_ID_PATH, OMS_GROUP_ID_PATH, OMS_INPUT_PATH
from . import _defaults as defaults
from ._iam import grant_send
from ._pipes import pipe_failure_alarm, pipe_logs, pipe_role
from ._props import check_exclusive, merge
from ._queues import RuleQueueTarget, dead_letter_alarm, dead_letter_queue, work_queue


class OmsHandoff(Construct):
    """`queue` (FIFO, what the OMS consumes), `dead_letter_queue` (FIFO), `buffer`, `rule`, `pipe`,
    `log_group` (the pipe's ERROR log), `alarms` (dead letters of both queues, pipe failures).

    Parameters: `bus` (required); `encryption_key` (default None: SQS-managed encryption);
    `existing_queue` or `queue_props` (default: a new FIFO queue; FIFO settings cannot be
    overridden); `consumer_timeout` (default 30 s; the queue's visibility timeout is 6x);
    `profile` (default None: log retention one year, logs retained).
    """

    def __init__(self, scope: Construct, id: str, *, bus: events.IEventBus, encryption_key: kms.IKey | None = None,
                 existing_queue: sqs.IQueue | None = None, queue_props: dict | None = None,
                 consumer_timeout: Duration = Duration.seconds(30), profile: Profile | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_queue=existing_queue, queue_props=queue_props)
        self.dead_letter_queue = dead_letter_queue(self, "DeadLetters", key=encryption_key, fifo=True)
        self.queue: sqs.IQueue = existing_queue or work_queue(
            self, "Queue", key=encryption_key, dead_letter=self.dead_letter_queue, fifo=True,
            content_based_deduplication=False,
            overrides=merge({}, queue_props, locked=defaults.OMS_QUEUE_LOCKED, owner=type(self).__name__,
                            props_name="queue_props"),
            visibility_timeout=Duration.seconds(consumer_timeout.to_seconds() * 6))

        buffer_dead_letters = dead_letter_queue(self, "BufferDeadLetters", key=encryption_key)
        self.buffer = work_queue(self, "Buffer", key=encryption_key, dead_letter=buffer_dead_letters,
                                 visibility_timeout=Duration.minutes(1))
        self.rule = events.Rule(self, "OrderPlaced", event_bus=bus, description="OrderPlaced to the OMS hand-off",
                                event_pattern=events.EventPattern(source=[model.EventSource.ORDERS],
                                                                  detail_type=[model.EventName.ORDER_PLACED]))
        self.rule.add_target(RuleQueueTarget(self.buffer, dead_letter_queue=buffer_dead_letters))

        role = pipe_role(self, "PipeRole", "Moves OrderPlaced events from the buffer to the OMS FIFO queue")
        self.buffer.grant_consume_messages(role)
        grant_send(self.queue, role)
        self.log_group, log_configuration = pipe_logs(self, "PipeLogs", role=role, profile=profile,
                                                      encryption_key=encryption_key)
        self.pipe = pipes.CfnPipe(
            self, "Pipe", role_arn=role.role_arn, log_configuration=log_configuration,
            description="OrderPlaced -> OMS FIFO (group = order id)",
            source=self.buffer.queue_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                sqs_queue_parameters=pipes.CfnPipe.PipeSourceSqsQueueParametersProperty(batch_size=10)),
            target=self.queue.queue_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                input_template=f"<{OMS_INPUT_PATH}>",
                sqs_queue_parameters=pipes.CfnPipe.PipeTargetSqsQueueParametersProperty(
                    message_group_id=OMS_GROUP_ID_PATH, message_deduplication_id=OMS_DEDUPLICATION_ID_PATH)),
        )
        self.pipe.node.add_dependency(role)
        self.alarms = [
            dead_letter_alarm(self, "DeadLetterAlarm", self.dead_letter_queue, "the OMS consumer"),
            dead_letter_alarm(self, "BufferDeadLetterAlarm", buffer_dead_letters, "the OMS hand-off"),
            pipe_failure_alarm(self, "PipeFailureAlarm", self.pipe, "OMS hand-off"),
        ]
