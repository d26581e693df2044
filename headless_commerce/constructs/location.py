"""Location: the store locator and delivery tracking on Amazon Location.

Maps, places and routes are the resourceless V2 APIs (`geo-maps`, `geo-places`, `geo-routes`):
the functions call them through their roles, and clients (the storefront's map, a mobile app)
through an API key allowed only the actions used. Couriers' positions go to a tracker linked to
a geofence collection (stores and delivery addresses); Amazon Location publishes the geofence
ENTER/EXIT events to the account's default bus, where a rule hands them to the orders side.

Cost: the API key, tracker and geofence collection bill per request (geocodes, route
calculations, position writes, geofence evaluations); idle they cost nothing. The table is
on demand.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Names, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_location as location
from constructs import Construct

from .. import model
from ..config import Profile
from ..runtime import settings, table_permissions
from ..runtime.location import names
from . import _defaults as defaults
from ._iam import grant_table_actions
from ._props import check_exclusive, merge
from ._tables import acknowledge_index_grant, secure_table
from .event_bus import EventSubscription
from .python_functions import PythonFunctions

_TABLE_LOCKED = ("partition_key", "sort_key", "global_secondary_indexes")


def provider_arn(service: str) -> str:
    """The one resource ARN of a resourceless V2 API (geo-places, geo-maps, geo-routes)."""
    return f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}::provider/default"


class Location(Construct):
    """`table` (stores with their geohash index, deliveries), `api_key` (clients' V2 key),
    `tracker` (couriers), `geofence_collection` (stores and delivery addresses),
    `tracker_consumer` (the tracker evaluates the collection's geofences), `geofence_consumer`
    (ENTER/EXIT -> order statuses) and its `geofence_subscription` on the default bus,
    `couriers` (the function the fleet's backend invokes to assign orders and send positions),
    `name` (the prefix of the Location resources' names). `grant_locator(fn)` connects the API's
    `location` function.

    Parameters: `profile`; `functions` (the PythonFunctions factory); `commerce_table`
    (dynamodb.ITableV2: orders, for tracking); `encryption_key` (default None: AWS-owned keys
    for the Location resources, AWS-managed for the table); `existing_table` or `table_props`
    (default: a new table; its keys and cell index are locked); `allowed_referers` (default
    none: the API key works from any page; give the storefront's URLs, such as
    `https://shop.example.com/*`, to bind it to them); `api_key_expire_time` (default None:
    the key does not expire; an ISO 8601 time ends it); `api_key_props` (overrides of the
    CfnAPIKey props); `tracker_props` (overrides of the CfnTracker props; default distance-based
    position filtering).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, functions: PythonFunctions,
                 commerce_table: dynamodb.ITableV2, encryption_key: kms.IKey | None = None,
                 existing_table: dynamodb.ITableV2 | None = None, table_props: dict | None = None,
                 allowed_referers: Sequence[str] = (), api_key_expire_time: str | None = None,
                 api_key_props: dict | None = None, tracker_props: dict | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_table=existing_table, table_props=table_props)
        refused = sorted(set(_TABLE_LOCKED) & set(table_props or {}))
        if refused:
            raise ValueError(f"Location: table_props cannot change {', '.join(refused)}: the locator reads "
                             "stores by these keys and the cell index")
        for referer in allowed_referers:
            if not referer.startswith(("https://", "http://")):
                raise ValueError(f"Location: allowed_referers must be page URLs (https://shop.example.com/*), "
                                 f"got {referer!r}")
        self._functions, self._commerce_table = functions, commerce_table
        self.table: dynamodb.ITableV2 = existing_table or secure_table(
            self, "Table", definition=model.location_table_kwargs(), profile=profile, encryption_key=encryption_key,
            global_secondary_indexes=[dynamodb.GlobalSecondaryIndexPropsV2(
                index_name=model.STORES_BY_CELL.name,
                partition_key=dynamodb.Attribute(name=model.STORES_BY_CELL.partition_key,
                                                 type=dynamodb.AttributeType.STRING),
                sort_key=dynamodb.Attribute(name=model.STORES_BY_CELL.sort_key, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL)],
            **(table_props or {}))
        # The stage-prefixed stack name and a hash of the path: two copies of the app, or two of
        # these in one stack, never collide (names are at most 100 characters of [-._\w]).
        self.name = f"{Stack.of(self).stack_name}-{Names.unique_id(self)[-8:]}"
        self.api_key = location.CfnAPIKey(self, "ApiKey", **merge(defaults.location_api_key(
            f"{self.name}-clients", referers=allowed_referers, expire_time=api_key_expire_time,
            resources=[provider_arn(s) for s in ("geo-places", "geo-maps", "geo-routes")]), api_key_props))
        key_arn = encryption_key.key_arn if encryption_key is not None else None
        self.tracker = location.CfnTracker(self, "Couriers", **merge(
            defaults.location_tracker(f"{self.name}-couriers", key_arn), tracker_props))
        self.geofence_collection = location.CfnGeofenceCollection(
            self, "Geofences", collection_name=f"{self.name}-geofences", kms_key_id=key_arn,
            description="Stores and delivery addresses; couriers entering and leaving them move orders")
        self.tracker_consumer = location.CfnTrackerConsumer(
            self, "TrackerGeofences", tracker_name=self.tracker.tracker_name,
            consumer_arn=self.geofence_collection.attr_arn)
        # The tracker is named, not referenced: without this the link could be made before it.
        self.tracker_consumer.node.add_dependency(self.tracker)
        self._add_geofence_consumer(encryption_key)
        self._add_couriers()

    def _env(self) -> dict[str, str]:
        return {settings.TABLE_NAME: self._commerce_table.table_name,
                settings.LOCATION_TABLE_NAME: self.table.table_name}

    def _add_geofence_consumer(self, encryption_key: kms.IKey | None) -> None:
        fn = self.geofence_consumer = self._functions.add(
            names.GEOFENCE_FUNCTION, handler=names.GEOFENCE_HANDLER, memory_mb=256, timeout_s=30,
            environment=self._env())
        grant_table_actions(self._commerce_table, fn, table_permissions.actions_for(names.GEOFENCE_FUNCTION))
        grant_table_actions(self.table, fn, (table_permissions.GET, table_permissions.QUERY))
        acknowledge_index_grant(fn.role, self.table)
        # Amazon Location publishes geofence events to the account's default bus only.
        default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        self.geofence_subscription = EventSubscription(
            self, "GeofenceEvents", bus=default_bus, detail_types=[names.GEOFENCE_DETAIL_TYPE],
            sources_=[names.GEOFENCE_SOURCE], consumer=fn, encryption_key=encryption_key)

    def _add_couriers(self) -> None:
        fn = self.couriers = self._functions.add(
            names.COURIERS_FUNCTION, handler=names.COURIERS_HANDLER, memory_mb=256, timeout_s=30,
            environment={**self._env(), settings.LOCATION_TRACKER_NAME: self.tracker.tracker_name,
                         settings.LOCATION_GEOFENCE_COLLECTION: self.geofence_collection.collection_name})
        grant_table_actions(self._commerce_table, fn, table_permissions.actions_for(names.COURIERS_FUNCTION))
        # Deliveries and links (a transaction of two puts), positions (conditional put), store reads.
        grant_table_actions(self.table, fn, (table_permissions.GET, table_permissions.PUT))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["geo:BatchUpdateDevicePosition"],
                                                  resources=[self.tracker.attr_arn]))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["geo:PutGeofence"],
                                                  resources=[self.geofence_collection.attr_arn]))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["geo-places:Geocode"],
                                                  resources=[provider_arn("geo-places")]))

    def grant_locator(self, fn: lambda_.Function) -> None:
        """Let the API's `location` function read stores (GetItem, the cell index) and geocode
        and route through the V2 APIs."""
        grant_table_actions(self.table, fn, (table_permissions.GET, table_permissions.QUERY))
        acknowledge_index_grant(fn.role, self.table)
        fn.add_environment(settings.LOCATION_TABLE_NAME, self.table.table_name)
        fn.add_to_role_policy(iam.PolicyStatement(actions=["geo-places:Geocode"],
                                                  resources=[provider_arn("geo-places")]))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["geo-routes:CalculateRoutes"],
                                                  resources=[provider_arn("geo-routes")]))
