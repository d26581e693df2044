"""Lambda entry point for GET /stores and GET /orders/{order_id}/tracking (errors:
common/errors.py)."""

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.location import service, tracking

handler = api_handler("location", {
    "findStores": lambda r: service.search(r.query),
    "getOrderTracking": lambda r: tracking.order_tracking(r.path_params["order_id"], r.user().sub),
})
