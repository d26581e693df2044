"""Catalog reads: product pages, one product with its stock, the category tree."""

from __future__ import annotations

import re

from headless_commerce import model
from headless_commerce.runtime.catalog import repository as catalog
from headless_commerce.runtime.common import pagination
from headless_commerce.runtime.common.domain_errors import NotFound
from headless_commerce.runtime.common.errors import bad_request
from headless_commerce.runtime.common.money import money
from headless_commerce.runtime.routes import PATH_PARAM_PATTERN

_ID = re.compile(PATH_PARAM_PATTERN)


def product_summary(item: dict) -> dict:
    """A product as listings show it (recommendations too)."""
    return {
        "product_id": item["product_id"],
        "name": item["name"],
        "category_id": item.get("category_id"),
        "brand": item.get("brand"),
        "price": money(item["price_amount"], item["currency"]),
        "images": item.get("images", []),
    }


def list_products(category_id: str | None, cursor: str | None, limit: int) -> dict:
    if category_id is not None and not _ID.fullmatch(category_id):
        raise bad_request("invalid_parameter", "category has an invalid format", "category")
    attributes, fixed = catalog.product_page_key(category_id)
    start = pagination.decode_cursor(cursor, key_attributes=attributes, fixed=fixed)
    items, last = catalog.list_products(category_id, limit, start)
    return {"items": [product_summary(i) for i in items], "next_cursor": pagination.encode_cursor(last)}


def get_product(product_id: str) -> dict:
    collection = catalog.get_product_collection(product_id)
    product = next((i for i in collection if i.get("entity") == model.Entity.PRODUCT), None)
    if product is None:
        raise NotFound("Product", "product_id")
    skus = [i for i in collection if i.get("entity") == model.Entity.INVENTORY]
    # Stock is read from the index, so it can trail a checkout by a moment; checkout's
    # conditional write is what guarantees availability, this number only informs.
    return {
        **product_summary(product),
        "description": product.get("description", ""),
        "available": sum(max(s["stock"], 0) for s in skus),
        "skus": [{"sku": s["sku"], "price": money(s["price_amount"], s["currency"]),
                  "available": max(s["stock"], 0), "attributes": s.get("attributes", {})}
                 for s in sorted(skus, key=lambda s: s["sku"])],
    }


def category_tree() -> dict:
    categories = catalog.list_categories()
    nodes = {c["category_id"]: {"category_id": c["category_id"], "name": c["name"], "children": []}
             for c in categories}
    roots = []
    for c in sorted(categories, key=lambda c: c["name"]):
        parent = nodes.get(c.get("parent_id") or "")
        (parent["children"] if parent else roots).append(nodes[c["category_id"]])
    return {"items": roots}
