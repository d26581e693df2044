"""Order lifecycle consumers: the example OMS (FIFO hand-off -> ACCEPTED_BY_OMS) and the
orders service applying OrderStatusChanged to the order, idempotently and never backwards."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import model
from ..runtime import settings, table_permissions
from ..runtime.events.subscriptions import OMS_CONSUMER, ORDER_STATUS
from ._iam import grant_send, grant_table_actions
from ._queues import consume
from .event_bus import EventSubscription, grant_put_events
from .python_functions import PythonFunctions


class OrderEvents(Construct):
    """`oms_consumer` (reads the OMS FIFO queue, batch failures reported per message) and
    `status_applier` with its `status_subscription`.

    Parameters: `functions` (the PythonFunctions factory); `table` (dynamodb.ITableV2, the
    commerce table, ours or imported); `bus` (events.IEventBus); `oms_queue` and
    `oms_dead_letter_queue` (sqs.IQueue, the OMS FIFO hand-off); `encryption_key` (default
    None: AWS-managed keys).
    """

    def __init__(self, scope: Construct, id: str, *, functions: PythonFunctions, table: dynamodb.ITableV2,
                 bus: events.IEventBus, oms_queue: sqs.IQueue, oms_dead_letter_queue: sqs.IQueue,
                 encryption_key: kms.IKey | None = None) -> None:
        super().__init__(scope, id)
        self.oms_consumer = functions.add(
            OMS_CONSUMER.name, handler=OMS_CONSUMER.handler, memory_mb=256, timeout_s=30,
            environment={settings.TABLE_NAME: table.table_name, settings.EVENT_BUS_NAME: bus.event_bus_name,
                         settings.DEAD_LETTER_QUEUE_URL: oms_dead_letter_queue.queue_url})
        grant_table_actions(table, self.oms_consumer, table_permissions.actions_for(OMS_CONSUMER.name))
        grant_put_events(bus, self.oms_consumer, model.EventSource.OMS)
        grant_send(oms_dead_letter_queue, self.oms_consumer)
        consume(oms_queue, self.oms_consumer)

        self.status_applier = functions.add(
            ORDER_STATUS.name, handler=ORDER_STATUS.handler, memory_mb=256, timeout_s=30,
            environment={settings.TABLE_NAME: table.table_name})
        grant_table_actions(table, self.status_applier, table_permissions.actions_for(ORDER_STATUS.name))
        self.status_subscription = EventSubscription(
            self,
            "StatusChanges",
            bus=bus,
            detail_types=list(ORDER_STATUS.detail_types),
            sources_=list(ORDER_STATUS.sources),
            consumer=self.status_applier,
            encryption_key=encryption_key,
        )

    @property
    def functions(self) -> dict[str, lambda_.Function]:
        return {OMS_CONSUMER.name: self.oms_consumer, ORDER_STATUS.name: self.status_applier}
