"""Catalog aggregate (products, their SKUs with stock and price, categories): the only code
that builds their keys and DynamoDB requests. Catalog reads go through DAX when configured."""

from __future__ import annotations

from functools import lru_cache

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common import dynamo, outbox
from headless_commerce.runtime.common.aws import dynamodb
from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.common.transaction import Transaction, TransactionCancelled


@lru_cache(maxsize=1)
def catalog_reader():
    """The client catalog reads go through: DAX when DAX_ENDPOINT is set and the `amazondax`
    package (a layer) imports; otherwise plain DynamoDB, so a missing layer degrades to
    uncached reads instead of failing every request."""
    endpoint = settings.dax_endpoint()
    if endpoint:
        try:
            from amazondax import AmazonDaxClient  # type: ignore[import-not-found]
        except ImportError:
            logger.warning("DAX_ENDPOINT set but amazondax is not installed; using DynamoDB")
        else:
            # The client discovers the cluster eagerly; DynamoDB stays the source of truth, so
            # an unreachable cache degrades to uncached reads rather than failing the request.
            try:
                return AmazonDaxClient(endpoint_url=endpoint)
            except Exception:
                logger.exception("DAX cluster unreachable at %s; using DynamoDB", endpoint)
    return dynamodb()


def category_item(category_id: str, name: str, parent_id: str | None = None) -> dict:
    return {**model.category_key(category_id), model.ENTITY_ATTRIBUTE: model.Entity.CATEGORY,
            "category_id": category_id, "name": name, "parent_id": parent_id}


def put_category(category_id: str, name: str, parent_id: str | None = None) -> None:
    dynamo.put(category_item(category_id, name, parent_id))


def product_items(product: dict, skus: list[dict]) -> list[dict]:
    """The product item and its SKU items (each: sku, stock, optional price_amount, attributes).

    A SKU's price defaults to the product's; the product's listed price is its cheapest SKU.
    """
    product_id = product["product_id"]
    sku_items = []
    for sku in skus:
        sku_items.append({
            **model.inventory_key(sku["sku"]),
            **model.inventory_index_keys(product_id, sku["sku"]),
            model.ENTITY_ATTRIBUTE: model.Entity.INVENTORY,
            "sku": sku["sku"],
            "product_id": product_id,
            "name": product["name"],
            "price_amount": int(sku.get("price_amount", product["price_amount"])),
            "currency": product.get("currency", model.CURRENCY),
            "stock": int(sku["stock"]),
            "attributes": sku.get("attributes", {}),
        })
    listed = min((s["price_amount"] for s in sku_items), default=product["price_amount"])
    item = {
        **model.product_key(product_id),
        **model.product_index_keys(product_id, product.get("category_id")),
        model.ENTITY_ATTRIBUTE: model.Entity.PRODUCT,
        "product_id": product_id,
        "name": product["name"],
        "description": product.get("description", ""),
        "category_id": product.get("category_id"),
        "brand": product.get("brand"),
        "price_amount": int(listed),
        "currency": product.get("currency", model.CURRENCY),
        "images": list(product.get("images", [])),
        "skus": [s["sku"] for s in sku_items],
        "updated_at": now_iso(),
    }
    return [item, *sku_items]


def put_product(product: dict, skus: list[dict]) -> None:
    for entry in product_items(product, skus):
        dynamo.put(entry)


def catalog_items(categories: list[dict], products: list[dict]) -> list[dict]:
    """The items of a whole catalog (categories, products with their `skus`)."""
    items = [category_item(c["category_id"], c["name"], c.get("parent_id")) for c in categories]
    for product in products:
        items += product_items({k: v for k, v in product.items() if k != "skus"}, product["skus"])
    return items


def get_product_collection(product_id: str) -> list[dict]:
    """The product item and its SKU items: one Query over GSI3."""
    items, _ = dynamo.query(
        client=catalog_reader(), IndexName=model.GSI3.name,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": model.GSI3.partition_key},
        ExpressionAttributeValues=dynamo.values(pk=model.product_collection_partition(product_id)))
    return items


def list_products(category_id: str | None, limit: int, start_key: dict | None
                  ) -> tuple[list[dict], dict | None]:
    index = model.GSI2 if category_id else model.GSI1
    partition = (model.category_products_partition(category_id) if category_id
                 else model.CATALOG_PARTITION)
    kwargs: dict = {
        "IndexName": index.name,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": index.partition_key},
        "ExpressionAttributeValues": dynamo.values(pk=partition),
        "Limit": limit,
    }
    if start_key:
        kwargs["ExclusiveStartKey"] = start_key
    return dynamo.query(client=catalog_reader(), **kwargs)


