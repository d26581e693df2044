"""Location: the store locator and delivery tracking on Amazon Location.

Places and routes are the resourceless V2 APIs (`geo-places`, `geo-routes`): the API's
functions call them through their roles. Clients (the storefront, a mobile app) get an API key
that may only draw the map (`geo-maps`). Couriers' positions go to a tracker linked to a
geofence collection (stores and delivery addresses); Amazon Location publishes the geofence
ENTER/EXIT events to the account's default bus, where a rule hands this collection's events to
the orders side.

Cost: the API key, tracker and geofence collection bill per request (map tiles, position
writes, geofence evaluations; the functions' geocodes and route calculations likewise); idle
they cost nothing. The table is on demand.
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
from ._iam import KMS_READ_ACTIONS, grant_table_actions
from ._props import check_exclusive, merge
from ._tables import secure_table
from .event_bus import EventSubscription
from .python_functions import PythonFunctions

_TABLE_LOCKED = {
    "partition_key": "stores, deliveries and couriers are read by these keys",
    "sort_key": "stores, deliveries and couriers are read by these keys",
    "global_secondary_indexes": "the store locator queries the cell index",
}
# Location resource names: at most 100 characters of [-._\w]; the longest suffix is "-geofences".
_NAME_PREFIX_MAX = 80


def provider_arn(service: str) -> str:
    """The one resource ARN of a resourceless V2 API (geo-places, geo-maps, geo-routes)."""
    return f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}::provider/default"


def _root_stack_name(scope: Construct) -> str:
    """The deployable stack's name: a nested stack's own name is a token CloudFormation makes up."""
    stack = Stack.of(scope)
    while stack.nested_stack_parent is not None:
        stack = stack.nested_stack_parent
    return stack.stack_name


class Location(Construct):
    """`table` (stores with their cell index, deliveries, couriers' positions), `api_key`
    (clients' key for the map), `tracker` (couriers), `geofence_collection` (stores and delivery
    addresses), `tracker_consumer` (the tracker evaluates the collection's geofences),
    `geofence_consumer` (ENTER/EXIT -> order statuses) with its `geofence_subscription` on the
    default bus, `couriers` (the function the fleet's backend invokes to assign orders and send
    positions), `name` (the prefix of the Location resources' names).

    `grant_store_search(fn)` lets a function find stores (`/stores`, the chatbot's FindStore);
    `grant_tracking(fn)` lets one show a delivery (`/orders/{order_id}/tracking`).

    Its functions are created under this construct (`PythonFunctions.add(scope=...)`): put the
    construct in a `NestedStack` and they, their roles, logs and alarms live in that template.

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
        owner = type(self).__name__
        check_exclusive(owner, existing_table=existing_table, table_props=table_props)
        table_overrides = merge({}, table_props, locked=_TABLE_LOCKED, owner=owner, props_name="table_props")
        for referer in allowed_referers:
            if not referer.startswith(("https://", "http://")):
                raise ValueError(f"{owner}: allowed_referers must be page URLs (https://shop.example.com/*), "
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
            **table_overrides)
        # The stage-prefixed stack name and a hash of the path: two copies of the app, or two of
        # these in one stack, never collide.
        self.name = f"{_root_stack_name(self)[:_NAME_PREFIX_MAX]}-{Names.unique_id(self)[-8:]}"
        self.api_key = location.CfnAPIKey(self, "ApiKey", **merge(defaults.location_api_key(
            f"{self.name}-clients", referers=allowed_referers, expire_time=api_key_expire_time,
            resources=[provider_arn("geo-maps")]), api_key_props))
        key_arn = encryption_key.key_arn if encryption_key is not None else None
        self.tracker = location.CfnTracker(self, "Couriers", **merge(
            defaults.location_tracker(f"{self.name}-couriers", key_arn), tracker_props))
        self.geofence_collection = location.CfnGeofenceCollection(
            self, "Geofences", collection_name=f"{self.name}-geofences", kms_key_id=key_arn,
            description="Stores and delivery addresses; couriers entering and leaving them move orders")
        # A tracker's and a collection's Ref is its name.
        self.tracker_consumer = location.CfnTrackerConsumer(
            self, "TrackerGeofences", tracker_name=self.tracker.ref,
            consumer_arn=self.geofence_collection.attr_arn)
        self._add_geofence_consumer(encryption_key)
        self._add_couriers()

    def _env(self) -> dict[str, str]:
        return {settings.TABLE_NAME: self._commerce_table.table_name,
                settings.LOCATION_TABLE_NAME: self.table.table_name}

    def _add_geofence_consumer(self, encryption_key: kms.IKey | None) -> None:
        fn = self.geofence_consumer = self._functions.add(
            names.GEOFENCE_FUNCTION, handler=names.GEOFENCE_HANDLER, memory_mb=256, timeout_s=30,
            environment=self._env(), scope=self)
        grant_table_actions(self._commerce_table, fn, table_permissions.actions_for(names.GEOFENCE_FUNCTION))
        # A delivery (GetItem) and the orders a courier carries (Query on the table, no index).
        grant_table_actions(self.table, fn, (table_permissions.GET, table_permissions.QUERY), query_indexes=())
        # Amazon Location publishes geofence events to the account's default bus only, which
        # other stages' collections share: the rule takes this collection's ENTER and EXIT.
        default_bus = events.EventBus.from_event_bus_name(self, "DefaultBus", "default")
        self.geofence_subscription = EventSubscription(
            self, "GeofenceEvents", bus=default_bus, detail_types=[names.GEOFENCE_DETAIL_TYPE],
            sources_=[names.GEOFENCE_SOURCE], resources=[self.geofence_collection.attr_arn],
            detail={"EventType": ["ENTER", "EXIT"]}, consumer=fn, encryption_key=encryption_key)

    def _add_couriers(self) -> None:
        fn = self.couriers = self._functions.add(
            names.COURIERS_FUNCTION, handler=names.COURIERS_HANDLER, memory_mb=256, timeout_s=30,
            environment={**self._env(), settings.LOCATION_TRACKER_NAME: self.tracker.ref,
                         settings.LOCATION_GEOFENCE_COLLECTION: self.geofence_collection.ref},
            scope=self)
        grant_table_actions(self._commerce_table, fn, table_permissions.actions_for(names.COURIERS_FUNCTION))
        # Stores (GetItem), deliveries and links (a transaction of two puts), positions
        # (conditional put).
        grant_table_actions(self.table, fn, (table_permissions.GET, table_permissions.PUT))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["geo:BatchUpdateDevicePosition"],
                                                  resources=[self.tracker.attr_arn]))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["geo:PutGeofence"],
                                                  resources=[self.geofence_collection.attr_arn]))
        # The order's shipping address when the fleet gives no destination.
        fn.add_to_role_policy(iam.PolicyStatement(actions=["geo-places:Geocode"],
                                                  resources=[provider_arn("geo-places")]))

    def grant_store_search(self, fn: lambda_.Function) -> None:
        """Let `fn` find stores (runtime/location/service): Query on the cell index only and
        geo-places `Geocode` for `?q=`; sets its LOCATION_TABLE_NAME."""
        iam.Grant.add_to_principal(grantee=fn, actions=[table_permissions.QUERY],
                                   resource_arns=[f"{self.table.table_arn}/index/{model.STORES_BY_CELL.name}"])
        if self.table.encryption_key is not None:
            self.table.encryption_key.grant(fn, *KMS_READ_ACTIONS)
        fn.add_to_role_policy(iam.PolicyStatement(actions=["geo-places:Geocode"],
                                                  resources=[provider_arn("geo-places")]))
        fn.add_environment(settings.LOCATION_TABLE_NAME, self.table.table_name)

    def grant_tracking(self, fn: lambda_.Function) -> None:
        """Let `fn` show a delivery (runtime/location/tracking): GetItem on the table (the
        delivery, the courier's position) and geo-routes `CalculateRoutes` for the ETA; sets its
        LOCATION_TABLE_NAME. The order itself is read from the commerce table (its own grant)."""
        grant_table_actions(self.table, fn, (table_permissions.GET,))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["geo-routes:CalculateRoutes"],
                                                  resources=[provider_arn("geo-routes")]))
        fn.add_environment(settings.LOCATION_TABLE_NAME, self.table.table_name)
