"""Settles orders left PENDING_PAYMENT (a crashed checkout whose client never retried), so
their stock does not stay reserved forever."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ..runtime import routes, settings, table_permissions
from ._iam import grant_table_actions
from ._queues import dead_letter_alarm, dead_letter_queue
from ._tables import acknowledge_index_grant
from .python_functions import PythonFunctions

SWEEPER_HANDLER = routes.ORDER_SWEEPER.handler


class PendingOrderSweeper(Construct):
    """`function` run every `every` by `rule`; orders pending longer than `timeout` are
    confirmed if the provider authorized them, otherwise failed with their stock released.

    Parameters: `functions` (the factory); `table`; `payment_secret` (secretsmanager.ISecret);
    `payment_provider` ("sandbox" or "stripe"); `encryption_key` (default None);
    `timeout` (default 15 minutes); `every` (default 5 minutes); `reserved_concurrency`
    (default None: unreserved); `payment_layers` (default None: the provider SDK layers).
    """

    def __init__(self, scope: Construct, id: str, *, functions: PythonFunctions, table: dynamodb.ITableV2,
                 payment_secret: secretsmanager.ISecret, payment_provider: str,
                 encryption_key: kms.IKey | None = None, timeout: Duration = Duration.minutes(15),
                 every: Duration = Duration.minutes(5), reserved_concurrency: int | None = None,
                 payment_layers: list[lambda_.ILayerVersion] | None = None) -> None:
        super().__init__(scope, id)
        if every.to_minutes() < 1 or timeout.to_minutes() < 1:
            raise ValueError("PendingOrderSweeper: `every` and `timeout` must be at least one minute")
        self.function = functions.add(
            routes.ORDER_SWEEPER.name, handler=SWEEPER_HANDLER, memory_mb=routes.ORDER_SWEEPER.memory_mb,
            timeout_s=routes.ORDER_SWEEPER.timeout_s,
            invoked_synchronously=False, extra_layers=payment_layers,
            # Overlapping sweeps are safe (settling is conditional) but wasteful; prod caps it at 1.
            reserved_concurrency=reserved_concurrency,
            environment={settings.TABLE_NAME: table.table_name,
                         settings.PAYMENT_PROVIDER: payment_provider,
                         settings.PAYMENT_SECRET_ARN: payment_secret.secret_arn,
                         settings.PENDING_ORDER_TIMEOUT_MINUTES: str(int(timeout.to_minutes()))})
        grant_table_actions(table, self.function, table_permissions.actions_for(routes.ORDER_SWEEPER.name))
        acknowledge_index_grant(self.function.role, table)
        payment_secret.grant_read(self.function)
        dead_letters = dead_letter_queue(self, "ScheduleDeadLetters", key=encryption_key)
        self.rule = events.Rule(self, "Schedule", schedule=events.Schedule.rate(every),
                                description="Settle orders stuck in PENDING_PAYMENT")
        self.rule.add_target(targets.LambdaFunction(self.function, dead_letter_queue=dead_letters,
                                                    retry_attempts=2, max_event_age=every))
        self.alarm = dead_letter_alarm(self, "ScheduleDeadLetterAlarm", dead_letters, "the order sweeper schedule")
