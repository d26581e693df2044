"""Amazon Location through the function's role: geocoding with geo-places `Geocode`, ETAs with
geo-routes `CalculateRoutes` (the resourceless V2 APIs), couriers' positions with the
tracker's `BatchUpdateDevicePosition` and geofences with `PutGeofence`.

Every call has a short timeout and no retry (aws.fail_fast_client): a shopper waiting on the store locator is better
served by a quick 503 than by botocore's default minute of retries. Throttling, timeouts,
endpoint and server errors become LocationUnavailable; a request Amazon Location calls invalid
(an address it cannot read) is "no match", never a 5xx.
"""

from __future__ import annotations

from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.domain_errors import LocationUnavailable
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.location.provider import Place, PositionUpdate, Route

DEFAULT_TIMEOUT_MS = 2000
# BatchUpdateDevicePosition takes at most 10 updates per call.
POSITIONS_PER_CALL = 10
_INVALID_INPUT = frozenset({"ValidationException"})


def _timeout_s() -> float:
    raw = settings.location_timeout_ms()
    if raw is None:
        return DEFAULT_TIMEOUT_MS / 1000
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{settings.LOCATION_TIMEOUT_MS} must be whole milliseconds, got {raw!r}") from None
    if not 100 <= value <= 10_000:
        raise ValueError(f"{settings.LOCATION_TIMEOUT_MS} must be 100..10000, got {value}")
    return value / 1000


class AmazonLocation:
    def __init__(self, *, places, routes, location, tracker_name: str | None,
                 geofence_collection: str | None) -> None:
        self._places, self._routes, self._location = places, routes, location
        self._tracker, self._collection = tracker_name, geofence_collection

    @classmethod
    def from_environment(cls) -> AmazonLocation:
        timeout = _timeout_s()
        return cls(places=aws.fail_fast_client("geo-places", timeout),
                   routes=aws.fail_fast_client("geo-routes", timeout),
                   location=aws.fail_fast_client("location", timeout),
                   tracker_name=settings.location_tracker_name(),
                   geofence_collection=settings.location_geofence_collection())

    def _call(self, operation: str, method, **kwargs) -> dict | None:
        """The response, None when Amazon Location rejects the input, or LocationUnavailable."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _INVALID_INPUT:
                logger.info("Amazon Location rejected the input", extra={"operation": operation, "code": code})
                return None
            logger.warning("Amazon Location failed", extra={"operation": operation, "code": code})
            raise LocationUnavailable() from error
        except BotoCoreError as error:     # timeouts, endpoint and connection errors
            logger.warning("Amazon Location unreachable", extra={"operation": operation,
                                                                 "error": type(error).__name__})
            raise LocationUnavailable() from error

    def geocode(self, text: str) -> Place | None:
        response = self._call("Geocode", self._places.geocode, QueryText=text, MaxResults=1)
        for item in (response or {}).get("ResultItems") or []:
            position = item.get("Position")
            if isinstance(position, list) and len(position) == 2:
                lon, lat = position        # GeoJSON order: longitude first
                return Place(label=item.get("Title") or text, lat=float(lat), lon=float(lon))
        return None

    def route(self, origin: tuple[float, float], destination: tuple[float, float]) -> Route:
        response = self._call("CalculateRoutes", self._routes.calculate_routes,
                              Origin=[origin[1], origin[0]], Destination=[destination[1], destination[0]],
                              TravelMode="Car", DepartNow=True)
        routes = (response or {}).get("Routes") or []
        summary = routes[0].get("Summary") if routes else None
        if not summary:
            # No road between the two (an island, a bad position): the caller shows no ETA.
            raise LocationUnavailable()
        return Route(distance_km=summary["Distance"] / 1000, duration_s=int(summary["Duration"]))

    def update_positions(self, updates: list[PositionUpdate]) -> list[str]:
        if not self._tracker:
            raise RuntimeError(f"{settings.LOCATION_TRACKER_NAME} is not set")
        refused: list[str] = []
        for start in range(0, len(updates), POSITIONS_PER_CALL):
            chunk = updates[start:start + POSITIONS_PER_CALL]
            response = self._call("BatchUpdateDevicePosition", self._location.batch_update_device_position,
                                  TrackerName=self._tracker,
                                  Updates=[{"DeviceId": u.courier_id, "Position": [u.lon, u.lat],
                                            "SampleTime": u.sampled_at} for u in chunk])
            if response is None:
                refused += [u.courier_id for u in chunk]
                continue
            refused += [error["DeviceId"] for error in response.get("Errors") or []]
        return refused

    def put_geofence(self, geofence_id: str, lat: float, lon: float, radius_m: float) -> None:
        if not self._collection:
            raise RuntimeError(f"{settings.LOCATION_GEOFENCE_COLLECTION} is not set")
        self._call("PutGeofence", self._location.put_geofence, CollectionName=self._collection,
                   GeofenceId=geofence_id, Geometry={"Circle": {"Center": [lon, lat], "Radius": radius_m}})
