"""Location templates: the stores table with its cell index, the clients' API key allowed only
the V2 actions used, the CMK-encrypted tracker and geofence collection linked by a tracker
consumer, the geofence rule on the default bus, exact grants; and the props rules (existing
table, locked keys, referers). The reference app does not deploy it yet (README)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Template

from headless_commerce import model
from headless_commerce.constructs._defaults import LOCATION_API_KEY_ACTIONS
from headless_commerce.constructs.location import Location
from headless_commerce.runtime import settings

from .helpers import commerce_base


def _of(template: dict, type_: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _build(**props):
    base = commerce_base()
    built = Location(base.stack, "Location", profile=base.profile, functions=base.functions,
                     commerce_table=base.table, encryption_key=base.key, **props)
    api = base.functions.add("location", handler="headless_commerce.runtime.location.handler.handler",
                             memory_mb=256, timeout_s=10, environment={})
    built.grant_locator(api)
    return base.stack, built, Template.from_stack(base.stack).to_json()


def _statements(template: dict) -> list[dict]:
    return [s for p in {**_of(template, "AWS::IAM::Policy"), **_of(template, "AWS::IAM::ManagedPolicy")}.values()
            for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_the_location_resources_are_cmk_encrypted_and_linked():
    stack, built, template = _build()
    (key,) = _of(template, "AWS::Location::APIKey").values()
    restrictions = key["Properties"]["Restrictions"]
    assert sorted(restrictions["AllowActions"]) == sorted(LOCATION_API_KEY_ACTIONS)
    assert all(a.split(":")[0] in ("geo-places", "geo-maps", "geo-routes") for a in restrictions["AllowActions"])
    resources = json.dumps(restrictions["AllowResources"])
    assert all(f":{s}:" in resources for s in ("geo-places", "geo-maps", "geo-routes"))
    assert key["Properties"]["NoExpiry"] is True and "AllowReferers" not in restrictions
    (tracker,) = _of(template, "AWS::Location::Tracker").values()
    (collection,) = _of(template, "AWS::Location::GeofenceCollection").values()
    assert "KmsKeyId" in tracker["Properties"] and "KmsKeyId" in collection["Properties"]
    assert tracker["Properties"]["PositionFiltering"] == "DistanceBased"
    (consumer,) = _of(template, "AWS::Location::TrackerConsumer").values()
    assert consumer["Properties"]["ConsumerArn"] == {"Fn::GetAtt": [stack.get_logical_id(built.geofence_collection),
                                                                     "Arn"]}


def test_the_store_table_has_its_cell_index():
    _stack, _built, template = _build()
    (table,) = [t for t in _of(template, "AWS::DynamoDB::GlobalTable").values()
                if any(i["IndexName"] == model.STORES_BY_CELL.name
                       for i in t["Properties"].get("GlobalSecondaryIndexes", []))]
    (index,) = table["Properties"]["GlobalSecondaryIndexes"]
    assert [k["AttributeName"] for k in index["KeySchema"]] == [model.STORES_BY_CELL.partition_key,
                                                                 model.STORES_BY_CELL.sort_key]
    assert "KMSMasterKeyId" in json.dumps(table["Properties"]["Replicas"])


def test_the_locator_gets_exact_grants():
    stack, built, template = _build()
    (api_role,) = [k for k, r in _of(template, "AWS::IAM::Role").items() if k.startswith("FnslocationRole")]
    statements = [s for p in {**_of(template, "AWS::IAM::Policy"), **_of(template, "AWS::IAM::ManagedPolicy")}.values()
                  if api_role in json.dumps(p["Properties"].get("Roles"))
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    geo = [s for s in statements if any(str(a).startswith(("geo", "geo-")) for a in
                                        (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]
    actions = sorted(a for s in geo for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))
    assert actions == ["geo-places:Geocode", "geo-routes:CalculateRoutes"]
    assert all("provider/default" in json.dumps(s["Resource"]) for s in geo)
    table_id = stack.get_logical_id(built.table.node.default_child)
    dynamo = [s for s in statements if json.dumps(s).count(table_id) and "dynamodb:Query" in json.dumps(s)]
    (grant,) = dynamo
    assert sorted(grant["Action"]) == ["dynamodb:GetItem", "dynamodb:Query"]
    (fn,) = [f for f in _of(template, "AWS::Lambda::Function").values()
             if f["Properties"]["Handler"].endswith("location.handler.handler")]
    assert settings.LOCATION_TABLE_NAME in fn["Properties"]["Environment"]["Variables"]


def test_referers_bind_the_key_and_an_expiry_replaces_no_expiry():
    _stack, _built, template = _build(allowed_referers=["https://shop.example.com/*"],
                                      api_key_expire_time="2027-06-30T00:00:00Z")
    (key,) = _of(template, "AWS::Location::APIKey").values()
    assert key["Properties"]["Restrictions"]["AllowReferers"] == ["https://shop.example.com/*"]
    assert key["Properties"]["ExpireTime"] == "2027-06-30T00:00:00Z" and "NoExpiry" not in key["Properties"]


def test_an_existing_table_is_used_and_not_created():
    base = commerce_base()
    existing = dynamodb.TableV2.from_table_name(base.stack, "Stores", "stores")
    built = Location(base.stack, "Location", profile=base.profile, functions=base.functions,
                     commerce_table=base.table, existing_table=existing)
    assert built.table is existing
    template = Template.from_stack(base.stack).to_json()
    assert not [t for t in _of(template, "AWS::DynamoDB::GlobalTable").values()
                if "ByCell" in json.dumps(t)]


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


def test_geofence_events_come_from_the_default_bus_and_couriers_get_exact_geo_grants():
    stack, built, template = _build()
    rules = [r for r in _of(template, "AWS::Events::Rule").values()
             if r["Properties"].get("EventPattern", {}).get("source") == ["aws.geo"]]
    (rule,) = rules
    assert rule["Properties"]["EventPattern"]["detail-type"] == ["Location Geofence Event"]
    assert "EventBusName" not in rule["Properties"] or rule["Properties"]["EventBusName"] == "default"
    role_id = stack.get_logical_id(built.couriers.role.node.default_child)
    statements = [s for p in _of(template, "AWS::IAM::Policy").values()
                  if role_id in json.dumps(p["Properties"]["Roles"])
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    geo = {a: s["Resource"] for s in statements
           for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]) if a.startswith("geo")}
    tracker_id = stack.get_logical_id(built.tracker)
    collection_id = stack.get_logical_id(built.geofence_collection)
    assert geo["geo:BatchUpdateDevicePosition"] == {"Fn::GetAtt": [tracker_id, "Arn"]}
    assert geo["geo:PutGeofence"] == {"Fn::GetAtt": [collection_id, "Arn"]}
    assert set(geo) == {"geo:BatchUpdateDevicePosition", "geo:PutGeofence", "geo-places:Geocode"}
    (fn,) = [f for f in _of(template, "AWS::Lambda::Function").values()
             if f["Properties"]["Handler"].endswith("location.couriers.handler")]
    variables = fn["Properties"]["Environment"]["Variables"]
    assert {settings.LOCATION_TRACKER_NAME, settings.LOCATION_GEOFENCE_COLLECTION} <= set(variables)
