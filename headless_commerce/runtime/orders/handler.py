"""Lambda entry point for the order read routes."""

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.common.pagination import parse_limit
from headless_commerce.runtime.orders import service

handler = api_handler("orders", {
    "listOrders": lambda r: service.list_orders(
        r.user().sub, r.query.get("cursor"), parse_limit(r.query)),
    "getOrder": lambda r: service.get_order(r.user().sub, r.path_params["order_id"]),
})
