"""The Amazon Location provider against recorded response shapes (botocore Stubber: moto has no
geo-places or geo-routes): geocoding, routes, tracker position batches, geofences, and every
failure a caller must turn into a 503 or "no match"."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from botocore.stub import Stubber

from headless_commerce.runtime.common.domain_errors import LocationUnavailable
from headless_commerce.runtime.location.aws_provider import AmazonLocation
from headless_commerce.runtime.location.provider import PositionUpdate

GEOCODE_BERLIN = {
    "PricingBucket": "Core",
    "ResultItems": [{
        "PlaceId": "AQAAAFUAbhyf", "PlaceType": "Locality", "Title": "Berlin, Deutschland",
        "Address": {"Label": "Berlin, Deutschland", "Country": {"Code2": "DE", "Code3": "DEU", "Name": "Deutschland"},
                    "Locality": "Berlin"},
        "Position": [13.38886, 52.51704], "MapView": [13.08835, 52.33812, 13.76116, 52.67551],
        "MatchScores": {"Overall": 1.0},
    }],
}
ROUTE = {
    "LegGeometryFormat": "FlexiblePolyline", "Notices": [], "PricingBucket": "Core",
    "Routes": [{"Legs": [], "MajorRoadLabels": [],
                "Summary": {"Distance": 7420, "Duration": 1105}}],
}


@pytest.fixture
def provider():
    clients = {name: boto3.client(name, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
               for name in ("geo-places", "geo-routes", "location")}
    stubs = {name: Stubber(client) for name, client in clients.items()}
    for stub in stubs.values():
        stub.activate()
    built = AmazonLocation(places=clients["geo-places"], routes=clients["geo-routes"],
                           location=clients["location"], tracker_name="couriers", geofence_collection="fences")
    yield built, stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def test_geocode_reads_the_first_result_in_lat_lon(provider):
    built, stubs = provider
    stubs["geo-places"].add_response("geocode", GEOCODE_BERLIN, {"QueryText": "Berlin", "MaxResults": 1})
    place = built.geocode("Berlin")
    assert (place.label, place.lat, place.lon) == ("Berlin, Deutschland", 52.51704, 13.38886)


def test_no_result_and_a_rejected_query_are_no_match(provider):
    built, stubs = provider
    stubs["geo-places"].add_response("geocode", {"PricingBucket": "Core", "ResultItems": []})
    stubs["geo-places"].add_client_error("geocode", "ValidationException", "QueryText too long", 400)
    assert built.geocode("Atlantis") is None
    assert built.geocode("?" * 10) is None


@pytest.mark.parametrize("code, status", [("ThrottlingException", 429), ("InternalServerException", 500),
                                          ("AccessDeniedException", 403)])
def test_service_errors_are_unavailable(provider, code, status):
    built, stubs = provider
    stubs["geo-places"].add_client_error("geocode", code, code, status)
    with pytest.raises(LocationUnavailable):
        built.geocode("Berlin")


def test_timeouts_are_unavailable(provider, monkeypatch):
    built, _stubs = provider
    for error in (ConnectTimeoutError(endpoint_url="https://places.geo.eu-west-1.amazonaws.com"),
                  ReadTimeoutError(endpoint_url="https://places.geo.eu-west-1.amazonaws.com")):
        def fail(error=error, **kwargs):
            raise error
        monkeypatch.setattr(built, "_places", type("Places", (), {"geocode": staticmethod(fail)}))
        with pytest.raises(LocationUnavailable):
            built.geocode("Berlin")


def test_route_sends_lon_lat_and_reads_the_summary(provider):
    built, stubs = provider
    stubs["geo-routes"].add_response("calculate_routes", ROUTE, {
        "Origin": [13.4, 52.5], "Destination": [13.33, 52.51], "TravelMode": "Car", "DepartNow": True})
    route = built.route((52.5, 13.4), (52.51, 13.33))
    assert route.distance_km == 7.42 and route.duration_s == 1105


def test_positions_go_in_batches_of_ten_and_refusals_are_reported(provider):
    built, stubs = provider
    updates = [PositionUpdate(f"c{i}", 52.5, 13.4, "2026-11-26T05:00:00Z") for i in range(12)]
    stubs["location"].add_response("batch_update_device_position", {"Errors": [{
        "DeviceId": "c3", "SampleTime": "2026-11-26T05:00:00Z",
        "Error": {"Code": "ValidationException", "Message": "bad position"}}]}, {
        "TrackerName": "couriers",
        "Updates": [{"DeviceId": f"c{i}", "Position": [13.4, 52.5], "SampleTime": "2026-11-26T05:00:00Z"}
                    for i in range(10)]})
    stubs["location"].add_response("batch_update_device_position", {"Errors": []})
    assert built.update_positions(updates) == ["c3"]


def test_put_geofence_is_a_circle_in_lon_lat(provider):
    built, stubs = provider
    stubs["location"].add_response("put_geofence", {
        "GeofenceId": "store-ber-mitte", "CreateTime": "2026-11-26T05:00:00Z", "UpdateTime": "2026-11-26T05:00:00Z"},
        {"CollectionName": "fences", "GeofenceId": "store-ber-mitte",
         "Geometry": {"Circle": {"Center": [13.4132, 52.5219], "Radius": 150.0}}})
    built.put_geofence("store-ber-mitte", 52.5219, 13.4132, 150.0)
