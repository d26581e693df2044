"""Names the Location construct, local mode and tests share: the functions beyond the API's
`location`, and the geofence ids that tie Amazon Location's events back to stores and orders."""

from __future__ import annotations

_PKG = "headless_commerce.runtime.location"
GEOFENCE_FUNCTION = "location_geofences"
GEOFENCE_HANDLER = f"{_PKG}.geofences.handler"
COURIERS_FUNCTION = "location_couriers"
COURIERS_HANDLER = f"{_PKG}.couriers.handler"
# What Amazon Location puts on the account's default bus for a linked tracker's ENTER/EXIT.
GEOFENCE_SOURCE = "aws.geo"
GEOFENCE_DETAIL_TYPE = "Location Geofence Event"
STORE_GEOFENCE_PREFIX = "store-"
ORDER_GEOFENCE_PREFIX = "order-"
# A courier leaving a store's circle is on the road; entering the address's circle is arriving.
STORE_GEOFENCE_RADIUS_M = 150.0
ARRIVAL_GEOFENCE_RADIUS_M = 500.0
