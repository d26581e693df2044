"""The caller's cart: one item holding its lines, updated with optimistic locking.

Merge rule: adding a SKU already in the cart adds the quantities and clamps the line at
MAX_LINE_QUANTITY (99) — the shopper asked for "more", and the response shows the quantity
actually held, so no request fails just because a line is near the cap. A new line beyond
MAX_CART_LINES (50) is refused with 409 cart_full.

Every write is a conditional Put on the cart's `version`, so two concurrent changes never
overwrite each other; a lost race re-reads and reapplies (bounded).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime.common import dynamo, repositories
from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.common.errors import ApiError, bad_request, conflict, not_found
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
    return {"lines": lines, "item_count": sum(l["quantity"] for l in lines),
            "subtotal": money(subtotal, model.CURRENCY), "version": (cart or {}).get("version", 0)}


def _save(sub: str, cart: dict | None, lines: dict) -> dict | None:
    """Write `lines` if the cart is still the one read; the new cart, or None on a lost race."""
    version = (cart or {}).get("version", 0)
    condition = "attribute_not_exists(pk)" if cart is None else "version = :v"
    expression = {} if cart is None else {"ExpressionAttributeValues": dynamo.values(v=version)}
    try:
        if lines:
            new = {**model.cart_key(sub), model.ENTITY_ATTRIBUTE: model.Entity.CART,
                   "customer_id": sub, "lines": lines, "version": version + 1,
                   "updated_at": now_iso()}
            dynamo.put(new, condition, **expression)
            return new
        if cart is not None:
            dynamo.delete(model.cart_key(sub), condition, **expression)
        return {"lines": {}, "version": 0}
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return None
        raise


def _lost_race() -> ApiError:
    return conflict("concurrent_modification", "The cart changed concurrently; retry")


def get_cart(sub: str) -> dict:
    cart = dynamo.get(model.cart_key(sub))
    skus = list(((cart or {}).get("lines") or {}))
    return render(cart, repositories.get_skus(skus))


def add_item(sub: str, sku: str, quantity: int) -> dict:
    """Two DynamoDB calls: one BatchGetItem (SKU + cart), one conditional Put."""
    for _ in range(_ATTEMPTS):
        found = dynamo.batch_get([model.inventory_key(sku), model.cart_key(sub)])
        inventory = next((i for i in found if i.get("entity") == model.Entity.INVENTORY), None)
        cart = next((i for i in found if i.get("entity") == model.Entity.CART), None)
        if inventory is None:
            raise bad_request("unknown_sku", f"SKU {sku} does not exist", "sku")
        lines = dict((cart or {}).get("lines") or {})
        existing = lines.get(sku)
        if existing is None and len(lines) >= model.MAX_CART_LINES:
            raise conflict("cart_full", f"A cart holds at most {model.MAX_CART_LINES} lines", "sku")
        held = existing["quantity"] if existing else 0
        lines[sku] = {"product_id": inventory["product_id"], "name": inventory["name"],
                      "quantity": min(held + quantity, model.MAX_LINE_QUANTITY),
                      "unit_price": inventory["price_amount"]}
        saved = _save(sub, cart, lines)
        if saved is not None:
            return render(saved)
    raise _lost_race()


def set_quantity(sub: str, sku: str, quantity: int) -> dict:
    for _ in range(_ATTEMPTS):
        cart = dynamo.get(model.cart_key(sub))
        lines = dict((cart or {}).get("lines") or {})
        if sku not in lines:
            raise not_found("Cart line", "sku")
        if quantity == 0:
            del lines[sku]
        else:
            lines[sku] = {**lines[sku], "quantity": quantity}
        saved = _save(sub, cart, lines)
        if saved is not None:
            return render(saved)
    raise _lost_race()


def remove_item(sub: str, sku: str) -> dict:
    return set_quantity(sub, sku, 0)
