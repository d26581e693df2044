"""The fallback ranking's data: a counters table (model.signals_table_kwargs) that an OrderPlaced
consumer keeps up to date, so GET /recommendations reads a bounded number of items instead of
orders."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .. import model
from ..config import Profile
from ..runtime import settings, table_permissions
from ..runtime.events.subscriptions import RECOMMENDATION_SIGNALS
from ._iam import grant_table_actions
from ._props import check_exclusive
from ._tables import acknowledge_index_grant, secure_table
from .event_bus import EventSubscription
from .python_functions import PythonFunctions


class RecommendationSignals(Construct):
    """`table` (the counters, with the `ByScore` local index), `consumer` (the OrderPlaced
    function) and its `subscription`. `grant_read(fn)` lets a function rank from the table.

    Parameters: `profile` (removal, PITR, deletion protection); `functions` (the factory);
    `commerce_table` (dynamodb.ITableV2: the consumer maps SKUs to products with BatchGetItem);
    `bus` (events.IEventBus); `encryption_key` (default None: AWS-managed keys);
    `existing_table` (dynamodb.ITableV2 with the same keys and local index) or `table_props`
    (overrides of the new table's props; default None).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, functions: PythonFunctions,
                 commerce_table: dynamodb.ITableV2, bus: events.IEventBus, encryption_key: kms.IKey | None = None,
                 existing_table: dynamodb.ITableV2 | None = None, table_props: dict | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_table=existing_table, table_props=table_props)
        locked = {"partition_key", "sort_key", "local_secondary_indexes", "time_to_live_attribute"}
        refused = sorted(locked & set(table_props or {}))
        if refused:
            raise ValueError(f"RecommendationSignals: table_props cannot change {', '.join(refused)}: the "
                             "ranking reads the table by these keys and its score index")
        self.table: dynamodb.ITableV2 = existing_table or secure_table(
            self, "Table", definition=model.signals_table_kwargs(), profile=profile, encryption_key=encryption_key,
            time_to_live_attribute=model.SIGNALS_TTL_ATTRIBUTE,
            local_secondary_indexes=[dynamodb.LocalSecondaryIndexProps(
                index_name=model.SIGNALS_BY_SCORE,
                sort_key=dynamodb.Attribute(name=model.SIGNALS_SCORE, type=dynamodb.AttributeType.NUMBER),
                projection_type=dynamodb.ProjectionType.KEYS_ONLY)],
            **(table_props or {}))
        self.consumer = functions.add(
            RECOMMENDATION_SIGNALS.name, handler=RECOMMENDATION_SIGNALS.handler, memory_mb=256, timeout_s=30,
            environment={settings.TABLE_NAME: commerce_table.table_name,
                         settings.RECOMMENDATION_SIGNALS_TABLE_NAME: self.table.table_name})
        grant_table_actions(commerce_table, self.consumer, table_permissions.actions_for(RECOMMENDATION_SIGNALS.name))
        # One transaction per order: the event marker (Put) and the counters (Update).
        grant_table_actions(self.table, self.consumer, (table_permissions.PUT, table_permissions.UPDATE))
        self.subscription = EventSubscription(
            self, "Orders", bus=bus, detail_types=list(RECOMMENDATION_SIGNALS.detail_types),
            sources_=list(RECOMMENDATION_SIGNALS.sources), consumer=self.consumer, encryption_key=encryption_key)

    def grant_read(self, fn: lambda_.Function) -> None:
        """Query on the table and its score index, and the table's name in the environment."""
        grant_table_actions(self.table, fn, (table_permissions.QUERY,))
        acknowledge_index_grant(fn.role, self.table)
        fn.add_environment(settings.RECOMMENDATION_SIGNALS_TABLE_NAME, self.table.table_name)
