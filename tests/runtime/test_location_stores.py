"""The store locator: nearest stores against brute force (random store sets, the antimeridian,
the poles), the geohash covering, GET /stores over the handler with bad input, geocoding
through the provider and a Location outage answered with 503."""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from headless_commerce import model
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.domain_errors import InvalidLocation, LocationUnavailable
from headless_commerce.runtime.location import geo, params, service
from headless_commerce.runtime.location import provider as location_provider
from headless_commerce.runtime.location import stores_repository as stores
from headless_commerce.runtime.location.local_provider import GazetteerEntry, LocalLocation
from tests.runtime.conftest import call

LOCATION_TABLE = "location-test"


def create_location_table() -> None:
    os.environ["LOCATION_TABLE_NAME"] = LOCATION_TABLE
    aws.dynamodb().create_table(TableName=LOCATION_TABLE, **model.location_table_kwargs())


@pytest.fixture
def location_table(table):
    create_location_table()
    yield LOCATION_TABLE
    location_provider.set_provider(None)


GAZETTEER = [GazetteerEntry("Berlin", 52.52, 13.405, ("10115",)),
             GazetteerEntry("New York", 40.7128, -74.006, ("NYC", "10001")),
             GazetteerEntry("York", 53.96, -1.08)]

STORES = [
    {"store_id": "berlin-mitte", "name": "Mitte", "lat": 52.5219, "lon": 13.4132, "line1": "Alexanderplatz 1",
     "city": "Berlin", "postal_code": "10178", "country": "DE"},
    {"store_id": "berlin-west", "name": "Charlottenburg", "lat": 52.5058, "lon": 13.3328, "line1": "Ku'damm 10",
     "city": "Berlin", "postal_code": "10719", "country": "DE"},
    {"store_id": "potsdam", "name": "Potsdam", "lat": 52.3906, "lon": 13.0645, "line1": "Brandenburger Str. 1",
     "city": "Potsdam", "postal_code": "14467", "country": "DE"},
    {"store_id": "nyc-5th", "name": "Fifth Avenue", "lat": 40.7484, "lon": -73.9857, "line1": "350 5th Ave",
     "city": "New York", "postal_code": "10118", "country": "US"},
]


@pytest.fixture
def seeded(location_table):
    stores.put_many(STORES)
    location_provider.set_provider(LocalLocation(GAZETTEER))
    return STORES


# ---- geometry ---------------------------------------------------------------------------------

def test_geohash_matches_the_reference_encoding():
    assert geo.geohash(57.64911, 10.40744, 11) == "u4pruydqqvj"
    assert geo.geohash(-25.382708, -49.265506, 8) == "6gkzwgjz"


def test_a_coarser_geohash_is_the_prefix_of_a_finer_one():
    for lat, lon in ((0.0, 0.0), (89.999, 179.999), (-90.0, -180.0), (45.0, -0.0000001)):
        fine = geo.geohash(lat, lon, 9)
        assert all(geo.geohash(lat, lon, p) == fine[:p] for p in range(1, 9))


def test_covering_wraps_across_the_antimeridian():
    cells = geo.covering_cells(0.0, 179.95, 30, 3)
    west_of_line = geo.geohash(0.0, -179.95, 3)
    assert geo.geohash(0.0, 179.95, 3) in cells and west_of_line in cells


def test_near_a_pole_the_covering_takes_every_longitude():
    cells = geo.cells_for_search(89.5, 10.0, 100, max_cells=16)
    assert {c[:2] for c in cells} >= {geo.geohash(89.9, lon, 2) for lon in range(-179, 180, 10)}


def test_small_searches_read_few_fine_cells():
    cells = geo.cells_for_search(52.52, 13.405, 2, max_cells=16)
    assert len(cells) <= 4 and all(len(c) == 5 for c in cells)


# ---- nearest stores against brute force -------------------------------------------------------

latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)
# Points bunched where the covering is hardest: around the antimeridian and the poles.
edge_longitudes = st.one_of(longitudes, st.floats(min_value=178, max_value=180), st.floats(-180, -178))
edge_latitudes = st.one_of(latitudes, st.floats(min_value=85, max_value=90), st.floats(-90, -85))


