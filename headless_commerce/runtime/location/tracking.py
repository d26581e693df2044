"""Delivery tracking: a courier is assigned an order (geofences around its store and the
delivery address), couriers' positions are ingested (the tracker evaluates the geofences), and
the order's owner sees the courier's last position and an ETA. Anyone else gets 404.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from headless_commerce import model
from headless_commerce.runtime.common.domain_errors import InvalidLocation, LocationUnavailable, NotFound
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.location import deliveries_repository as deliveries
from headless_commerce.runtime.location import names, params
from headless_commerce.runtime.location import stores_repository as stores
from headless_commerce.runtime.location.provider import PositionUpdate, get_provider
from headless_commerce.runtime.orders import repository as orders

_COURIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
MAX_POSITIONS = 100
_DONE = frozenset({model.OrderStatus.DELIVERED.value, *model.TERMINAL_ORDER_STATUSES})


def _address_text(address: dict) -> str:
    return ", ".join(p for p in (address.get("line1"), address.get("postal_code"), address.get("city"),
                                 address.get("country")) if p)


def assign(order_id: str, courier_id: str, store_id: str, destination: tuple[float, float] | None = None) -> dict:
    """Give the order to a courier leaving from a store. The destination defaults to the
    order's shipping address, geocoded. Raises NotFound, InvalidLocation, LocationUnavailable."""
    if not _COURIER.match(courier_id or ""):
        raise InvalidLocation("courier_id", "courier_id must be 1-64 letters, digits, '.', '_' or '-'")
    order = orders.get(order_id)
    if order is None:
        raise NotFound("Order", "order_id")
    store = stores.get(store_id)
    if store is None:
        raise NotFound("Store", "store_id")
    if destination is None:
        address = order.get("shipping_address")
        place = get_provider().geocode(_address_text(address)) if address else None
        if place is None:
            raise InvalidLocation("destination", "the order has no shipping address that can be located; "
                                                 "give the destination")
        destination = (place.lat, place.lon)
    params.check_point(*destination)
    provider = get_provider()
    provider.put_geofence(f"{names.STORE_GEOFENCE_PREFIX}{store_id}", store["lat"], store["lon"],
                          names.STORE_GEOFENCE_RADIUS_M)
    provider.put_geofence(f"{names.ORDER_GEOFENCE_PREFIX}{order_id}", *destination, names.ARRIVAL_GEOFENCE_RADIUS_M)
    delivery = {"order_id": order_id, "customer_id": order["customer_id"], "courier_id": courier_id,
                "store_id": store_id, "store_lat": store["lat"], "store_lon": store["lon"],
                "dest_lat": destination[0], "dest_lon": destination[1],
                "assigned_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    deliveries.assign(delivery)
    return delivery


def _update(raw: object) -> PositionUpdate:
    if not isinstance(raw, dict):
        raise InvalidLocation("positions", "each position must be an object")
    courier, at = raw.get("courier_id"), raw.get("sampled_at")
    if not isinstance(courier, str) or not _COURIER.match(courier):
        raise InvalidLocation("courier_id", "courier_id must be 1-64 letters, digits, '.', '_' or '-'")
    if not isinstance(at, str) or not _TIME.match(at):
        raise InvalidLocation("sampled_at", "sampled_at must be a UTC time such as 2026-11-26T05:00:00Z")
    params.check_point(raw.get("lat"), raw.get("lon"))
    return PositionUpdate(courier, float(raw["lat"]), float(raw["lon"]), at)


def record_positions(positions: list) -> dict:
    """Send couriers' positions to the tracker (which evaluates the geofences) and keep each
    courier's latest. {"accepted", "refused": [courier ids]}."""
    if not isinstance(positions, list) or not 1 <= len(positions) <= MAX_POSITIONS:
        raise InvalidLocation("positions", f"positions must be a list of 1 to {MAX_POSITIONS}")
    updates = [_update(p) for p in positions]
    refused = set(get_provider().update_positions(updates))
    for update in updates:
        if update.courier_id not in refused:
            deliveries.record_position(update.courier_id, update.lat, update.lon, update.sampled_at)
    return {"accepted": sum(u.courier_id not in refused for u in updates), "refused": sorted(refused)}


def order_tracking(order_id: str, customer_id: str) -> dict:
    """GET /orders/{order_id}/tracking: the courier's last position and an ETA, only for the
    order's owner (another customer's order is indistinguishable from a missing one)."""
    order = orders.get(order_id)
    if order is None or order["customer_id"] != customer_id:
        raise NotFound("Order", "order_id")
    view = {"order_id": order_id, "status": order["status"], "courier": None, "eta": None}
    delivery = deliveries.get(order_id)
    if delivery is None:
        return view
    position = deliveries.position(delivery["courier_id"])
    if position is None:
        return view
    view["courier"] = {"lat": position["lat"], "lon": position["lon"], "updated_at": position["sampled_at"]}
    if order["status"] in _DONE:
        return view
    try:
        route = get_provider().route((position["lat"], position["lon"]), (delivery["dest_lat"], delivery["dest_lon"]))
    except LocationUnavailable:
        # The position is ours (the table); only the estimate needs Amazon Location.
        logger.warning("no ETA: Amazon Location unavailable", extra={"order_id": order_id})
        return view
    arrive = datetime.now(UTC) + timedelta(seconds=route.duration_s)
    view["eta"] = {"duration_s": route.duration_s, "distance_km": round(route.distance_km, 3),
                   "arrive_by": arrive.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return view