def product_page_key(category_id: str | None) -> tuple[tuple[str, ...], dict[str, str]]:
    """(attributes, fixed values) of a product-page cursor for pagination.decode_cursor."""
    index = model.GSI2 if category_id else model.GSI1
    partition = (model.category_products_partition(category_id) if category_id
                 else model.CATALOG_PARTITION)
    attributes = (model.PARTITION_KEY, model.SORT_KEY, index.partition_key, index.sort_key)
    return attributes, {index.partition_key: partition}


def list_categories() -> list[dict]:
    items: list[dict] = []
    start = None
    while True:
        kwargs: dict = {"KeyConditionExpression": "pk = :pk",
                        "ExpressionAttributeValues": dynamo.values(pk=model.categories_partition())}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page, start = dynamo.query(client=catalog_reader(), **kwargs)
        items += page
        if not start:
            return items


def get_skus(skus: list[str]) -> dict[str, dict]:
    """Inventory items by SKU, strongly consistent (prices and stock for cart/checkout)."""
    if not skus:
        return {}
    found = dynamo.batch_get([model.inventory_key(s) for s in skus])
    return {item["sku"]: item for item in found}


def get_products(product_ids: list[str]) -> dict[str, dict]:
    """Product items by id (one BatchGetItem per 100, through DAX when configured); unknown
    ids are absent."""
    if not product_ids:
        return {}
    found = dynamo.batch_get([model.product_key(p) for p in product_ids], consistent=False,
                             client=catalog_reader())
    return {item["product_id"]: item for item in found}


def get_product_snapshot(product_id: str) -> tuple[dict | None, list[dict]]:
    """The product item and its SKU items, strongly consistent (what search indexes)."""
    product = dynamo.get(model.product_key(product_id))
    if product is None:
        return None, []
    return product, list(get_skus(list(product.get("skus", []))).values())


def iter_product_snapshots(page_size: int = 100):
    """Every product with its SKU items, page by page over the catalog index (full reindex)."""
    start = None
    while True:
        items, start = list_products(None, page_size, start)
        skus = get_skus([sku for item in items for sku in item.get("skus", [])])
        for item in items:
            yield item, [skus[s] for s in item.get("skus", []) if s in skus]
        if not start:
            return


def get_stock(sku: str) -> int | None:
    item = dynamo.get(model.inventory_key(sku))
    return None if item is None else item["stock"]


# ---- writes from the PIM and supply-chain feeds (runtime/feeds) -----------------------------
# Each feed write is one conditional request (a transaction when it carries an outbox event),
# conditioned on the item being exactly as the consumer read it: its feed version or position,
# and for stock the reservations of unpaid orders. A lost race raises FeedConflict and the
# consumer reads again and decides again.

class FeedConflict(Exception):
    """The item changed between the consumer's read and its write."""


class SkuOwnedElsewhere(Exception):
    """A product record lists a SKU that belongs to another product."""

    def __init__(self, skus: list[str]) -> None:
        super().__init__(", ".join(skus))
        self.skus = skus


def _as_read(attribute: str, value: object, item_exists: bool) -> tuple[str, dict]:
    """(condition, values): `attribute` still holds `value` as read (absent when None)."""
    if not item_exists:
        return "attribute_not_exists(pk)", {}
    if value is None:
        return f"attribute_exists(pk) AND attribute_not_exists({attribute})", {}
    return f"{attribute} = :read_{attribute}", {f"read_{attribute}": value}


def get_feed_items(keys: list[dict]) -> dict[tuple[str, str], dict]:
    """Items by (pk, sk) in one BatchGetItem per 100 keys, strongly consistent."""
    return {(i[model.PARTITION_KEY], i[model.SORT_KEY]): i for i in dynamo.batch_get(keys)}


def put_feed_category(category: dict, *, version: int, position: dict, read: dict | None) -> dict:
    item = {**category_item(category["category_id"], category["name"], category.get("parent_id")),
            "feed_version": version, "catalog_position": position, "updated_at": now_iso()}
    condition, vals = _as_read("feed_version", (read or {}).get("feed_version"), read is not None)
    try:
        dynamo.put(item, condition, **({"ExpressionAttributeValues": dynamo.values(**vals)} if vals else {}))
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            raise FeedConflict(category["category_id"]) from None
        raise
    return item


