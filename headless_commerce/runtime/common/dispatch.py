"""The Lambda entry point shape shared by every API function."""

from __future__ import annotations

from collections.abc import Callable

from headless_commerce.runtime.common.errors import ApiError
from headless_commerce.runtime.common.http import Response, cors_headers, error_response, json_response
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.common.request import Request, build_request
from headless_commerce.runtime.routes import ROUTES

Operation = Callable[[Request], object]


def api_handler(function: str, operations: dict[str, Operation]) -> Callable[[dict, object], dict]:
    """Build a handler that routes by (httpMethod, resource) to an operation.

    ApiError becomes its 4xx JSON; anything else is logged and answered with a bare 500,
    so no stack trace or internal name reaches a client.
    """
    routes = {(r.method, r.path): r for r in ROUTES if r.function == function}
    missing = {r.operation_id for r in routes.values()} ^ set(operations)
    if missing:
        raise RuntimeError(f"operations and routes disagree for {function}: {sorted(missing)}")

    def handler(event: dict, context: object = None) -> dict:
        response = _handle(event)
        # CORS depends on the caller's Origin, which only the event carries.
        response["headers"].update(cors_headers(event))
        return response

    def _handle(event: dict) -> dict:
        try:
            if not isinstance(event, dict):
                raise ApiError(400, "bad_request", "Malformed request")
            route = routes.get((event.get("httpMethod"), event.get("resource")))
            if route is None:
                raise ApiError(404, "not_found", "No such route")
            request = build_request(event, route)
            result = operations[route.operation_id](request)
            if isinstance(result, Response):
                return result.to_proxy()
            return json_response(200, result)
        except ApiError as error:
            if error.status >= 500:
                logger.error("service error", extra={"code": error.code})
            return error_response(error)
        except Exception:
            logger.exception("unhandled error")
            return json_response(500, {"error": {"code": "internal_error",
                                                 "message": "Internal error", "field": None}})

    return handler
