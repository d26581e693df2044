"""Location without AWS, for local mode and tests: a gazetteer (place names and postcodes with
their coordinates, built from the demo stores' cities), straight-line ETAs, and circular
geofences evaluated in process, emitting the same ENTER/EXIT detail Amazon Location puts on
EventBridge."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from headless_commerce.runtime.location import geo
from headless_commerce.runtime.location.provider import Place, PositionUpdate, Route

# A courier in town: roads are about a third longer than the straight line, at 30 km/h.
ROAD_FACTOR = 1.3
SPEED_KMH = 30.0
_WORDS = re.compile(r"[^\w]+", re.UNICODE)


@dataclass(frozen=True)
class GazetteerEntry:
    name: str
    lat: float
    lon: float
    aliases: tuple[str, ...] = ()


def _normalize(text: str) -> str:
    return f" {_WORDS.sub(' ', text.casefold()).strip()} "


class LocalLocation:
    """`on_geofence_event(detail)` receives each ENTER/EXIT as Amazon Location's
    `Location Geofence Event` detail (EventType, GeofenceId, DeviceId, SampleTime, Position)."""

    def __init__(self, gazetteer: Iterable[GazetteerEntry],
                 on_geofence_event: Callable[[dict], None] | None = None) -> None:
        self._names: list[tuple[str, GazetteerEntry]] = []
        for entry in gazetteer:
            for name in (entry.name, *entry.aliases):
                self._names.append((_normalize(name), entry))
        # Longest names first, so "new york" wins over "york".
        self._names.sort(key=lambda pair: -len(pair[0]))
        self.on_geofence_event = on_geofence_event
        self._lock = threading.Lock()
        self.geofences: dict[str, tuple[float, float, float]] = {}
        self._inside: dict[str, set[str]] = {}
        self.positions: dict[str, PositionUpdate] = {}

    def geocode(self, text: str) -> Place | None:
        wanted = _normalize(text)
        for name, entry in self._names:
            if name.strip() and name in wanted:
                return Place(label=entry.name, lat=entry.lat, lon=entry.lon)
        return None

    def route(self, origin: tuple[float, float], destination: tuple[float, float]) -> Route:
        distance = geo.distance_km(*origin, *destination) * ROAD_FACTOR
        return Route(distance_km=distance, duration_s=round(distance / SPEED_KMH * 3600))

    def put_geofence(self, geofence_id: str, lat: float, lon: float, radius_m: float) -> None:
        with self._lock:
            self.geofences[geofence_id] = (lat, lon, radius_m)

    def update_positions(self, updates: list[PositionUpdate]) -> list[str]:
        events = []
        with self._lock:
            for update in sorted(updates, key=lambda u: u.sampled_at):
                self.positions[update.courier_id] = update
                inside = {gid for gid, (lat, lon, radius_m) in self.geofences.items()
                          if geo.distance_km(update.lat, update.lon, lat, lon) * 1000 <= radius_m}
                before = self._inside.get(update.courier_id, set())
                self._inside[update.courier_id] = inside
                events += [self._event("EXIT", gid, update) for gid in sorted(before - inside)]
                events += [self._event("ENTER", gid, update) for gid in sorted(inside - before)]
        if self.on_geofence_event is not None:
            for event in events:
                self.on_geofence_event(event)
        return []

    @staticmethod
    def _event(kind: str, geofence_id: str, update: PositionUpdate) -> dict:
        return {"EventType": kind, "GeofenceId": geofence_id, "DeviceId": update.courier_id,
                "SampleTime": update.sampled_at, "Position": [update.lon, update.lat]}
