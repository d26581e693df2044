"""Catalog files: validate (every problem names its record and field) and seed the table with
the catalog repository's items (runtime/catalog/repository.catalog_items), bulk-loaded.

The format is documented in CATALOG.md next to this file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from headless_commerce import model
from headless_commerce.runtime.routes import PATH_PARAM_PATTERN

_ID = re.compile(f"^{PATH_PARAM_PATTERN}$")
_IMAGE = re.compile(r"^(https?://[^\s]+|/assets/[^\s]+)$")
MAX_NAME = 200
MAX_DESCRIPTION = 4000
MAX_SKUS = 50
MAX_STOCK = 1_000_000
MAX_PRICE = 100_000_000


class CatalogError(ValueError):
    """A catalog file that cannot be seeded; the message names the record and the field."""


def _where(kind: str, index: int, record: object, id_field: str) -> str:
    record_id = record.get(id_field) if isinstance(record, dict) else None
    label = f"{kind}[{index}]"
    if isinstance(record_id, str):
        label += f' ({id_field} "{record_id}")'
    return label


def _fail(where: str, field: str, problem: str) -> CatalogError:
    return CatalogError(f"{where}: field {field!r} {problem}")


def _int(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _text(value: object, limit: int, *, required: bool = True) -> bool:
    if value is None:
        return not required
    return isinstance(value, str) and (len(value.strip()) > 0 if required else True) \
        and len(value) <= limit


def validate(document: object) -> dict:
    """Check a parsed catalog; returns it, or raises CatalogError for the first problem."""
    if not isinstance(document, dict):
        raise CatalogError('the catalog must be a JSON object {"categories": [...], "products": [...]}')
    unknown = set(document) - {"categories", "products"}
    if unknown:
        raise CatalogError(f"unknown top-level field(s): {', '.join(sorted(unknown))}")
    categories, products = document.get("categories"), document.get("products")
    if not isinstance(categories, list) or not categories:
        raise CatalogError("field 'categories' must be a non-empty list")
    if not isinstance(products, list) or not products:
        raise CatalogError("field 'products' must be a non-empty list")

    parents: dict[str, str | None] = {}
    for index, category in enumerate(categories):
        where = _where("categories", index, category, "category_id")
        if not isinstance(category, dict):
            raise CatalogError(f"{where}: must be an object")
        extra = set(category) - {"category_id", "name", "parent_id"}
        if extra:
            raise _fail(where, min(extra), "is not a category field")
        category_id = category.get("category_id")
        if not isinstance(category_id, str) or not _ID.match(category_id):
            raise _fail(where, "category_id", f"must match {_ID.pattern}")
        if category_id in parents:
            raise _fail(where, "category_id", "is a duplicate")
        if not _text(category.get("name"), MAX_NAME):
            raise _fail(where, "name", f"must be a non-empty string of at most {MAX_NAME} characters")
        parent = category.get("parent_id")
        if parent is not None and (not isinstance(parent, str) or not _ID.match(parent)):
            raise _fail(where, "parent_id", "must be a category id or absent")
        parents[category_id] = parent
    for index, category in enumerate(categories):
        where = _where("categories", index, category, "category_id")
        parent = category.get("parent_id")
        if parent is not None and parent not in parents:
            raise _fail(where, "parent_id", f'names unknown category "{parent}"')
        seen, node = set(), category["category_id"]
        while node is not None:
            if node in seen:
                raise _fail(where, "parent_id", "makes a cycle in the category tree")
            seen.add(node)
            node = parents.get(node)

    product_ids: set[str] = set()
    skus_seen: dict[str, str] = {}
    product_fields = {"product_id", "name", "brand", "category_id", "description", "price_amount",
                      "currency", "images", "skus"}
    for index, product in enumerate(products):
        where = _where("products", index, product, "product_id")
        if not isinstance(product, dict):
            raise CatalogError(f"{where}: must be an object")
        extra = set(product) - product_fields
        if extra:
            raise _fail(where, min(extra), "is not a product field")
        product_id = product.get("product_id")
        if not isinstance(product_id, str) or not _ID.match(product_id):
            raise _fail(where, "product_id", f"must match {_ID.pattern}")
        if product_id in product_ids:
            raise _fail(where, "product_id", "is a duplicate")
        product_ids.add(product_id)
        if not _text(product.get("name"), MAX_NAME):
            raise _fail(where, "name", f"must be a non-empty string of at most {MAX_NAME} characters")
        if not _text(product.get("brand"), MAX_NAME, required=False):
            raise _fail(where, "brand", f"must be a string of at most {MAX_NAME} characters")
        if not _text(product.get("description"), MAX_DESCRIPTION, required=False):
            raise _fail(where, "description",
                        f"must be a string of at most {MAX_DESCRIPTION} characters")
        if product.get("category_id") not in parents:
            raise _fail(where, "category_id", "must name a category of 'categories'")
        if not _int(product.get("price_amount"), 0, MAX_PRICE):
            raise _fail(where, "price_amount",
                        "must be an integer amount in minor units (cents), 0 or more")
        if product.get("currency", model.CURRENCY) != model.CURRENCY:
            raise _fail(where, "currency", f"must be {model.CURRENCY!r} (the store's currency)")
        images = product.get("images", [])
        if not isinstance(images, list) or not all(isinstance(i, str) and _IMAGE.match(i)
                                                   for i in images):
            raise _fail(where, "images", "must be a list of http(s) URLs or /assets/... paths")
        skus = product.get("skus")
        if not isinstance(skus, list) or not 1 <= len(skus) <= MAX_SKUS:
            raise _fail(where, "skus", f"must be a list of 1 to {MAX_SKUS} SKUs")
        for number, sku in enumerate(skus):
            field = f"skus[{number}]"
            if not isinstance(sku, dict):
                raise _fail(where, field, "must be an object")
            extra = set(sku) - {"sku", "stock", "price_amount", "attributes"}
            if extra:
                raise _fail(where, f"{field}.{min(extra)}", "is not a SKU field")
            code = sku.get("sku")
            if not isinstance(code, str) or not _ID.match(code):
                raise _fail(where, f"{field}.sku", f"must match {_ID.pattern}")
            if code in skus_seen:
                raise _fail(where, f"{field}.sku", f'is a duplicate (also in product "{skus_seen[code]}")')
            skus_seen[code] = product_id
            if not _int(sku.get("stock"), 0, MAX_STOCK):
                raise _fail(where, f"{field}.stock", f"must be an integer from 0 to {MAX_STOCK}")
            if "price_amount" in sku and not _int(sku["price_amount"], 0, MAX_PRICE):
                raise _fail(where, f"{field}.price_amount",
                            "must be an integer amount in minor units (cents), 0 or more")
            attributes = sku.get("attributes", {})
            if not isinstance(attributes, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()):
                raise _fail(where, f"{field}.attributes", "must be an object of strings")
    return document


def load(path: str | Path) -> dict:
    """Read and validate a catalog file (CatalogError names the file's problem)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise CatalogError(f"{path} is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogError(f"{path} is not valid JSON: {error.msg} at line {error.lineno} "
                           f"column {error.colno}") from None
    return validate(document)


# ---- seeding ----------------------------------------------------------------------------------

def seed(catalog: dict, table_name: str, region: str) -> tuple[int, int]:
    """Write a validated catalog into the embedded DynamoDB's `table_name`; returns
    (categories, products). One bulk load (moto_patches.put_items): the puts BatchWriteItem
    would make, without a request per 25 items (10,000 products: 36,000 items)."""
    from headless_commerce.local import moto_patches
    from headless_commerce.runtime.catalog import repository as catalog_repository
    from headless_commerce.runtime.common import dynamo

    items = catalog_repository.catalog_items(catalog["categories"], catalog["products"])
    moto_patches.put_items(table_name, region, [dynamo.to_item(item) for item in items])
    return len(catalog["categories"]), len(catalog["products"])
