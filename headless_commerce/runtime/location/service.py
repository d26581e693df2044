"""The store locator: the stores nearest a point or an address, nearest first, with their
distance. Other services (the chatbot's FindStore) call `nearest_stores` and
`find_stores_by_query` directly; the API handler calls `search`.

A search reads only the geohash cells covering its circle (geo.cells_for_search: neighbouring
cells, the antimeridian and the poles included), then keeps the stores truly within the radius
by great-circle distance.
"""

from __future__ import annotations

from headless_commerce.runtime.common.domain_errors import AddressNotFound
from headless_commerce.runtime.location import geo, params
from headless_commerce.runtime.location import stores_repository as stores
from headless_commerce.runtime.location.params import DEFAULT_LIMIT, DEFAULT_RADIUS_KM
from headless_commerce.runtime.location.provider import get_provider

# Queries one search may make: small circles read a few fine cells, large or polar ones a
# ring of coarse cells.
MAX_CELLS = 16
_FIELDS = ("store_id", "name", "line1", "city", "postal_code", "country", "phone", "lat", "lon")


def store_view(store: dict, distance_km: float) -> dict:
    view = {name: store[name] for name in _FIELDS if store.get(name) is not None}
    view["distance_km"] = round(distance_km, 3)
    return view


def nearest_stores(lat: float, lon: float, radius_km: float = DEFAULT_RADIUS_KM,
                   limit: int = DEFAULT_LIMIT) -> list[dict]:
    """Stores within radius_km of (lat, lon), nearest first (ties by store id), at most
    `limit`. Raises InvalidLocation for out-of-range arguments."""
    params.check_point(lat, lon)
    params.check_radius(radius_km)
    params.check_limit(limit)
    found: dict[str, tuple[float, dict]] = {}
    for store in stores.in_cells(geo.cells_for_search(lat, lon, radius_km, max_cells=MAX_CELLS)):
        distance = geo.distance_km(lat, lon, store["lat"], store["lon"])
        if distance <= radius_km:
            found[store["store_id"]] = (distance, store)
    ranked = sorted(found.values(), key=lambda pair: (pair[0], pair[1]["store_id"]))
    return [store_view(store, distance) for distance, store in ranked[:limit]]


def find_stores_by_query(q: str, radius_km: float = DEFAULT_RADIUS_KM, limit: int = DEFAULT_LIMIT) -> dict:
    """Geocode an address, postcode or place name and find the stores near it:
    {"origin": {"label", "lat", "lon"}, "radius_km", "items": [...]}. Raises InvalidLocation,
    AddressNotFound (nothing matches q) or LocationUnavailable (geocoding failed)."""
    text = params.check_text(q)
    params.check_radius(radius_km)
    params.check_limit(limit)
    place = get_provider().geocode(text)
    if place is None:
        raise AddressNotFound()
    return {"origin": {"label": place.label, "lat": place.lat, "lon": place.lon}, "radius_km": radius_km,
            "items": nearest_stores(place.lat, place.lon, radius_km, limit)}


def search(query: dict[str, str]) -> dict:
    """GET /stores: ?lat=&lon= or ?q=, with optional radius_km and limit."""
    request = params.parse(query)
    if request.text is not None:
        return find_stores_by_query(request.text, request.radius_km, request.limit)
    return {"origin": {"label": None, "lat": request.lat, "lon": request.lon}, "radius_km": request.radius_km,
            "items": nearest_stores(request.lat, request.lon, request.radius_km, request.limit)}
