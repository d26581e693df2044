"""Delivery tracking: assigning a courier, ingesting positions, the geofence events that move
an order OUT_FOR_DELIVERY then ARRIVING exactly once (replays, duplicates and a late EXIT do
nothing), and GET /orders/{order_id}/tracking for the owner only (others get 404)."""

from __future__ import annotations

import uuid

import pytest

from headless_commerce.runtime.common import dynamo
from headless_commerce.runtime.location import couriers, geofences, tracking
from headless_commerce.runtime.location import deliveries_repository as deliveries
from headless_commerce.runtime.location import provider as location_provider
from headless_commerce.runtime.location import stores_repository as stores
from headless_commerce.runtime.location.local_provider import LocalLocation
from headless_commerce.runtime.orders import repository as orders_repository
from tests.runtime.conftest import add, call, checkout, outbox_stream_records, sqs_event
from tests.runtime.test_location_stores import GAZETTEER, STORES, create_location_table

BERLIN_HOME = (52.5300, 13.3850)   # about 2.5 km from the Mitte store


def geofence_event(kind: str, geofence_id: str, courier: str, at: str, event_id: str | None = None) -> dict:
    return {"version": "0", "id": event_id or str(uuid.uuid4()), "detail-type": "Location Geofence Event",
            "source": "aws.geo", "account": "123456789012", "time": at, "region": "us-east-1",
            "resources": [], "detail": {"EventType": kind, "GeofenceId": geofence_id, "DeviceId": courier,
                                        "SampleTime": at, "Position": [13.4, 52.52]}}


def deliver(*events: dict) -> dict:
    return geofences.handler(sqs_event(*events), None)


def status_events(order_id: str) -> list[str]:
    """The delivery statuses announced for the order (outbox items), oldest first."""
    details = [dynamo.from_item(r["dynamodb"]["NewImage"]) for r in outbox_stream_records("OrderStatusChanged")]
    found = sorted((d["occurred_at"], d["detail"]["to"]) for d in details if d["detail"]["order_id"] == order_id)
    return [to for _, to in found if to in ("OUT_FOR_DELIVERY", "ARRIVING")]


@pytest.fixture
def local_location(catalog, sandbox):
    create_location_table()
    stores.put_many(STORES)
    provider = LocalLocation(GAZETTEER)
    location_provider.set_provider(provider)
    yield provider
    location_provider.set_provider(None)


@pytest.fixture
def shipped(local_location) -> dict:
    """Alice's order, accepted by the OMS and shipped, with courier c-1 from the Mitte store."""
    add("alice", "mug-1", 1)
    order = checkout("alice", f"key-track-{uuid.uuid4().hex[:8]}").body
    for status in ("ACCEPTED_BY_OMS", "SHIPPED"):
        current = orders_repository.get(order["order_id"])["status"]
        assert orders_repository.set_status_if(order["order_id"], current, to=status, at="2026-11-26T04:00:00Z",
                                               event_id=str(uuid.uuid4()))
    tracking.assign(order["order_id"], "c-1", "berlin-mitte", BERLIN_HOME)
    return order


def test_assign_puts_both_geofences_and_the_delivery(shipped, local_location):
    assert set(local_location.geofences) == {"store-berlin-mitte", f"order-{shipped['order_id']}"}
    delivery = deliveries.get(shipped["order_id"])
    assert (delivery["courier_id"], delivery["customer_id"]) == ("c-1", "alice")
    assert [link["order_id"] for link in deliveries.orders_of("c-1")] == [shipped["order_id"]]


