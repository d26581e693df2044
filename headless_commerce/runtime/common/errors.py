"""The one exception type a client-caused failure travels as."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 extra: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        # Extra top-level members of the response body (e.g. the order of a declined checkout).
        self.extra = extra or {}

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "field": self.field},
                **self.extra}


def bad_request(code: str, message: str, field: str | None = None) -> ApiError:
    return ApiError(400, code, message, field)


def not_found(what: str, field: str | None = None) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found", field)


def conflict(code: str, message: str, field: str | None = None, extra: dict | None = None) -> ApiError:
    return ApiError(409, code, message, field, extra)
