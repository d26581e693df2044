"""Cart aggregate: the only code that builds cart keys and DynamoDB requests.

A cart is one item (`lines` embedded, see model.py) written with optimistic locking on its
`version`. Checkout consumes a cart inside the order's own transaction (orders/repository.py),
leaving an empty tombstone that names the order; the next change here starts a fresh cart.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime.common import dynamo
from headless_commerce.runtime.common.clock import now_iso


def get(sub: str) -> dict | None:
    return dynamo.get(model.cart_key(sub))


def get_many(subs: list[str]) -> dict[str, dict]:
    """Carts by customer id (missing ones absent)."""
    found = dynamo.batch_get([model.cart_key(sub) for sub in subs]) if subs else []
    return {item["customer_id"]: item for item in found}


def get_with_sku(sub: str, sku: str) -> tuple[dict | None, dict | None]:
    """(cart, the SKU's inventory item) in one BatchGetItem."""
    found = dynamo.batch_get([model.inventory_key(sku), model.cart_key(sub)])
    inventory = next((i for i in found
                      if i.get(model.ENTITY_ATTRIBUTE) == model.Entity.INVENTORY), None)
    cart = next((i for i in found if i.get(model.ENTITY_ATTRIBUTE) == model.Entity.CART), None)
    return cart, inventory


def save(sub: str, cart: dict | None, lines: dict) -> dict | None:
    """Write `lines` if the cart is still the one read (a conditional Put, or Delete when no
    line is left); the new cart, or None when the cart changed meanwhile."""
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
