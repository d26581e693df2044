"""Lambda entry point for the catalog routes."""

from headless_commerce.runtime.catalog import service
from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.common.pagination import parse_limit

handler = api_handler("catalog", {
    "listProducts": lambda r: service.list_products(
        r.query.get("category"), r.query.get("cursor"), parse_limit(r.query)),
    "getProduct": lambda r: service.get_product(r.path_params["product_id"]),
    "listCategories": lambda r: service.category_tree(),
})
