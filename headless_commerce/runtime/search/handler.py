"""Lambda entry point for GET /search and GET /search/suggest."""

from __future__ import annotations

from collections.abc import Callable

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.common.errors import ApiError
from headless_commerce.runtime.common.http import Response
from headless_commerce.runtime.search import service
from headless_commerce.runtime.search.errors import InvalidSearch, SearchUnavailable


def _answer(operation: Callable[[], dict]) -> object:
    """Search's domain exceptions as HTTP: bad input 400, an engine that is down 503."""
    try:
        return operation()
    except InvalidSearch as error:
        raise ApiError(400, error.code, error.message, error.field) from None
    except SearchUnavailable as error:
        return Response(503, {"error": {"code": "search_unavailable", "message": error.message, "field": None}},
                        {"Retry-After": str(error.retry_after)})


handler = api_handler("search", {
    "searchProducts": lambda r: _answer(lambda: service.search(r.query)),
    "suggestProducts": lambda r: _answer(lambda: service.suggest(r.query)),
})
