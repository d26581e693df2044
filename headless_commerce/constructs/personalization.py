"""Personalization: an Amazon Personalize ECOMMERCE dataset group (CMK-encrypted) with its
interactions, items and users datasets, a real-time event tracker, a filter that leaves out
what a customer already bought, the e-commerce recommenders (through an idempotent custom
resource: CloudFormation has no type for them), the consumers that feed it, and the fallback
ranking's data (RecommendationSignals) so recommendations never depend on Personalize alone.

Cost: each recommender bills a minimum throughput every hour (about $146/month each at 1
request/s), whether asked or not; the dataset group, tracker, filter, datasets and functions
cost nothing idle. The dev profile creates no recommenders unless asked (`recommenders=True`).
"""

from __future__ import annotations

import json

from aws_cdk import Aws, CustomResource, Duration, Names, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_personalize as personalize
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ..config import Profile
from ..runtime import settings, table_permissions
from ..runtime.events.subscriptions import PERSONALIZE_EVENTS, PERSONALIZE_USERS
from ..runtime.recommendations.names import (
    CATALOG_EXPORT_FUNCTION,
    CATALOG_EXPORT_HANDLER,
    RESOURCES_FUNCTION,
    RESOURCES_HANDLER,
)
from ..runtime.recommendations.params import KINDS
from ..runtime.recommendations.personalize import NO_RECOMMENDER
from ._iam import grant_table_actions, service_role, source_arn_pattern
from ._nag import acknowledge
from ._props import check_exclusive
from ._queues import dead_letter_alarm, dead_letter_queue
from ._tables import acknowledge_index_grant
from .encryption import EncryptionKey
from .event_bus import EventSubscription
from .python_functions import PythonFunctions
from .recommendation_signals import RecommendationSignals

DOMAIN = "ECOMMERCE"
# Interaction event types the tracker consumer sends (runtime/recommendations/tracker.py).
PURCHASE_EVENT = "Purchase"
EXCLUDE_PURCHASED = f'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("{PURCHASE_EVENT}")'
# Short, so "<stack name>-<hash>-<suffix>" fits Personalize's 63-character names.
RECOMMENDER_SUFFIXES = {"for_you": "foryou", "also_viewed": "alsoviewed", "bought_together": "together"}


def _schema(name: str, fields: list[dict]) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "com.amazonaws.personalize.schema",
                       "fields": fields, "version": "1.0"})


