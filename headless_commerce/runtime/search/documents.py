"""The search document of a product: what both providers index, built from table items."""

from __future__ import annotations

from datetime import UTC, datetime

# Fields a search hit returns to clients (the rest are only searched or filtered on).
RESULT_FIELDS = ("product_id", "name", "brand", "category_id", "price_amount", "currency",
                 "images", "in_stock")


def product_document(product: dict, skus: list[dict]) -> dict:
    """One document per product: its text, facet keys, listed price, stock flag, dates.

    `in_stock` is true when any SKU has stock; the stock number itself is not indexed (it
    changes with every checkout and the product page reads it from the table).
    """
    return {
        "product_id": product["product_id"],
        "name": product["name"],
        "brand": product.get("brand") or "",
        "description": product.get("description") or "",
        "category_id": product.get("category_id") or "",
        "price_amount": int(product["price_amount"]),
        "currency": product["currency"],
        "images": list(product.get("images") or []),
        "in_stock": any(int(s.get("stock", 0)) > 0 for s in skus),
        "created_at": product.get("created_at") or product.get("updated_at") or "1970-01-01T00:00:00+00:00",
    }


def epoch_millis(iso: str) -> int:
    """`created_at` as epoch milliseconds (OpenSearch returns date sort values this way)."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def hit(document: dict) -> dict:
    """A search result item as the API returns it."""
    return {
        "product_id": document["product_id"],
        "name": document["name"],
        "brand": document.get("brand") or None,
        "category_id": document.get("category_id") or None,
        "price": {"amount": int(document["price_amount"]), "currency": document["currency"]},
        "images": list(document.get("images") or []),
        "in_stock": bool(document.get("in_stock")),
    }
