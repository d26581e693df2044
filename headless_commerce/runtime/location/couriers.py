"""Lambda entry point for the couriers' side, invoked by the fleet's own backend (never public):
`{"action": "assign", "order_id", "courier_id", "store_id", "destination": [lat, lon]?}` and
`{"action": "positions", "positions": [{"courier_id", "lat", "lon", "sampled_at"}, ...]}`.
Errors come back as `{"error": {"code", "message", "field"}}`, never as a crash.

Env: TABLE_NAME, LOCATION_TABLE_NAME, LOCATION_TRACKER_NAME, LOCATION_GEOFENCE_COLLECTION.
"""

from __future__ import annotations

from headless_commerce.runtime.common.domain_errors import DomainError, InvalidLocation
from headless_commerce.runtime.common.errors import from_domain
from headless_commerce.runtime.common.logging import lambda_entry
from headless_commerce.runtime.location import tracking


def dispatch(event: object) -> dict:
    if not isinstance(event, dict):
        raise InvalidLocation("action", "the event must be an object with an action")
    action = event.get("action")
    if action == "positions":
        return tracking.record_positions(event.get("positions"))
    if action == "assign":
        destination = event.get("destination")
        if destination is not None and not (isinstance(destination, list) and len(destination) == 2):
            raise InvalidLocation("destination", "destination must be [lat, lon]")
        return tracking.assign(str(event.get("order_id") or ""), str(event.get("courier_id") or ""),
                               str(event.get("store_id") or ""), tuple(destination) if destination else None)
    raise InvalidLocation("action", "action must be assign or positions")


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    try:
        return dispatch(event)
    except DomainError as error:
        return from_domain(error).body()
