"""Location templates: the stores table with its cell index, the clients' API key allowed only
the map, the CMK-encrypted tracker and geofence collection linked by a tracker consumer, the
rule on the default bus taking this collection's ENTER/EXIT, exact grants, the props rules
(existing table, locked keys, referers); its functions in the nested stack that holds the
construct; and the reference app with the toggle on (dev, prod) and off."""

from __future__ import annotations

import json

import pytest
from aws_cdk import NestedStack, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Template

from headless_commerce import model
from headless_commerce.constructs._defaults import LOCATION_API_KEY_ACTIONS
from headless_commerce.constructs.location import Location
from headless_commerce.runtime import settings
from headless_commerce.runtime.chatbot.names import FULFILLMENT_HANDLER
from headless_commerce.runtime.location import names

from .helpers import commerce_base, resources_of

API_HANDLER = "headless_commerce.runtime.location.handler.handler"
LOCATION_TYPES = ("AWS::Location::APIKey", "AWS::Location::Tracker", "AWS::Location::GeofenceCollection",
                  "AWS::Location::TrackerConsumer")


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _role_of(template: dict, handler: str) -> str:
    (fn,) = [f for f in resources_of(template, "AWS::Lambda::Function").values()
             if f["Properties"]["Handler"] == handler]
    return fn["Properties"]["Role"]["Fn::GetAtt"][0]


def _function(template: dict, handler: str) -> dict:
    (fn,) = [f for f in resources_of(template, "AWS::Lambda::Function").values()
             if f["Properties"]["Handler"] == handler]
    return fn