@st.composite
def store_sets(draw):
    centre_lat, centre_lon = draw(edge_latitudes), draw(edge_longitudes)
    count = draw(st.integers(min_value=0, max_value=40))
    points = []
    for _ in range(count):
        # Most stores within a few degrees of the centre (wrapped), some anywhere.
        if draw(st.booleans()):
            lat = max(-90.0, min(90.0, centre_lat + draw(st.floats(-3, 3))))
            lon = ((centre_lon + draw(st.floats(-6, 6)) + 180.0) % 360.0) - 180.0
        else:
            lat, lon = draw(latitudes), draw(longitudes)
        # Stores are kept to 7 decimals (stores_repository.COORDINATE_DECIMALS).
        points.append((round(lat, 7), round(lon, 7)))
    query = (max(-90.0, min(90.0, centre_lat + draw(st.floats(-1, 1)))),
             ((centre_lon + draw(st.floats(-2, 2)) + 180.0) % 360.0) - 180.0)
    return points, query


def brute_force(points, lat, lon, radius_km, limit):
    found = sorted((geo.distance_km(lat, lon, p[0], p[1]), f"s{i:03d}") for i, p in enumerate(points))
    return [store_id for distance, store_id in found if distance <= radius_km][:limit]


@pytest.fixture
def embedded_aws():
    """One mock for every example (hypothesis sets a test's fixtures up once): mock_aws() per
    example costs seconds, a table milliseconds."""
    with mock_aws():
        aws.reset_clients()
        yield
    aws.reset_clients()


EXAMPLE = iter(range(1_000_000))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=store_sets(), radius_km=st.floats(min_value=0.5, max_value=params.MAX_RADIUS_KM),
       limit=st.integers(min_value=1, max_value=params.MAX_LIMIT))
def test_nearest_stores_match_brute_force(embedded_aws, monkeypatch, data, radius_km, limit):
    points, (lat, lon) = data
    # A table of its own per example, so examples never see each other's stores.
    name = f"location-example-{next(EXAMPLE)}"
    monkeypatch.setenv("LOCATION_TABLE_NAME", name)
    aws.dynamodb().create_table(TableName=name, **model.location_table_kwargs())
    try:
        stores.put_many([{"store_id": f"s{i:03d}", "name": f"Store {i}", "lat": p[0], "lon": p[1],
                          "line1": "1 Main St", "city": "Town", "postal_code": "1000", "country": "US"}
                         for i, p in enumerate(points)])
        found = service.nearest_stores(lat, lon, radius_km, limit)
    finally:
        aws.dynamodb().delete_table(TableName=name)
    assert [s["store_id"] for s in found] == brute_force(points, lat, lon, radius_km, limit)
    distances = [s["distance_km"] for s in found]
    assert distances == sorted(distances) and all(d <= radius_km + 0.001 for d in distances)


@settings(max_examples=200, deadline=None)
@given(lat=edge_latitudes, lon=edge_longitudes, radius_km=st.floats(0.01, params.MAX_RADIUS_KM),
       bearing=st.floats(0, 360), fraction=st.floats(0, 1))
def test_every_point_within_the_radius_lies_in_a_covering_cell(lat, lon, radius_km, bearing, fraction):
    # A point at `fraction` of the radius in direction `bearing` (destination on the sphere).
    angle, theta, phi = radius_km * fraction / geo.EARTH_RADIUS_KM, math.radians(bearing), math.radians(lat)
    lat2 = math.asin(math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(theta))
    lon2 = math.radians(lon) + math.atan2(math.sin(theta) * math.sin(angle) * math.cos(phi),
                                          math.cos(angle) - math.sin(phi) * math.sin(lat2))
    point = (math.degrees(lat2), ((math.degrees(lon2) + 180.0) % 360.0) - 180.0)
    assume(geo.distance_km(lat, lon, *point) <= radius_km)
    cells = geo.cells_for_search(lat, lon, radius_km, max_cells=16)
    hashed = geo.geohash(*point)
    assert any(hashed.startswith(cell) for cell in cells)