def test_exit_then_enter_moves_the_order_once_each(shipped):
    order_id = shipped["order_id"]
    leave = geofence_event("EXIT", "store-berlin-mitte", "c-1", "2026-11-26T05:00:00Z")
    arrive = geofence_event("ENTER", f"order-{order_id}", "c-1", "2026-11-26T05:10:00Z")
    assert deliver(leave) == {"batchItemFailures": []}
    assert orders_repository.get(order_id)["status"] == "OUT_FOR_DELIVERY"
    assert deliver(leave, leave) == {"batchItemFailures": []}        # duplicates
    assert deliver(arrive) == {"batchItemFailures": []}
    assert orders_repository.get(order_id)["status"] == "ARRIVING"
    assert deliver(arrive, leave) == {"batchItemFailures": []}       # replay, and a late EXIT
    assert orders_repository.get(order_id)["status"] == "ARRIVING"
    assert status_events(order_id) == ["OUT_FOR_DELIVERY", "ARRIVING"]


def test_enter_before_exit_skips_out_for_delivery(shipped):
    order_id = shipped["order_id"]
    deliver(geofence_event("ENTER", f"order-{order_id}", "c-1", "2026-11-26T05:10:00Z"))
    deliver(geofence_event("EXIT", "store-berlin-mitte", "c-1", "2026-11-26T05:00:00Z"))
    assert orders_repository.get(order_id)["status"] == "ARRIVING"
    assert status_events(order_id) == ["ARRIVING"]


def test_other_couriers_stores_and_directions_change_nothing(shipped):
    order_id = shipped["order_id"]
    deliver(geofence_event("EXIT", "store-berlin-mitte", "c-2", "2026-11-26T05:00:00Z"),   # not its courier
            geofence_event("EXIT", "store-potsdam", "c-1", "2026-11-26T05:00:00Z"),         # not its store
            geofence_event("ENTER", "store-berlin-mitte", "c-1", "2026-11-26T05:00:00Z"),   # entering a store
            geofence_event("ENTER", f"order-{order_id}", "c-2", "2026-11-26T05:00:00Z"),     # not its courier
            geofence_event("ENTER", "order-nope", "c-1", "2026-11-26T05:00:00Z"))
    assert orders_repository.get(order_id)["status"] == "SHIPPED" and status_events(order_id) == []


def test_an_order_the_oms_has_not_accepted_is_not_moved(local_location):
    add("alice", "mug-1", 1)
    order = checkout("alice", "key-track-early").body
    tracking.assign(order["order_id"], "c-9", "berlin-mitte", BERLIN_HOME)
    deliver(geofence_event("EXIT", "store-berlin-mitte", "c-9", "2026-11-26T05:00:00Z"))
    assert orders_repository.get(order["order_id"])["status"] == "CONFIRMED"


def test_unreadable_events_are_dead_lettered(shipped, dead_letters):
    from tests.runtime.conftest import queue_messages

    assert deliver("not json", {"source": "aws.geo", "detail-type": "Location Geofence Event", "detail": {}}) \
        == {"batchItemFailures": []}
    reasons = [m["MessageAttributes"]["reason"]["StringValue"] for m in queue_messages(dead_letters)]
    assert len(reasons) == 2


def test_positions_drive_the_geofences_locally(shipped, local_location):
    order_id = shipped["order_id"]
    local_location.on_geofence_event = lambda detail: geofences.apply(
        {"id": str(uuid.uuid4()), "source": "aws.geo", "detail-type": "Location Geofence Event", "detail": detail})
    path = [(52.5219, 13.4132), (52.5250, 13.4000), (52.5290, 13.3880), (52.5300, 13.3851)]
    for i, (lat, lon) in enumerate(path):
        reply = couriers.handler({"action": "positions", "positions": [
            {"courier_id": "c-1", "lat": lat, "lon": lon, "sampled_at": f"2026-11-26T05:0{i}:00Z"}]})
        assert reply == {"accepted": 1, "refused": []}
    assert orders_repository.get(order_id)["status"] == "ARRIVING"
    assert status_events(order_id) == ["OUT_FOR_DELIVERY", "ARRIVING"]
    assert deliveries.position("c-1")["sampled_at"] == "2026-11-26T05:03:00Z"
    # An older sample never moves the kept position back.
    couriers.handler({"action": "positions", "positions": [
        {"courier_id": "c-1", "lat": 52.52, "lon": 13.41, "sampled_at": "2026-11-26T04:59:00Z"}]})
    assert deliveries.position("c-1")["lat"] == pytest.approx(52.53)