def _statements(template: dict, role_id: str) -> list[dict]:
    """Every statement of the policies (inline or managed) attached to the role."""
    policies = {**resources_of(template, "AWS::IAM::Policy"), **resources_of(template, "AWS::IAM::ManagedPolicy")}
    return [s for p in policies.values() if {"Ref": role_id} in p["Properties"].get("Roles", [])
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _by_action(statements: list[dict], prefix: str) -> dict[str, list]:
    found: dict[str, list] = {}
    for s in statements:
        for action in _as_list(s["Action"]):
            if action.startswith(prefix):
                found.setdefault(action, []).extend(_as_list(s["Resource"]))
    return found


def _build(nested: bool = False, **props):
    base = commerce_base()
    scope = NestedStack(base.stack, "LocationStack") if nested else base.stack
    built = Location(scope, "Location", profile=base.profile, functions=base.functions,
                     commerce_table=base.table, encryption_key=base.key, **props)
    api = base.functions.add("location", handler=API_HANDLER, memory_mb=256, timeout_s=10, environment={})
    built.grant_store_search(api)
    built.grant_tracking(api)
    return base, built


def _template(stack: Stack) -> dict:
    return Template.from_stack(stack).to_json()


def test_the_key_draws_maps_only_and_the_tracker_evaluates_the_geofences():
    base, built = _build()
    template = _template(base.stack)
    (key,) = resources_of(template, "AWS::Location::APIKey").values()
    restrictions = key["Properties"]["Restrictions"]
    assert sorted(restrictions["AllowActions"]) == sorted(LOCATION_API_KEY_ACTIONS)
    # Geocodes and routes bill per request: only the API's functions make them, never the public key.
    assert all(a.startswith("geo-maps:") for a in restrictions["AllowActions"])
    (resource,) = restrictions["AllowResources"]
    assert ":geo-maps:" in json.dumps(resource) and "provider/default" in json.dumps(resource)
    assert key["Properties"]["NoExpiry"] is True and "AllowReferers" not in restrictions
    (tracker,) = resources_of(template, "AWS::Location::Tracker").values()
    (collection,) = resources_of(template, "AWS::Location::GeofenceCollection").values()
    assert "KmsKeyId" in tracker["Properties"] and "KmsKeyId" in collection["Properties"]
    assert tracker["Properties"]["PositionFiltering"] == "DistanceBased"
    (consumer,) = resources_of(template, "AWS::Location::TrackerConsumer").values()
    assert consumer["Properties"] == {
        "TrackerName": {"Ref": base.stack.get_logical_id(built.tracker)},
        "ConsumerArn": {"Fn::GetAtt": [base.stack.get_logical_id(built.geofence_collection), "Arn"]}}
    # Names carry the stack name (two stages side by side) and stay within Amazon Location's 100.
    for name in (tracker["Properties"]["TrackerName"], collection["Properties"]["CollectionName"],
                 key["Properties"]["KeyName"]):
        assert name.startswith(f"{base.stack.stack_name}-") and len(name) <= 100


def test_the_store_table_has_its_cell_index():
    base, _built = _build()
    (table,) = [t for t in resources_of(_template(base.stack), "AWS::DynamoDB::GlobalTable").values()
                if any(i["IndexName"] == model.STORES_BY_CELL.name
                       for i in t["Properties"].get("GlobalSecondaryIndexes", []))]
    (index,) = table["Properties"]["GlobalSecondaryIndexes"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == [model.STORES_BY_CELL.partition_key,
                                                                 model.STORES_BY_CELL.sort_key]
    assert "KMSMasterKeyId" in json.dumps(table["Properties"]["Replicas"])


def test_store_search_and_tracking_get_exact_grants():
    base, built = _build()
    template = _template(base.stack)
    statements = _statements(template, _role_of(template, API_HANDLER))
    geo = _by_action(statements, "geo")
    assert set(geo) == {"geo-places:Geocode", "geo-routes:CalculateRoutes"}
    assert ":geo-places:" in json.dumps(geo["geo-places:Geocode"])
    assert ":geo-routes:" in json.dumps(geo["geo-routes:CalculateRoutes"])
    assert all("provider/default" in json.dumps(r) for r in geo.values())
    table_id = base.stack.get_logical_id(built.table.node.default_child)
    location_table = [s for s in statements if table_id in json.dumps(s["Resource"])]
    dynamo = _by_action(location_table, "dynamodb:")
    assert set(dynamo) == {"dynamodb:Query", "dynamodb:GetItem"}
    # The search reads the cell index only, never the table or another index.
    (query_resource,) = dynamo["dynamodb:Query"]
    assert json.dumps(query_resource).endswith(f'"/index/{model.STORES_BY_CELL.name}"]]}}')
    assert dynamo["dynamodb:GetItem"] == [{"Fn::GetAtt": [table_id, "Arn"]}]
    variables = _function(template, API_HANDLER)["Properties"]["Environment"]["Variables"]
    assert variables[settings.LOCATION_TABLE_NAME] == {"Ref": table_id}


def test_referers_bind_the_key_and_an_expiry_replaces_no_expiry():
    base, _built = _build(allowed_referers=["https://shop.example.com/*"], api_key_expire_time="2027-06-30T00:00:00Z")
    (key,) = resources_of(_template(base.stack), "AWS::Location::APIKey").values()
    assert key["Properties"]["Restrictions"]["AllowReferers"] == ["https://shop.example.com/*"]
    assert key["Properties"]["ExpireTime"] == "2027-06-30T00:00:00Z" and "NoExpiry" not in key["Properties"]


def test_an_existing_table_is_used_and_not_created():
    base = commerce_base()
    existing = dynamodb.TableV2.from_table_name(base.stack, "Stores", "stores")
    built = Location(base.stack, "Location", profile=base.profile, functions=base.functions,
                     commerce_table=base.table, existing_table=existing)
    assert built.table is existing
    tables = resources_of(_template(base.stack), "AWS::DynamoDB::GlobalTable").values()
    assert not [t for t in tables if model.STORES_BY_CELL.name in json.dumps(t)]


@pytest.mark.parametrize("props, message", [
    ({"existing_table": "x", "table_props": {}}, "existing_table and table_props"),
    ({"table_props": {"partition_key": None, "global_secondary_indexes": []}},
     "cannot change global_secondary_indexes, partition_key"),
    ({"allowed_referers": ["shop.example.com"]}, "allowed_referers"),
])
def test_wrong_props_are_refused(props, message):
    base = commerce_base()
    if props.get("existing_table") == "x":
        props = {**props, "existing_table": dynamodb.TableV2.from_table_name(base.stack, "T", "t")}
    with pytest.raises(ValueError, match=message):
        Location(base.stack, "Location", profile=base.profile, functions=base.functions,
                 commerce_table=base.table, **props)


def test_this_collections_enter_and_exit_reach_the_consumer_and_couriers_get_exact_geo_grants():
    base, built = _build()
    stack, template = base.stack, _template(base.stack)
    (rule,) = [r for r in resources_of(template, "AWS::Events::Rule").values()
               if r["Properties"].get("EventPattern", {}).get("source") == [names.GEOFENCE_SOURCE]]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == [names.GEOFENCE_DETAIL_TYPE]
    assert pattern["detail"] == {"EventType": ["ENTER", "EXIT"]}
    # The default bus carries every stage's geofence events: only this collection's are taken.
    collection_id = stack.get_logical_id(built.geofence_collection)
    assert pattern["resources"] == [{"Fn::GetAtt": [collection_id, "Arn"]}]
    assert rule["Properties"].get("EventBusName", "default") == "default"
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [stack.get_logical_id(built.geofence_subscription.queue.node.default_child),
                                            "Arn"]}
    couriers = _statements(template, _role_of(template, names.COURIERS_HANDLER))
    geo = _by_action(couriers, "geo")
    assert geo == {"geo:BatchUpdateDevicePosition": [{"Fn::GetAtt": [stack.get_logical_id(built.tracker), "Arn"]}],
                   "geo:PutGeofence": [{"Fn::GetAtt": [collection_id, "Arn"]}],
                   "geo-places:Geocode": geo["geo-places:Geocode"]}
    variables = _function(template, names.COURIERS_HANDLER)["Properties"]["Environment"]["Variables"]
    assert variables[settings.LOCATION_TRACKER_NAME] == {"Ref": stack.get_logical_id(built.tracker)}
    assert variables[settings.LOCATION_GEOFENCE_COLLECTION] == {"Ref": collection_id}
    # The geofence consumer queries its courier's orders on the table, never an index.
    consumer = _statements(template, _role_of(template, names.GEOFENCE_HANDLER))
    table_id = stack.get_logical_id(built.table.node.default_child)
    queries = _by_action([s for s in consumer if table_id in json.dumps(s["Resource"])], "dynamodb:Query")
    assert queries == {"dynamodb:Query": [{"Fn::GetAtt": [table_id, "Arn"]}]}


def test_its_functions_live_in_the_nested_stack_with_the_factorys_code_layers_and_security_group():
    base, built = _build(nested=True)
    nested = Stack.of(built)
    assert nested.nested_stack_parent is base.stack
    inner, outer = _template(nested), _template(base.stack)
    for type_ in (*LOCATION_TYPES, "AWS::Events::Rule"):
        assert resources_of(inner, type_) and not resources_of(outer, type_), type_
    handlers = {f["Properties"]["Handler"] for f in resources_of(inner, "AWS::Lambda::Function").values()}
    assert handlers == {names.GEOFENCE_HANDLER, names.COURIERS_HANDLER}
    assert API_HANDLER in {f["Properties"]["Handler"] for f in resources_of(outer, "AWS::Lambda::Function").values()}
    # Each function's role and log group come with it.
    assert len(resources_of(inner, "AWS::IAM::Role")) == 2 and len(resources_of(inner, "AWS::Logs::LogGroup")) == 2
    assert base.functions.functions[names.COURIERS_FUNCTION] is built.couriers
    # The same staged code (one S3 object), the factory's layer and security group.
    couriers = _function(inner, names.COURIERS_HANDLER)["Properties"]
    api = _function(outer, API_HANDLER)["Properties"]
    assert couriers["Code"]["S3Key"] == api["Code"]["S3Key"]
    assert len(couriers["Layers"]) == len(api["Layers"]) == 1
    (group,) = couriers["VpcConfig"]["SecurityGroupIds"]
    (parameter,) = group.values()
    sg_id = base.stack.get_logical_id(base.functions.security_group.node.default_child)
    (nested_resource,) = resources_of(outer, "AWS::CloudFormation::Stack").values()
    assert nested_resource["Properties"]["Parameters"][parameter] == {"Fn::GetAtt": [sg_id, "GroupId"]}


def test_a_function_added_under_another_stack_takes_its_dead_letters_and_alarm_along():
    base = commerce_base()
    nested = NestedStack(base.stack, "Elsewhere")
    fn = base.functions.add("scheduled", handler="x.handler", memory_mb=128, timeout_s=5, environment={},
                            invoked_synchronously=False, scope=nested)
    assert Stack.of(fn) is nested
    inner, outer = _template(nested), _template(base.stack)
    assert len(resources_of(inner, "AWS::SQS::Queue")) == 1 and len(resources_of(inner, "AWS::CloudWatch::Alarm")) == 1
    assert "x.handler" not in json.dumps(outer) and not resources_of(outer, "AWS::SQS::Queue")
    with pytest.raises(ValueError, match="'scheduled' already exists"):
        base.functions.add("scheduled", handler="x.handler", memory_mb=128, timeout_s=5, environment={})


# ---- the reference app -------------------------------------------------------------------

def _nested_template(app, construct) -> dict:
    return json.loads((app.outdir / Stack.of(construct).template_file).read_text())


def test_the_reference_app_deploys_location_in_a_nested_stack_of_commerce(any_app):
    commerce = any_app.reference.stacks["Commerce"]
    built = commerce.location
    assert isinstance(Stack.of(built), NestedStack) and Stack.of(built).nested_stack_parent is commerce
    parent, inner = any_app.top_template("Commerce"), _nested_template(any_app, built)
    for type_ in LOCATION_TYPES:
        assert len(resources_of(inner, type_)) == 1 and not resources_of(parent, type_), type_
    (table,) = resources_of(inner, "AWS::DynamoDB::GlobalTable").values()
    assert table["Properties"]["GlobalSecondaryIndexes"][0]["IndexName"] == model.STORES_BY_CELL.name
    # The public routes are the API's own function, here with the others.
    methods = {m["Properties"]["OperationName"] for m in resources_of(parent, "AWS::ApiGateway::Method").values()
               if m["Properties"]["HttpMethod"] == "GET"}
    assert {"findStores", "getOrderTracking"} <= methods
    geo = _by_action(_statements(parent, _role_of(parent, API_HANDLER)), "geo")
    assert set(geo) == {"geo-places:Geocode", "geo-routes:CalculateRoutes"}
    # FindStore asks the same locator: Query on the cell index, Geocode, the table's name.
    fulfillment = _statements(parent, _role_of(parent, FULFILLMENT_HANDLER))
    assert set(_by_action(fulfillment, "geo")) == {"geo-places:Geocode"}
    (query,) = _by_action(fulfillment, "dynamodb:Query")["dynamodb:Query"]
    assert json.dumps(query).endswith(f'"/index/{model.STORES_BY_CELL.name}"]]}}')
    assert settings.LOCATION_TABLE_NAME in _function(parent, FULFILLMENT_HANDLER)["Properties"]["Environment"][
        "Variables"]
    outputs = parent["Outputs"]
    assert {"LocationCouriersFunction", "LocationApiKeyName"} <= set(outputs)


def test_prod_binds_the_clients_key_to_the_storefront(prod_app):
    inner = _nested_template(prod_app, prod_app.reference.stacks["Commerce"].location)
    (key,) = resources_of(inner, "AWS::Location::APIKey").values()
    assert key["Properties"]["Restrictions"]["AllowReferers"] == ["https://shop.example.com/*",
                                                                  "https://m.shop.example.com/*"]
    (table,) = resources_of(inner, "AWS::DynamoDB::GlobalTable").values()
    assert table["DeletionPolicy"] == "RetainExceptOnCreate"
    # Named after the deployed stack (a nested stack's own name is made up by CloudFormation).
    (tracker,) = resources_of(inner, "AWS::Location::Tracker").values()
    assert tracker["Properties"]["TrackerName"].startswith("HeadlessCommerce-prod-Commerce-")


@pytest.fixture(scope="module")
def location_off(tmp_path_factory):
    from headless_commerce.app_builder import build

    outdir = tmp_path_factory.mktemp("location-off")
    reference = build({"profile": "dev", "location": "false", "integration": "false", "web": "false",
                       "edge": "false"}, outdir=str(outdir))
    reference.app.synth()
    return outdir, reference


def test_location_off_creates_nothing_of_it(location_off):
    outdir, reference = location_off
    commerce = reference.stacks["Commerce"]
    assert commerce.location is None
    assert not list(outdir.glob("*.nested.template.json")) or all(
        "Location" not in p.name for p in outdir.glob("*.nested.template.json"))
    everything = [json.loads(p.read_text()) for p in outdir.glob("*.template.json")]
    for template in everything:
        for type_ in LOCATION_TYPES:
            assert not resources_of(template, type_), type_
        handlers = {f["Properties"]["Handler"] for f in resources_of(template, "AWS::Lambda::Function").values()}
        assert not handlers & {API_HANDLER, names.GEOFENCE_HANDLER, names.COURIERS_HANDLER}
        assert "findStores" not in json.dumps(template) and '"geo-places:' not in json.dumps(template)
