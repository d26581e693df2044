"""Domain exceptions of search. The service raises them; the handler turns them into HTTP."""

from __future__ import annotations


class SearchError(Exception):
    """Base of every search failure."""


class InvalidSearch(SearchError):
    """A client sent a parameter search cannot run with (becomes a 400)."""

    def __init__(self, field: str, message: str, code: str = "invalid_parameter") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


class SearchUnavailable(SearchError):
    """The search engine is unreachable, timed out or overloaded (becomes a 503).

    `retry_after` is the number of seconds a client should wait before trying again.
    """

    def __init__(self, message: str = "Search is temporarily unavailable", retry_after: int = 5) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
