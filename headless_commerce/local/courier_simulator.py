"""Local mode's courier simulator (`POST /_local/couriers/simulate`): every order fulfilment has
taken over (accepted, picked or shipped) that has no courier yet gets one from the demo store
nearest its address, driven along a straight line to it in a background thread through the same
ingestion (tracking.record_positions) and geofence logic (geofences.apply) as deployed; so
`GET /orders/{id}/tracking` and the storefront's tracking view move, and the order becomes
OUT_FOR_DELIVERY, then ARRIVING."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

from headless_commerce import model
from headless_commerce.runtime.common import aws, dynamo
from headless_commerce.runtime.common.domain_errors import DomainError
from headless_commerce.runtime.location import deliveries_repository as deliveries
from headless_commerce.runtime.location import geofences, service, tracking
from headless_commerce.runtime.location.provider import get_provider

SIMULATE_PATH = "/_local/couriers/simulate"
STEPS = 20
STEP_INTERVAL_S = 1.0
_CARRIED = (model.OrderStatus.ACCEPTED_BY_OMS.value, model.OrderStatus.PICKED.value,
            model.OrderStatus.SHIPPED.value)
# An order without a locatable address is delivered this far north-east of its store.
_FALLBACK_OFFSET = (0.02, 0.02)


def forward_geofence_event(detail: dict) -> None:
    """The local provider's ENTER/EXIT, as the deployed rule delivers it to the consumer."""
    geofences.apply({"id": str(uuid.uuid4()), "source": "aws.geo", "detail-type": "Location Geofence Event",
                     "detail": detail})


def _waiting_orders() -> list[dict]:
    # A scan, in local mode only: the deployed fleet assigns orders through the couriers function.
    items = aws.dynamodb().scan(TableName=dynamo.table_name(), FilterExpression="entity = :e",
                                ExpressionAttributeValues=dynamo.values(e=model.Entity.ORDER))["Items"]
    found = [dynamo.from_item(i) for i in items]
    return [o for o in found if o["status"] in _CARRIED and deliveries.get(o["order_id"]) is None]


def _destination(order: dict) -> tuple[float, float] | None:
    address = order.get("shipping_address") or {}
    place = get_provider().geocode(", ".join(str(v) for v in address.values())) if address else None
    return (place.lat, place.lon) if place else None


def _drive(courier: str, start: tuple[float, float], end: tuple[float, float], stop: threading.Event) -> None:
    for step in range(STEPS + 1):
        if stop.wait(0 if step == 0 else STEP_INTERVAL_S):
            return
        f = step / STEPS
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        tracking.record_positions([{"courier_id": courier, "lat": start[0] + (end[0] - start[0]) * f,
                                    "lon": start[1] + (end[1] - start[1]) * f, "sampled_at": at}])


class CourierSimulator:
    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self.threads: list[threading.Thread] = []

    def simulate(self) -> dict:
        started = []
        for order in _waiting_orders():
            destination = _destination(order)
            nearest = service.nearest_stores(*destination, 200, 1) if destination else []
            store = nearest[0] if nearest else service.nearest_stores(52.52, 13.405, 200, 1)[0]
            start = (store["lat"], store["lon"])
            end = destination or (start[0] + _FALLBACK_OFFSET[0], start[1] + _FALLBACK_OFFSET[1])
            courier = f"courier-{order['order_id'][:12]}"
            try:
                tracking.assign(order["order_id"], courier, store["store_id"], end)
            except DomainError:
                continue
            thread = threading.Thread(target=_drive, args=(courier, start, end, self._stop),
                                      name=f"courier-{order['order_id'][:8]}", daemon=True)
            thread.start()
            self.threads.append(thread)
            started.append(order["order_id"])
        return {"started": started}