# The ECOMMERCE domain's required fields, plus what the export and the tracker fill.
INTERACTIONS_SCHEMA = _schema("Interactions", [
    {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
    {"name": "EVENT_TYPE", "type": "string"}, {"name": "TIMESTAMP", "type": "long"}])
ITEMS_SCHEMA = _schema("Items", [
    {"name": "ITEM_ID", "type": "string"}, {"name": "PRICE", "type": "float"},
    {"name": "CATEGORY_L1", "type": "string", "categorical": True},
    {"name": "BRAND", "type": ["null", "string"], "categorical": True}])
# Privacy: only attributes that describe a shopper without identifying them (no name, e-mail,
# phone or street); runtime/recommendations/users.py fills them from the profile.
USERS_SCHEMA = _schema("Users", [
    {"name": "USER_ID", "type": "string"},
    {"name": "LOCALE", "type": ["null", "string"], "categorical": True},
    {"name": "COUNTRY", "type": ["null", "string"], "categorical": True}])


class Personalization(Construct):
    """Public attributes: `dataset_group`, `datasets` (by type: interactions, items, users),
    `schemas`, `event_tracker`, `filter` (purchased items excluded), `recommender_parameters`
    (SSM parameters by kind: for_you, also_viewed, bought_together; "NONE" until the recommender
    is ACTIVE), `recommenders` (the custom resource), `resources_function` (its provider, also
    the hourly reconciler), `event_consumer` and `event_subscription` (interactions to the
    tracker), `users_consumer` and `users_subscription` (CustomerProfileChanged to the users
    dataset: locale and country only), `catalog_export` (scheduled PutItems of the catalog), `signals`
    (RecommendationSignals), `role` (the role Personalize uses for the key), `key`.
    `grant_recommend(fn)` wires the recommendations API function.

    Parameters: `profile`; `functions` (the PythonFunctions factory); `table` (dynamodb.ITableV2,
    the commerce table: catalog reads); `bus` (events.IEventBus); `encryption_key` (default
    None: a new CMK; the dataset group is always CMK-encrypted); `recommenders` (default None:
    the profile decides, off in dev, on in prod; each costs about $146/month);
    `min_recommendation_requests_per_second` (default 1: the billed minimum; raise for steady
    traffic); `catalog_export_every` (default 1 day); `reconcile_every` (default 1 hour: how soon
    an ACTIVE recommender is published); `existing_signals_table` or `signals_table_props` (see
    RecommendationSignals).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, functions: PythonFunctions,
                 table: dynamodb.ITableV2, bus: events.IEventBus, encryption_key: kms.IKey | None = None,
                 recommenders: bool | None = None, min_recommendation_requests_per_second: int = 1,
                 catalog_export_every: Duration = Duration.days(1), reconcile_every: Duration = Duration.hours(1),
                 existing_signals_table: dynamodb.ITableV2 | None = None,
                 signals_table_props: dict | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_signals_table=existing_signals_table,
                        signals_table_props=signals_table_props)
        if not 1 <= min_recommendation_requests_per_second <= 100:
            raise ValueError("Personalization: min_recommendation_requests_per_second must be 1..100, got "
                             f"{min_recommendation_requests_per_second}")
        for name, every in (("catalog_export_every", catalog_export_every), ("reconcile_every", reconcile_every)):
            if every.to_minutes() < 5:
                raise ValueError(f"Personalization: {name} must be at least 5 minutes")
        self.recommenders_enabled = profile.personalize_recommenders if recommenders is None else recommenders
        self.key = encryption_key or EncryptionKey(self, "Key", profile=profile).key
        self.signals = RecommendationSignals(
            self, "Signals", profile=profile, functions=functions, commerce_table=table, bus=bus,
            encryption_key=self.key, existing_table=existing_signals_table, table_props=signals_table_props)

        # The (stage-prefixed) stack name and a hash of the construct path: two copies of the app,
        # or two of these in one stack, never collide. At most 51 characters, so every derived
        # name below stays within Personalize's 63.
        self.name = f"{Stack.of(self).stack_name}-{Names.unique_id(self)[-8:]}"
        self.role = service_role(self, "ServiceRole", service="personalize.amazonaws.com",
                                 source_arn=source_arn_pattern("personalize", "*"),
                                 description="Lets Amazon Personalize use the dataset group's key")
        self.key.grant(self.role, "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")
        self.dataset_group = personalize.CfnDatasetGroup(
            self, "DatasetGroup", name=self.name, domain=DOMAIN, kms_key_arn=self.key.key_arn,
            role_arn=self.role.role_arn)
        self.dataset_group.node.add_dependency(self.role)
        group_arn = self.dataset_group.attr_dataset_group_arn
        self.schemas: dict[str, personalize.CfnSchema] = {}
        self.datasets: dict[str, personalize.CfnDataset] = {}
        for kind, schema, short in (("interactions", INTERACTIONS_SCHEMA, "events"), ("items", ITEMS_SCHEMA, "items"),
                                    ("users", USERS_SCHEMA, "users")):
            title = kind.capitalize()
            self.schemas[kind] = personalize.CfnSchema(self, f"{title}Schema", name=f"{self.name}-{short}",
                                                       domain=DOMAIN, schema=schema)
            self.datasets[kind] = personalize.CfnDataset(
                self, f"{title}Dataset", dataset_group_arn=group_arn, dataset_type=title,
                name=f"{self.name}-{short}", schema_arn=self.schemas[kind].attr_schema_arn)
        self.event_tracker = personalize.CfnEventTracker(self, "EventTracker", dataset_group_arn=group_arn,
                                                         name=f"{self.name}-tracker")
        self.event_tracker.node.add_dependency(self.datasets["interactions"])
        self.filter = personalize.CfnFilter(self, "ExcludePurchased", dataset_group_arn=group_arn,
                                            name=f"{self.name}-notbought", filter_expression=EXCLUDE_PURCHASED)
        self.filter.node.add_dependency(self.datasets["interactions"])

        self.recommender_parameters = {
            kind: ssm.StringParameter(
                self, f"{kind.title().replace('_', '')}Recommender", string_value=NO_RECOMMENDER,
                description=f"ARN of the {kind} recommender once ACTIVE; {NO_RECOMMENDER} until then or when off")
            for kind in KINDS}
        self._add_recommenders(functions, min_recommendation_requests_per_second, reconcile_every)
        self._add_event_consumer(functions, table, bus, encryption_key)
        self._add_users_consumer(functions, table, bus, encryption_key)
        self._add_catalog_export(functions, table, catalog_export_every, encryption_key)

    def _recommender_arns(self) -> str:
        return f"arn:{Aws.PARTITION}:personalize:{Aws.REGION}:{Aws.ACCOUNT_ID}:recommender/{self.name}-*"

    def _add_recommenders(self, functions: PythonFunctions, min_rps: int, every: Duration) -> None:
        self.resources_function = fn = functions.add(
            RESOURCES_FUNCTION, handler=RESOURCES_HANDLER, memory_mb=256,
            # Deleting the stack waits here for recommenders to be gone before their datasets go.
            timeout_s=900, environment={}, invoked_synchronously=False)
        group_arn = self.dataset_group.attr_dataset_group_arn
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["personalize:CreateRecommender", "personalize:DescribeRecommender",
                     "personalize:UpdateRecommender", "personalize:DeleteRecommender"],
            resources=[self._recommender_arns(), group_arn]))
        # CreateRecommender reads the ECOMMERCE recipes, which are AWS-owned (no account, no region).
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["personalize:DescribeRecipe", "personalize:CreateRecommender"],
            resources=[f"arn:{Aws.PARTITION}:personalize:::recipe/aws-ecomm-*"]))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["personalize:ListRecommenders"], resources=["*"]))
        acknowledge(fn.role, "AwsSolutions-IAM5[Resource::*]",
                    "personalize:ListRecommenders has no resource-level permission (it filters by the dataset "
                    "group in the request); X-Ray and Lambda's VPC ENI actions have none either.")
        acknowledge(fn.role, f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:personalize:<AWS::Region>:"
                    f"<AWS::AccountId>:recommender/{self.name}-*]",
                    "Recommenders are created by name at run time; the pattern is this dataset group's own "
                    "name prefix.")
        acknowledge(fn.role, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:personalize:::recipe/aws-ecomm-*]",
                    "The three AWS-owned ECOMMERCE recipes the recommenders use (recommended-for-you, "
                    "frequently-bought-together, customers-who-viewed-x-also-viewed).")
        for parameter in self.recommender_parameters.values():
            parameter.grant_read(fn)
            parameter.grant_write(fn)
        properties = {
            "DatasetGroupArn": group_arn,
            "Enabled": "true" if self.recommenders_enabled else "false",
            "Recommenders": [{"Kind": kind, "Name": f"{self.name}-{RECOMMENDER_SUFFIXES[kind]}",
                              "Parameter": self.recommender_parameters[kind].parameter_name,
                              "MinRecommendationRequestsPerSecond": str(min_rps)} for kind in KINDS],
        }
        self.recommenders = CustomResource(self, "Recommenders", service_token=fn.function_arn,
                                           resource_type="Custom::PersonalizeRecommenders", properties=properties)
        # Deleted before the datasets, tracker and filter: Personalize refuses to delete those
        # while a recommender uses them, and the provider waits for its deletions to finish.
        for dependency in (*self.datasets.values(), self.event_tracker, self.filter):
            self.recommenders.node.add_dependency(dependency)
        self.recommenders.node.add_dependency(fn.role)
        self.reconcile_rule = None
        if self.recommenders_enabled:
            dead_letters = dead_letter_queue(self, "ReconcileDeadLetters", key=self.key)
            self.reconcile_rule = events.Rule(self, "Reconcile", schedule=events.Schedule.rate(every),
                                              description="Create missing recommenders; publish ACTIVE ones")
            self.reconcile_rule.add_target(targets.LambdaFunction(
                fn, event=events.RuleTargetInput.from_object({"action": "reconcile", **properties}),
                dead_letter_queue=dead_letters, retry_attempts=2, max_event_age=min(every, Duration.hours(1),
                                                                                   key=lambda d: d.to_seconds())))
            dead_letter_alarm(self, "ReconcileDeadLetterAlarm", dead_letters, "the recommenders reconcile schedule")

    def _add_event_consumer(self, functions: PythonFunctions, table: dynamodb.ITableV2, bus: events.IEventBus,
                            encryption_key: kms.IKey | None) -> None:
        self.event_consumer = fn = functions.add(
            PERSONALIZE_EVENTS.name, handler=PERSONALIZE_EVENTS.handler, memory_mb=256, timeout_s=30,
            environment={settings.TABLE_NAME: table.table_name,
                         settings.PERSONALIZE_TRACKING_ID: self.event_tracker.attr_tracking_id})
        grant_table_actions(table, fn, table_permissions.actions_for(PERSONALIZE_EVENTS.name))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["personalize:PutEvents"],
                                                  resources=[self.event_tracker.attr_event_tracker_arn]))
        self.event_subscription = EventSubscription(
            self, "Interactions", bus=bus, detail_types=list(PERSONALIZE_EVENTS.detail_types),
            sources_=list(PERSONALIZE_EVENTS.sources), consumer=fn, encryption_key=encryption_key)

    def _add_users_consumer(self, functions: PythonFunctions, table: dynamodb.ITableV2, bus: events.IEventBus,
                            encryption_key: kms.IKey | None) -> None:
        users = self.datasets["users"].attr_dataset_arn
        self.users_consumer = fn = functions.add(
            PERSONALIZE_USERS.name, handler=PERSONALIZE_USERS.handler, memory_mb=256, timeout_s=30,
            environment={settings.TABLE_NAME: table.table_name, settings.PERSONALIZE_USERS_DATASET_ARN: users})
        grant_table_actions(table, fn, table_permissions.actions_for(PERSONALIZE_USERS.name))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["personalize:PutUsers"], resources=[users]))
        self.users_subscription = EventSubscription(
            self, "Users", bus=bus, detail_types=list(PERSONALIZE_USERS.detail_types),
            sources_=list(PERSONALIZE_USERS.sources), consumer=fn, encryption_key=encryption_key)

    def _add_catalog_export(self, functions: PythonFunctions, table: dynamodb.ITableV2, every: Duration,
                            encryption_key: kms.IKey | None) -> None:
        items = self.datasets["items"].attr_dataset_arn
        self.catalog_export = fn = functions.add(
            CATALOG_EXPORT_FUNCTION, handler=CATALOG_EXPORT_HANDLER, memory_mb=512, timeout_s=900,
            invoked_synchronously=False,
            environment={settings.TABLE_NAME: table.table_name, settings.PERSONALIZE_ITEMS_DATASET_ARN: items})
        grant_table_actions(table, fn, table_permissions.actions_for(CATALOG_EXPORT_FUNCTION))
        acknowledge_index_grant(fn.role, table)
        fn.add_to_role_policy(iam.PolicyStatement(actions=["personalize:PutItems"], resources=[items]))
        dead_letters = dead_letter_queue(self, "ExportDeadLetters", key=encryption_key)
        self.catalog_export_rule = events.Rule(self, "ExportCatalog", schedule=events.Schedule.rate(every),
                                               description="Export the catalog to the Personalize items dataset")
        self.catalog_export_rule.add_target(targets.LambdaFunction(fn, dead_letter_queue=dead_letters,
                                                                   retry_attempts=2, max_event_age=Duration.hours(1)))
        dead_letter_alarm(self, "ExportDeadLetterAlarm", dead_letters, "the catalog export schedule")

    def grant_recommend(self, fn: lambda_.Function) -> None:
        """Let the recommendations API function ask the recommenders (with the purchased-items
        filter) and rank from the signals table."""
        self.signals.grant_read(fn)
        fn.add_environment(settings.RECOMMENDER_PARAMETERS, Stack.of(self).to_json_string(
            {kind: parameter.parameter_name for kind, parameter in self.recommender_parameters.items()}))
        fn.add_environment(settings.PERSONALIZE_FILTER_ARN, self.filter.attr_filter_arn)
        for parameter in self.recommender_parameters.values():
            parameter.grant_read(fn)
        fn.add_to_role_policy(iam.PolicyStatement(actions=["personalize:GetRecommendations"],
                                                  resources=[self._recommender_arns(), self.filter.attr_filter_arn]))
        acknowledge(fn.role, f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:personalize:<AWS::Region>:"
                    f"<AWS::AccountId>:recommender/{self.name}-*]",
                    "Only this dataset group's recommenders, created by name at run time.")
