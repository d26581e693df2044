"""Lambda entry point for GET /stores (errors: common/errors.py)."""

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.location import service

handler = api_handler("location", {
    "findStores": lambda r: service.search(r.query),
})
