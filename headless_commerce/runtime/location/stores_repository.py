"""Stores in the location table: the only code that knows their keys and the cell index."""

from __future__ import annotations

from decimal import Decimal

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common import dynamo
from headless_commerce.runtime.location import geo

_INDEX = model.STORES_BY_CELL
COORDINATE_DECIMALS = 7


def store_item(store: dict) -> dict:
    """The table item of a store {store_id, name, lat, lon, line1, city, postal_code, country}."""
    # Stored to 7 decimals (about 1 cm): DynamoDB numbers cannot hold a subnormal float.
    lat, lon = (round(float(store[axis]), COORDINATE_DECIMALS) for axis in ("lat", "lon"))
    hashed = geo.geohash(lat, lon)
    return {**model.store_key(store["store_id"]), **store, "lat": Decimal(repr(lat)), "lon": Decimal(repr(lon)),
            _INDEX.partition_key: hashed[:model.GEO_CELL_PRECISION], _INDEX.sort_key: hashed}


def put_many(stores: list[dict]) -> None:
    dynamo.batch_put([store_item(s) for s in stores], table=settings.location_table_name())


def get(store_id: str) -> dict | None:
    return dynamo.get(model.store_key(store_id), consistent=False, table=settings.location_table_name())


def in_cells(cells: list[str]) -> list[dict]:
    """Every store in the given geohash cells (any precision down to the index's partition
    precision): one Query per cell, reading only that cell's range of the index."""
    table = settings.location_table_name()
    found: list[dict] = []
    for cell in cells:
        partition = cell[:model.GEO_CELL_PRECISION]
        condition = "#cell = :cell"
        vals = {"cell": partition}
        if len(cell) > model.GEO_CELL_PRECISION:
            condition += " AND begins_with(#hash, :prefix)"
            vals["prefix"] = cell
        names = {"#cell": _INDEX.partition_key, **({"#hash": _INDEX.sort_key} if "prefix" in vals else {})}
        start = None
        while True:
            kwargs = {"IndexName": _INDEX.name, "KeyConditionExpression": condition,
                      "ExpressionAttributeNames": names, "ExpressionAttributeValues": dynamo.values(**vals)}
            if start:
                kwargs["ExclusiveStartKey"] = start
            items, start = dynamo.query(table=table, **kwargs)
            found += items
            if not start:
                break
    return found
