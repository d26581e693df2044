"""Order reads: only ever the caller's own orders."""

from __future__ import annotations

from headless_commerce.runtime.common import pagination
from headless_commerce.runtime.common.domain_errors import NotFound
from headless_commerce.runtime.orders import repository as orders
from headless_commerce.runtime.orders.views import order_summary, order_view


def list_orders(sub: str, cursor: str | None, limit: int) -> dict:
    attributes, fixed = orders.page_key(sub)
    start = pagination.decode_cursor(cursor, key_attributes=attributes, fixed=fixed)
    items, last = orders.list_for_customer(sub, limit, start)
    return {"items": [order_summary(i) for i in items],
            "next_cursor": pagination.encode_cursor(last)}


def get_order(sub: str, order_id: str) -> dict:
    order = orders.get(order_id)
    # Someone else's order is indistinguishable from a missing one.
    if order is None or order.get("customer_id") != sub:
        raise NotFound("Order", "order_id")
    return order_view(order)