def test_a_search_reads_only_nearby_cells(seeded, ddb_calls, monkeypatch):
    read: list[str] = []
    in_cells = stores.in_cells
    monkeypatch.setattr(stores, "in_cells", lambda cells: read.extend(s["store_id"] for s in in_cells(cells))
                        or in_cells(cells))
    ddb_calls.reset()
    found = service.nearest_stores(52.52, 13.405, 2)
    assert [s["store_id"] for s in found] == ["berlin-mitte"]
    # Charlottenburg (5 km away), Potsdam and New York are never read: each call is a Query of
    # one small cell around the point.
    assert read == ["berlin-mitte"]
    assert set(ddb_calls.calls) == {"Query"} and len(ddb_calls.calls) <= service.MAX_CELLS


def test_nearest_stores_rejects_out_of_range_arguments(location_table):
    for args, field in (((91, 0), "lat"), ((0, -180.5), "lon"), ((math.nan, 0), "lat"),
                        ((0, 0, 201), "radius_km"), ((0, 0, 0), "radius_km"), ((0, 0, 10, 0), "limit"),
                        ((0, 0, 10, 51), "limit")):
        with pytest.raises(InvalidLocation) as raised:
            service.nearest_stores(*args)
        assert raised.value.field == field


# ---- GET /stores ------------------------------------------------------------------------------

def test_stores_by_coordinates_nearest_first_with_distance(seeded):
    reply = call("GET", "/stores", query={"lat": "52.52", "lon": "13.405", "radius_km": "50"})
    assert reply.status == 200
    assert [s["store_id"] for s in reply.body["items"]] == ["berlin-mitte", "berlin-west", "potsdam"]
    assert reply.body["items"][0]["distance_km"] == pytest.approx(0.594, abs=0.001)
    assert reply.body["origin"] == {"label": None, "lat": 52.52, "lon": 13.405}


def test_stores_by_address_are_geocoded(seeded):
    reply = call("GET", "/stores", query={"q": "Fifth Avenue, New York", "limit": "1"})
    assert reply.status == 200
    assert reply.body["origin"]["label"] == "New York"
    assert [s["store_id"] for s in reply.body["items"]] == ["nyc-5th"]


def test_the_longest_place_name_wins(seeded):
    assert service.find_stores_by_query("new york")["origin"]["label"] == "New York"
    assert service.find_stores_by_query("10115")["origin"]["label"] == "Berlin"


@pytest.mark.parametrize("query, field", [
    ({"lat": "91", "lon": "0"}, "lat"),
    ({"lat": "0", "lon": "180.01"}, "lon"),
    ({"lat": "nan", "lon": "0"}, "lat"),
    ({"lat": "1e3", "lon": "0"}, "lat"),
    ({"lat": "0"}, "lon"),
    ({}, "lat"),
    ({"lat": "0", "lon": "0", "radius_km": "200.5"}, "radius_km"),
    ({"lat": "0", "lon": "0", "radius_km": "0"}, "radius_km"),
    ({"lat": "0", "lon": "0", "limit": "0"}, "limit"),
    ({"lat": "0", "lon": "0", "limit": "x"}, "limit"),
    ({"q": "Berlin", "lat": "0"}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "x" * 201}, "q"),
    ({"q": "Berlin\u0000"}, "q"),
])
def test_bad_input_is_a_400_naming_the_field(seeded, query, field):
    reply = call("GET", "/stores", query=query)
    assert reply.status == 400
    assert reply.body["error"]["code"] == "invalid_parameter" and reply.body["error"]["field"] == field


def test_an_unknown_address_is_a_404(seeded):
    reply = call("GET", "/stores", query={"q": "Atlantis"})
    assert reply.status == 404 and reply.body["error"]["code"] == "address_not_found"


class Down:
    def geocode(self, text):
        raise LocationUnavailable()


def test_location_unavailable_is_a_503_and_coordinates_still_work(seeded):
    location_provider.set_provider(Down())
    reply = call("GET", "/stores", query={"q": "Berlin"})
    assert reply.status == 503 and reply.body["error"]["code"] == "location_unavailable"
    assert reply.headers["Retry-After"] == "5"
    # Coordinates need no geocoding: the locator keeps answering from the table.
    assert call("GET", "/stores", query={"lat": "40.75", "lon": "-73.99"}).status == 200
    # ... and the rest of the store is untouched.
    assert call("GET", "/categories").status == 200
