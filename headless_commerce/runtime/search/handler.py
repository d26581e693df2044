"""Lambda entry point for GET /search and GET /search/suggest (errors: common/errors.py)."""

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.search import service

handler = api_handler("search", {
    "searchProducts": lambda r: service.search(r.query),
    "suggestProducts": lambda r: service.suggest(r.query),
})
