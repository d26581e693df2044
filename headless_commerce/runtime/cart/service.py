"""The caller's cart: one item holding its lines, updated with optimistic locking.

Merge rule: adding a SKU already in the cart adds the quantities and clamps the line at
MAX_LINE_QUANTITY (99) — the shopper asked for "more", and the response shows the quantity
actually held, so no request fails just because a line is near the cap. A new line beyond
MAX_CART_LINES (50) is refused with 409 cart_full.

Every write is conditional on the cart's `version` (cart/repository.py), so two concurrent
changes never overwrite each other; a lost race re-reads and reapplies (bounded). A cart that
checkout consumed is an empty tombstone; adding a line to it starts a fresh cart.
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.cart import repository as carts
from headless_commerce.runtime.catalog import repository as catalog
from headless_commerce.runtime.common import domain_errors as errors
from headless_commerce.runtime.common.money import money

_ATTEMPTS = 4


def render(cart: dict | None, prices: dict[str, dict] | None = None) -> dict:
    """Cart view. With `prices` (current inventory items) lines show today's price and stock;
    without, the price snapshotted when the line was last touched."""
    lines = []
    subtotal = 0
    for sku, line in sorted(((cart or {}).get("lines") or {}).items()):
        current = (prices or {}).get(sku)
        unit = current["price_amount"] if current else line["unit_price"]
        view = {"sku": sku, "product_id": line["product_id"], "name": line["name"],
                "quantity": line["quantity"], "unit_price": money(unit, model.CURRENCY),
                "line_total": money(unit * line["quantity"], model.CURRENCY)}
        if prices is not None:
            view["available"] = max(current["stock"], 0) if current else 0
        lines.append(view)
        subtotal += unit * line["quantity"]
    return {"lines": lines, "item_count": sum(line["quantity"] for line in lines),
            "subtotal": money(subtotal, model.CURRENCY), "version": (cart or {}).get("version", 0)}


def get_cart(sub: str) -> dict:
    cart = carts.get(sub)
    skus = list((cart or {}).get("lines") or {})
    return render(cart, catalog.get_skus(skus))


def add_item(sub: str, sku: str, quantity: int) -> dict:
    """Two DynamoDB calls: one BatchGetItem (SKU + cart), one conditional Put."""
    for _ in range(_ATTEMPTS):
        cart, inventory = carts.get_with_sku(sub, sku)
        if inventory is None:
            raise errors.UnknownSku(sku)
        lines = dict((cart or {}).get("lines") or {})
        existing = lines.get(sku)
        if existing is None and len(lines) >= model.MAX_CART_LINES:
            raise errors.CartFull(f"A cart holds at most {model.MAX_CART_LINES} lines")
        held = existing["quantity"] if existing else 0
        lines[sku] = {"product_id": inventory["product_id"], "name": inventory["name"],
                      "quantity": min(held + quantity, model.MAX_LINE_QUANTITY),
                      "unit_price": inventory["price_amount"]}
        saved = carts.save(sub, cart, lines)
        if saved is not None:
            return render(saved)
    raise errors.CartChangedConcurrently()


def set_quantity(sub: str, sku: str, quantity: int) -> dict:
    for _ in range(_ATTEMPTS):
        cart = carts.get(sub)
        lines = dict((cart or {}).get("lines") or {})
        if sku not in lines:
            raise errors.NotFound("Cart line", "sku")
        if quantity == 0:
            del lines[sku]
        else:
            lines[sku] = {**lines[sku], "quantity": quantity}
        saved = carts.save(sub, cart, lines)
        if saved is not None:
            return render(saved)
    raise errors.CartChangedConcurrently()


def remove_item(sub: str, sku: str) -> dict:
    return set_quantity(sub, sku, 0)
