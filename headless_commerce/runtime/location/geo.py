"""Distances and geohash cells on the sphere: which cells a store lives in, and which cells a
search circle must read.

Hand-written (about sixty lines) rather than a geohash library: the functions ship with only
boto3 and Powertools, and the covering below needs cell indices, which the libraries hide.

A geohash of precision p interleaves ceil(5p/2) longitude bits with floor(5p/2) latitude bits
(longitude first). Cell indices are computed from one fraction per axis and shifted, so a
store's hash at one precision is always the prefix of its hash at a finer one, and the
covering uses exactly the arithmetic the stores were indexed with (no disagreement on a cell
boundary).
"""

from __future__ import annotations

import math

from headless_commerce import model

EARTH_RADIUS_KM = 6371.0088
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
# Slack added to a search radius when choosing cells, so a store at exactly the radius is never
# lost to floating-point rounding between the covering and the distance check.
_SLACK_KM = 1e-6


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _bits(precision: int) -> tuple[int, int]:
    total = 5 * precision
    return (total + 1) // 2, total // 2          # longitude bits, latitude bits


def _index(fraction: float, bits: int) -> int:
    return min(int(fraction * (1 << bits)), (1 << bits) - 1)


def _fractions(lat: float, lon: float) -> tuple[float, float]:
    return (lon + 180.0) / 360.0, (lat + 90.0) / 180.0


def _hash(col: int, row: int, precision: int) -> str:
    lon_bits, lat_bits = _bits(precision)
    value, li, ai = 0, lon_bits, lat_bits
    for bit in range(5 * precision):
        if bit % 2 == 0:
            li -= 1
            value = (value << 1) | ((col >> li) & 1)
        else:
            ai -= 1
            value = (value << 1) | ((row >> ai) & 1)
    return "".join(_BASE32[(value >> shift) & 31] for shift in range(5 * (precision - 1), -1, -5))


def geohash(lat: float, lon: float, precision: int = model.GEOHASH_PRECISION) -> str:
    lon_bits, lat_bits = _bits(precision)
    flon, flat = _fractions(lat, lon)
    return _hash(_index(flon, lon_bits), _index(flat, lat_bits), precision)


def _column_span(lon0: float, lon1: float, bits: int) -> tuple[int, int]:
    """(first, count) of the columns from lon0 eastwards to lon1, wrapping past the last column
    (lon0 may be < -180 or lon1 > 180: the span crosses the antimeridian)."""
    total = 1 << bits
    if lon1 - lon0 >= 360.0:
        return 0, total
    if lon0 < -180.0:
        lon0 += 360.0
    elif lon1 > 180.0:
        lon1 -= 360.0
    first, last = _index((lon0 + 180.0) / 360.0, bits), _index((lon1 + 180.0) / 360.0, bits)
    if lon0 <= lon1 and first <= last:
        return first, last - first + 1
    return first, min(total, total - first + last + 1)      # across the antimeridian


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(south, west, north, east) of a spherical cap; west < -180 or east > 180 when it crosses
    the antimeridian, and (-180, 180) when it holds a pole or is wider than the world."""
    angle = (radius_km + _SLACK_KM) / EARTH_RADIUS_KM
    dlat = math.degrees(angle)
    south, north = lat - dlat, lat + dlat
    if south <= -90.0 or north >= 90.0:
        return max(south, -90.0), -180.0, min(north, 90.0), 180.0
    ratio = math.sin(angle) / math.cos(math.radians(lat))
    if ratio >= 1.0:
        return south, -180.0, north, 180.0
    dlon = math.degrees(math.asin(ratio))
    return south, lon - dlon, north, lon + dlon


def _covering(lat: float, lon: float, radius_km: float, precision: int) -> tuple[range, int, int]:
    south, west, north, east = bounding_box(lat, lon, radius_km)
    lon_bits, lat_bits = _bits(precision)
    rows = range(_index((south + 90.0) / 180.0, lat_bits), _index((north + 90.0) / 180.0, lat_bits) + 1)
    first, count = _column_span(west, east, lon_bits)
    return rows, first, count


def covering_cells(lat: float, lon: float, radius_km: float, precision: int) -> list[str]:
    """Geohashes of `precision` whose cells together contain every point within radius_km."""
    rows, first, count = _covering(lat, lon, radius_km, precision)
    columns = 1 << _bits(precision)[0]
    return [_hash((first + i) % columns, row, precision) for row in rows for i in range(count)]


def cells_for_search(lat: float, lon: float, radius_km: float, *, max_cells: int,
                     finest: int = 6) -> list[str]:
    """The finest covering (down to the index's partition precision) of at most max_cells cells:
    small circles read a few small cells; a circle near a pole, where cells are thin, reads a
    ring of coarse ones. Cells are counted before any is listed."""
    coarsest = model.GEO_CELL_PRECISION
    for precision in range(finest, coarsest, -1):
        rows, _first, count = _covering(lat, lon, radius_km, precision)
        if len(rows) * count <= max_cells:
            return covering_cells(lat, lon, radius_km, precision)
    return covering_cells(lat, lon, radius_km, coarsest)
