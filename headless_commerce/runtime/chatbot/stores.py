"""The chatbot's way to the store locator: FindStore asks the location capability's own service
(runtime/location/service.find_stores_by_query, what GET /stores answers with), never a list of
its own.

The fulfillment function reaches Location only where the Location construct handed it the
location table (LOCATION_TABLE_NAME) and the rights a search by place takes (dynamodb:Query on
the table's ByCell index, geo-places:Geocode); without the table, or while Amazon Location cannot
answer, `find` raises StoresUnavailable and the bot asks the shopper to try again later.
"""

from __future__ import annotations

from dataclasses import dataclass

from headless_commerce.runtime import settings
from headless_commerce.runtime.common.domain_errors import AddressNotFound, InvalidLocation, LocationUnavailable
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.location import service


class StoresUnavailable(Exception):
    """No store locator can answer (not deployed with the chatbot, or not reachable)."""


class PlaceNotFound(Exception):
    """Nothing matches the city or postcode the shopper gave."""


@dataclass(frozen=True)
class Store:
    name: str
    address: str
    distance_km: float


@dataclass(frozen=True)
class Found:
    place: str               # the place the location service understood
    radius_km: float
    stores: tuple[Store, ...]


def _address(store: dict) -> str:
    town = " ".join(str(store[k]) for k in ("postal_code", "city") if store.get(k))
    return ", ".join(p for p in (store.get("line1"), town) if p)


def find(location: str, limit: int) -> Found:
    """Stores near a city or postcode, nearest first. Raises PlaceNotFound, StoresUnavailable."""
    try:
        settings.location_table_name()
    except KeyError:
        raise StoresUnavailable("no location table is connected to the chatbot") from None
    try:
        found = service.find_stores_by_query(location, limit=limit)
    except LocationUnavailable:
        logger.warning("FindStore: Amazon Location unavailable")
        raise StoresUnavailable("geocoding is unavailable") from None
    except (AddressNotFound, InvalidLocation):
        # The slot keeps whatever the shopper typed: text the locator refuses is no place either.
        raise PlaceNotFound(location) from None
    stores = tuple(Store(str(s["name"]), _address(s), float(s["distance_km"])) for s in found["items"])
    return Found(place=str(found["origin"]["label"] or location), radius_km=float(found["radius_km"]),
                 stores=stores)
