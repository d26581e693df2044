"""The interface both location back ends implement, and the process-wide provider.

Amazon Location (aws_provider.py: geo-places, geo-routes, the tracker and the geofence
collection) runs in AWS; local mode and tests install local_provider.py (a gazetteer and
straight-line ETAs, geofences evaluated in process). The services only see this interface.
Providers raise LocationUnavailable (domain_errors) for throttling, timeouts and endpoint
errors, so callers answer 503 and nothing else in the store is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from headless_commerce.runtime import settings
from headless_commerce.runtime.common.provider_slot import ProviderSlot


@dataclass(frozen=True)
class Place:
    label: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Route:
    distance_km: float
    duration_s: int


@dataclass(frozen=True)
class PositionUpdate:
    courier_id: str
    lat: float
    lon: float
    sampled_at: str        # ISO 8601 UTC


class LocationProvider(Protocol):
    def geocode(self, text: str) -> Place | None:
        """The best match for an address, postcode or place name; None when nothing matches."""
        ...

    def route(self, origin: tuple[float, float], destination: tuple[float, float]) -> Route:
        """Driving distance and time between two (lat, lon) points."""
        ...

    def update_positions(self, updates: list[PositionUpdate]) -> list[str]:
        """Send couriers' positions to the tracker (which evaluates the linked geofences);
        returns the courier ids whose update was refused."""
        ...

    def put_geofence(self, geofence_id: str, lat: float, lon: float, radius_m: float) -> None:
        """Create or replace a circular geofence."""
        ...


def _build() -> LocationProvider:
    kind = settings.location_provider()
    if kind != "aws":
        raise RuntimeError(f"location provider {kind!r} must be installed with set_provider()")
    from headless_commerce.runtime.location.aws_provider import AmazonLocation

    return AmazonLocation.from_environment()


_slot: ProviderSlot[LocationProvider] = ProviderSlot(_build)
# Local mode and tests install their provider (None forgets it); otherwise the first use builds
# Amazon Location's from the environment.
set_provider = _slot.set
get_provider = _slot.get
