"""The transactional outbox relay: table stream -> EventBridge Pipe (outbox inserts only) -> bus.

An event exists on the bus if and only if the transaction that wrote its outbox item committed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_pipes as pipes
from constructs import Construct

from ..config import Profile
from ..runtime.events.subscriptions import OUTBOX_FILTER
from ._iam import grant_send
from ._pipes import pipe_failure_alarm, pipe_logs, pipe_role
from ._queues import dead_letter_alarm, dead_letter_queue


class OutboxRelay(Construct):
    """`pipe`, `dead_letter_queue` (stream batches that kept failing), `alarm` (on the first
    dead letter), `log_group` (the pipe's ERROR log, CMK-encrypted) and `failure_alarm`.

    `enrichment` turns stream records into `{source, detail_type, detail}`; the pipe role may
    put events on `bus` only with the given `sources`.

    Parameters: `table` (needs a NEW_AND_OLD_IMAGES stream); `bus`; `enrichment` (the relay
    Lambda); `sources` (required); `encryption_key` (default None: AWS-managed keys);
    `max_retries` (default 10, then the batch is dead-lettered); `profile` (default None: log
    retention one year, logs retained).
    """

    def __init__(self, scope: Construct, id: str, *, table: dynamodb.ITableV2, bus: events.IEventBus,
                 enrichment: lambda_.IFunction, sources: Sequence[str],
                 encryption_key: kms.IKey | None = None, max_retries: int = 10,
                 profile: Profile | None = None) -> None:
        super().__init__(scope, id)
        if table.table_stream_arn is None:
            raise ValueError("OutboxRelay: the table needs a stream (NEW_AND_OLD_IMAGES)")
        self.dead_letter_queue = dead_letter_queue(self, "DeadLetters", key=encryption_key)
        role = pipe_role(self, "PipeRole", "Relays committed outbox items from the table stream to the bus")
        table.grant_stream_read(role)
        role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                               resources=[enrichment.function_arn]))
        grant_send(self.dead_letter_queue, role)
        role.add_to_policy(iam.PolicyStatement(
            actions=["events:PutEvents"], resources=[bus.event_bus_arn],
            conditions={"StringEquals": {"events:source": list(sources)}}))
        self.log_group, log_configuration = pipe_logs(self, "PipeLogs", role=role, profile=profile,
                                                      encryption_key=encryption_key)
        self.pipe = pipes.CfnPipe(
            self, "Pipe", role_arn=role.role_arn, log_configuration=log_configuration,
            description="Outbox items -> commerce event bus",
            source=table.table_stream_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                dynamo_db_stream_parameters=pipes.CfnPipe.PipeSourceDynamoDBStreamParametersProperty(
                    starting_position="TRIM_HORIZON", batch_size=10, maximum_batching_window_in_seconds=1,
                    maximum_retry_attempts=max_retries, on_partial_batch_item_failure="AUTOMATIC_BISECT",
                    dead_letter_config=pipes.CfnPipe.DeadLetterConfigProperty(arn=self.dead_letter_queue.queue_arn)),
                filter_criteria=pipes.CfnPipe.FilterCriteriaProperty(
                    filters=[pipes.CfnPipe.FilterProperty(pattern=json.dumps(OUTBOX_FILTER))])),
            enrichment=enrichment.function_arn,
            target=bus.event_bus_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                input_template="<$.detail>",
                event_bridge_event_bus_parameters=pipes.CfnPipe.PipeTargetEventBridgeEventBusParametersProperty(
                    detail_type="$.detail_type", source="$.source")),
        )
        self.pipe.node.add_dependency(role)
        self.alarm = dead_letter_alarm(self, "DeadLetterAlarm", self.dead_letter_queue, "the outbox relay")
        self.failure_alarm = pipe_failure_alarm(self, "FailureAlarm", self.pipe, "outbox relay")
