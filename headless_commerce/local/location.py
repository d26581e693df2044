"""Location in local mode: no Amazon Location runs here, so the store locator geocodes from a
gazetteer of the demo stores' cities and postcodes and ETAs are straight-line estimates
(runtime/location/local_provider.py); the stores live in the same table design as deployed."""

from __future__ import annotations

import os

from headless_commerce import model
from headless_commerce.local import demo_stores
from headless_commerce.local.courier_simulator import forward_geofence_event
from headless_commerce.runtime import settings
from headless_commerce.runtime.location import provider
from headless_commerce.runtime.location import stores_repository as stores
from headless_commerce.runtime.location.local_provider import LocalLocation


def install(dynamodb, prefix: str) -> LocalLocation:
    """Create the location table and seed the demo stores, unless a kept data directory already
    holds them; point the handlers at it and install the local provider."""
    name = f"{prefix}-location"
    os.environ[settings.LOCATION_TABLE_NAME] = name
    os.environ[settings.LOCATION_PROVIDER] = "local"
    if name not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(TableName=name, **model.location_table_kwargs())
        stores.put_many(demo_stores.stores())
    local = LocalLocation(demo_stores.gazetteer(), on_geofence_event=forward_geofence_event)
    provider.set_provider(local)
    return local