def upsert_feed_product(product: dict, skus: list[dict], *, version: int, position: dict,
                        read: dict | None, withdrawn: list[str], event: dict) -> dict:
    """The product item (replaced), its SKUs (created with no stock, or updated keeping their
    stock and reservations), withdrawn SKUs taken off sale, and ProductModified: one transaction."""
    product_id = product["product_id"]
    built = product_items(product, [{**s, "stock": 0} for s in skus])
    item = {**built[0], "feed_version": version, "catalog_position": position}
    condition, vals = _as_read("feed_version", (read or {}).get("feed_version"), read is not None)
    tx = Transaction()
    tx.put("product", item, condition=condition, vals=vals)
    catalog_fields = ("product_id", "name", "price_amount", "currency", "attributes",
                      model.ENTITY_ATTRIBUTE, "sku", model.GSI3.partition_key, model.GSI3.sort_key)
    for sku_item in built[1:]:
        names = {f"#f{i}": name for i, name in enumerate(catalog_fields)}
        tx.update(f"sku:{sku_item['sku']}", model.inventory_key(sku_item["sku"]),
                  "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(catalog_fields)))
                  + ", stock = if_not_exists(stock, :zero), reserved = if_not_exists(reserved, :zero)"
                  " REMOVE discontinued",
                  condition="attribute_not_exists(pk) OR #f0 = :f0", names=names,
                  vals={**{f"f{i}": sku_item[name] for i, name in enumerate(catalog_fields)}, "zero": 0})
    for sku in withdrawn:
        # Off sale, out of the product's collection; kept so orders naming it still settle.
        tx.update(f"sku:{sku}", model.inventory_key(sku),
                  "SET discontinued = :t, stock = :zero REMOVE #ipk, #isk", condition="product_id = :pid",
                  names={"#ipk": model.GSI3.partition_key, "#isk": model.GSI3.sort_key},
                  vals={"t": True, "zero": 0, "pid": product_id})
    tx.put(f"event:{model.EventName.PRODUCT_MODIFIED}", outbox.item(model.EventName.PRODUCT_MODIFIED, event),
           condition="attribute_not_exists(pk)")
    try:
        tx.write()
    except TransactionCancelled as cancelled:
        taken = cancelled.any("sku:")
        if taken and "product" not in cancelled.failed:
            raise SkuOwnedElsewhere(taken) from None
        raise FeedConflict(product_id) from None
    return item


def set_feed_stock(sku: str, *, warehouses: dict, on_hand: int, stock: int, position: dict,
                   read: dict, event: dict | None) -> None:
    """Replace a SKU's warehouse quantities and sellable stock, conditioned on its feed position
    and its reservations being as read; with `event` (InventoryChanged) in one transaction."""
    position_condition, vals = _as_read("inventory_position", read.get("inventory_position"), True)
    reserved_condition, reserved_vals = _as_read("reserved", read.get("reserved"), True)
    condition = f"({position_condition}) AND ({reserved_condition})"
    expression = ("SET warehouses = :warehouses, on_hand = :on_hand, stock = :stock, "
                  "inventory_position = :position, stock_updated_at = :now")
    vals = {**vals, **reserved_vals, "warehouses": warehouses, "on_hand": on_hand, "stock": stock,
            "position": position, "now": now_iso()}
    if event is None:
        try:
            dynamo.dynamodb().update_item(
                TableName=dynamo.table_name(), Key=dynamo.to_item(model.inventory_key(sku)),
                UpdateExpression=expression, ConditionExpression=condition,
                ExpressionAttributeValues=dynamo.values(**vals))
        except ClientError as error:
            if dynamo.is_condition_failure(error):
                raise FeedConflict(sku) from None
            raise
        return
    tx = Transaction()
    tx.update("stock", model.inventory_key(sku), expression, condition=condition, vals=vals)
    tx.put(f"event:{model.EventName.INVENTORY_CHANGED}", outbox.item(model.EventName.INVENTORY_CHANGED, event),
           condition="attribute_not_exists(pk)")
    try:
        tx.write()
    except TransactionCancelled:
        raise FeedConflict(sku) from None
