"""The storefront's ASGI application: `create_app()` is the factory uvicorn runs."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def healthz(request: Request) -> JSONResponse:
    """Liveness for the ALB and the container health check: touches no dependency, so a cache
    or API outage never takes every task out of the target group."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def create_app() -> Starlette:
    return Starlette(routes=[Route("/healthz", healthz)])
