"""What a store-locator request asks for, validated. Numbers are read with a strict pattern:
float() would also take "nan", "inf", "1e999" and "٣", none of which is a coordinate."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from headless_commerce.runtime.common.domain_errors import InvalidLocation

DEFAULT_RADIUS_KM = 25.0
MAX_RADIUS_KM = 200.0
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_QUERY_LENGTH = 200
_DECIMAL = re.compile(r"^[+-]?[0-9]{1,4}(\.[0-9]{1,12})?$")
_COUNT = re.compile(r"^[0-9]{1,3}$")


@dataclass(frozen=True)
class StoreQuery:
    lat: float | None
    lon: float | None
    text: str | None
    radius_km: float
    limit: int


def check_point(lat: float, lon: float) -> None:
    for name, value, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
                or not -bound <= value <= bound:
            raise InvalidLocation(name, f"{name} must be a number from {-bound:g} to {bound:g}")


def check_radius(radius_km: float) -> None:
    if not isinstance(radius_km, (int, float)) or isinstance(radius_km, bool) or not math.isfinite(radius_km) \
            or not 0 < radius_km <= MAX_RADIUS_KM:
        raise InvalidLocation("radius_km", f"radius_km must be above 0 and at most {MAX_RADIUS_KM:g}")


def check_limit(limit: int) -> None:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidLocation("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")


def check_text(text: str) -> str:
    cleaned = " ".join(text.split()) if isinstance(text, str) else ""
    if not cleaned or len(cleaned) > MAX_QUERY_LENGTH or not cleaned.isprintable():
        raise InvalidLocation("q", f"q must be an address or place name of 1 to {MAX_QUERY_LENGTH} characters")
    return cleaned


def _decimal(query: dict[str, str], name: str, message: str) -> float | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not _DECIMAL.match(raw.strip()):
        raise InvalidLocation(name, message)
    return float(raw)


def parse(query: dict[str, str]) -> StoreQuery:
    lat = _decimal(query, "lat", "lat must be a decimal number from -90 to 90")
    lon = _decimal(query, "lon", "lon must be a decimal number from -180 to 180")
    radius = _decimal(query, "radius_km", f"radius_km must be a decimal number of at most {MAX_RADIUS_KM:g}")
    radius = DEFAULT_RADIUS_KM if radius is None else radius
    raw_limit = query.get("limit")
    if raw_limit is not None and not _COUNT.match(raw_limit.strip()):
        raise InvalidLocation("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    limit = DEFAULT_LIMIT if raw_limit is None else int(raw_limit)
    text = query.get("q")
    if text is not None and (lat is not None or lon is not None):
        raise InvalidLocation("q", "give either q or lat and lon, not both")
    if text is None:
        if lat is None or lon is None:
            raise InvalidLocation("lat" if lat is None else "lon",
                                  "give lat and lon (decimal degrees) or q (an address)")
        check_point(lat, lon)
    else:
        text = check_text(text)
    check_radius(radius)
    check_limit(limit)
    return StoreQuery(lat=lat, lon=lon, text=text, radius_km=radius, limit=limit)
