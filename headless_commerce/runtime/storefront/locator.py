"""The store locator page and a customer's delivery tracking page.

The locator is two GET forms (a place or postcode; coordinates, which site.js can fill from the
browser's geolocation), so it works without JavaScript and a result page is a link to share. The
storefront checks the query with the location API's own parser (runtime/location/params.py)
before it calls GET /stores, so bad input is an inline 400 and never reaches the API.
Tracking reads GET /orders/{id}/tracking with the customer's token: another customer's order
is the same not-found page as a missing one.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from headless_commerce.runtime.common.domain_errors import InvalidLocation
from headless_commerce.runtime.location import params as location_params
from headless_commerce.runtime.storefront.api import ApiError, CommerceApi
from headless_commerce.runtime.storefront.views import _render, own_order_page, require_flag
from headless_commerce.runtime.storefront.web import page

FIELDS = ("q", "lat", "lon", "radius_km")
RADII_KM = (5, 10, 25, 50, 100, 200)
RESULTS = 10
# What the shopper reads for each field the parser refuses (its own messages name API fields).
_FIELD_ERRORS = {
    "q": f"Enter a city, an address or a postcode (at most {location_params.MAX_QUERY_LENGTH} characters).",
    "lat": "Latitude must be a number from -90 to 90, such as 52.52.",
    "lon": "Longitude must be a number from -180 to 180, such as 13.405.",
    "radius_km": "Choose a distance from the list.",
    "limit": "That search could not be read.",
}
BOTH = "Search by a place or by coordinates, not both."
PLACE_NOT_FOUND = "We could not find that place. Check the spelling, or try a city name or a postcode."
UNAVAILABLE = "The store locator is not available right now. Please try again in a moment."
_RADIUS_DEFAULT = str(int(location_params.DEFAULT_RADIUS_KM))


def _form(request: Request) -> dict[str, str]:
    """What the shopper sent, trimmed and cut to what the inputs accept (it is shown again)."""
    sent = {name: " ".join((request.query_params.get(name) or "").split()) for name in FIELDS}
    sent["q"] = sent["q"][:location_params.MAX_QUERY_LENGTH + 1]
    for name in ("lat", "lon", "radius_km"):
        sent[name] = sent[name][:24]
    return sent


def _query(sent: dict[str, str]) -> dict[str, str]:
    """The GET /stores query for a valid search; InvalidLocation naming the field otherwise."""
    given = {name: value for name, value in sent.items() if value}
    if given.get("q") and (given.get("lat") or given.get("lon")):
        raise InvalidLocation("q", BOTH)
    wanted = location_params.parse(given)
    # The shopper's own digits go on (a float's repr could be "1e-05", which the API refuses).
    query = {"radius_km": given.get("radius_km", _RADIUS_DEFAULT), "limit": str(RESULTS)}
    if wanted.text is not None:
        query["q"] = wanted.text
    else:
        query["lat"], query["lon"] = given["lat"], given["lon"]
    return query


def _error_field(error: ApiError) -> str | None:
    detail = (error.body or {}).get("error")
    field = detail.get("field") if isinstance(detail, dict) else None
    return field if isinstance(field, str) else None


@page
async def stores(request: Request) -> Response:
    storefront = request.app.state.storefront
    await require_flag(request, "store_locator")
    sent = _form(request)
    context = {"form": sent, "radii": RADII_KM, "radius": sent["radius_km"] or _RADIUS_DEFAULT,
               "results": None, "error": None, "field": None}
    if not (sent["q"] or sent["lat"] or sent["lon"]):
        return _render(request, "stores.html", **context)
    try:
        query = _query(sent)
    except InvalidLocation as error:
        message = BOTH if error.message == BOTH else _FIELD_ERRORS.get(error.field or "", error.message)
        return _render(request, "stores.html", status=400, **{**context, "error": message, "field": error.field})
    try:
        results = await storefront.api.stores(query)
    except ApiError as error:
        if error.status == 404 and error.code == "address_not_found":
            return _render(request, "stores.html", status=404, **{**context, "error": PLACE_NOT_FOUND,
                                                                  "field": "q"})
        if error.status == 400:
            field = _error_field(error)
            return _render(request, "stores.html", status=400, **{
                **context, "error": _FIELD_ERRORS.get(field or "", error.message), "field": field})
        # 503 (Amazon Location), a timeout, or no locator deployed behind this API.
        response = _render(request, "stores.html", status=503, **{**context, "error": UNAVAILABLE})
        response.headers["Retry-After"] = "5"
        return response
    return _render(request, "stores.html", **{**context, "results": results, "radius": query["radius_km"]})


@page
async def order_tracking(request: Request) -> Response:
    return await own_order_page(request, "tracking.html", "tracking", CommerceApi.tracking)
