"""The Lambda entry point shape shared by every API function.

Hand-written rather than Powertools' event handler router: the route table (routes.py) already
builds API Gateway, the local router and OpenAPI, and this stays within the import budget.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.logging import correlation_paths

from headless_commerce.runtime.cache import responses as response_cache
from headless_commerce.runtime.common.domain_errors import DomainError
from headless_commerce.runtime.common.errors import ApiError, error_body, from_domain
from headless_commerce.runtime.common.http import Response, cors_headers, error_response, json_response
from headless_commerce.runtime.common.logging import lambda_entry, logger
from headless_commerce.runtime.common.request import Request, build_request
from headless_commerce.runtime.routes import ROUTES

Operation = Callable[[Request], object]


def api_handler(function: str, operations: dict[str, Operation]) -> Callable[[dict, object], dict]:
    """Build a handler that routes by (httpMethod, resource) to an operation.

    A domain exception or ApiError becomes its JSON error (common/errors.py); anything else is
    logged and answered with a bare 500, so no stack trace or internal name reaches a client.
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
            cache = response_cache.for_request(request)
            key, cached = cache.lookup(request) if cache is not None else (None, None)
            if cached is not None:
                return cached
            result = operations[route.operation_id](request)
            response = result.to_proxy() if isinstance(result, Response) else json_response(200, result)
            if key is not None:
                cache.store(key, response, route.cache_ttl_s)
                response["headers"][response_cache.CACHE_HEADER] = "MISS"
            return response
        except DomainError as error:
            return error_response(from_domain(error))
        except ApiError as error:
            return error_response(error)
        except Exception:
            logger.exception("unhandled error")
            return json_response(500, error_body("internal_error", "Internal error"))

    # The API Gateway request id correlates this invocation's logs with the access log.
    return lambda_entry(handler, correlation_id_path=correlation_paths.API_GATEWAY_REST)