@pytest.mark.parametrize("event, field", [
    ({"action": "fly"}, "action"),
    ({"action": "positions", "positions": []}, "positions"),
    ({"action": "positions", "positions": [{"courier_id": "c 1", "lat": 0, "lon": 0,
                                            "sampled_at": "2026-11-26T05:00:00Z"}]}, "courier_id"),
    ({"action": "positions", "positions": [{"courier_id": "c1", "lat": 91, "lon": 0,
                                            "sampled_at": "2026-11-26T05:00:00Z"}]}, "lat"),
    ({"action": "positions", "positions": [{"courier_id": "c1", "lat": 0, "lon": 0, "sampled_at": "now"}]},
     "sampled_at"),
    ({"action": "assign", "order_id": "nope", "courier_id": "c1", "store_id": "berlin-mitte"}, "order_id"),
])
def test_the_couriers_function_answers_bad_input_with_an_error_body(local_location, event, field):
    reply = couriers.handler(event)
    assert reply["error"]["field"] == field


def test_tracking_is_visible_only_to_the_owner(shipped):
    order_id = shipped["order_id"]
    before = call("GET", "/orders/{order_id}/tracking", sub="alice", path_params={"order_id": order_id})
    assert before.status == 200 and before.body["courier"] is None and before.body["eta"] is None
    tracking.record_positions([{"courier_id": "c-1", "lat": 52.5219, "lon": 13.4132,
                                "sampled_at": "2026-11-26T05:00:00Z"}])
    mine = call("GET", "/orders/{order_id}/tracking", sub="alice", path_params={"order_id": order_id})
    assert mine.status == 200, mine.body
    assert mine.body["courier"] == {"lat": 52.5219, "lon": 13.4132, "updated_at": "2026-11-26T05:00:00Z"}
    assert 0 < mine.body["eta"]["duration_s"] < 3600 and mine.body["eta"]["distance_km"] > 2
    other = call("GET", "/orders/{order_id}/tracking", sub="bob", path_params={"order_id": order_id})
    missing = call("GET", "/orders/{order_id}/tracking", sub="alice", path_params={"order_id": "nope"})
    assert other.status == missing.status == 404 and other.body == missing.body
    assert call("GET", "/orders/{order_id}/tracking", path_params={"order_id": order_id}).status == 401


class NoRoutes(LocalLocation):
    def route(self, origin, destination):
        from headless_commerce.runtime.common.domain_errors import LocationUnavailable

        raise LocationUnavailable()


def test_tracking_without_routing_still_shows_the_position(shipped):
    location_provider.set_provider(NoRoutes(GAZETTEER))
    tracking.record_positions([{"courier_id": "c-1", "lat": 52.5219, "lon": 13.4132,
                                "sampled_at": "2026-11-26T05:00:00Z"}])
    reply = call("GET", "/orders/{order_id}/tracking", sub="alice", path_params={"order_id": shipped["order_id"]})
    assert reply.status == 200 and reply.body["courier"] is not None and reply.body["eta"] is None


def test_the_couriers_function_assigns_and_records_positions(local_location):
    add("alice", "mug-1", 1)
    order = checkout("alice", "key-track-couriers").body
    assigned = couriers.handler({"action": "assign", "order_id": order["order_id"], "courier_id": "c-7",
                                 "store_id": "berlin-mitte", "destination": list(BERLIN_HOME)})
    assert assigned["courier_id"] == "c-7" and deliveries.get(order["order_id"])["store_id"] == "berlin-mitte"
    assert couriers.handler({"action": "positions", "positions": [
        {"courier_id": "c-7", "lat": 52.52, "lon": 13.41, "sampled_at": "2026-11-26T05:00:00Z"}]}) == \
        {"accepted": 1, "refused": []}
