"""The storefront's ASGI application: `create_app()` is the factory uvicorn runs
(`uvicorn --factory headless_commerce.runtime.storefront.app:create_app`)."""

from __future__ import annotations

import contextlib
import logging

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from headless_commerce.runtime import settings
from headless_commerce.runtime.storefront import locator, views
from headless_commerce.runtime.storefront.api import ApiError, CommerceApi
from headless_commerce.runtime.storefront.cache import open_cache
from headless_commerce.runtime.storefront.config import PACKAGE_DIR, StorefrontConfig
from headless_commerce.runtime.storefront.flags import Flags
from headless_commerce.runtime.storefront.identity import Identity
from headless_commerce.runtime.storefront.interactions import Interactions
from headless_commerce.runtime.storefront.sessions import CookieSigner, open_store
from headless_commerce.runtime.storefront.web import PageError, cookie_name, secure_headers

log = logging.getLogger("headless_commerce.storefront")


def _money(value: dict | None, symbols: dict[str, str]) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("amount"), int):
        return ""
    amount, currency = value["amount"], str(value.get("currency") or "")
    text = f"{amount // 100:,}.{amount % 100:02d}"
    symbol = symbols.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


class Storefront:
    """What every page needs, built once per process."""

    def __init__(self, config: StorefrontConfig, *, cache=None, sessions=None, flags=None,
                 identity=None, transport=None, interactions=None) -> None:
        self.config = config
        self.site = config.site()
        self.cache = cache if cache is not None else open_cache(config.cache_url, config.cache_password)
        self.api = CommerceApi(config.api_url, self.cache, transport=transport)
        self.sessions = sessions if sessions is not None else open_store(config.session_table)
        self.flags = flags if flags is not None else Flags(config.flags_table)
        self.identity = identity if identity is not None else Identity(config.user_pool_client_id)
        self.signer = CookieSigner(config.session_key)
        self.interactions = interactions if interactions is not None else Interactions(config.event_bus_name)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(d) for d in config.template_dirs()]),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            trim_blocks=True, lstrip_blocks=True)
        symbols = self.site.get("currency_symbols") or {}
        self.env.filters["money"] = lambda value: _money(value, symbols)
        assets = (config.assets_url or "").rstrip("/")
        self.env.filters["asset"] = lambda path: assets + path if str(path).startswith("/") else path

    def render(self, request: Request, template: str, *, status: int = 200, **context) -> Response:
        session = getattr(request.state, "session", None)
        notice = session.pop("notice") if session is not None else None
        auth = session.get("auth") if session is not None else None
        html = self.env.get_template(template).render(
            request=request, site=self.site, flags=getattr(request.state, "flags", {}),
            signed_in=auth is not None, account_email=(auth or {}).get("email"),
            cart_count=session.get("cart_count", 0) if session is not None else 0,
            csrf_token=session.csrf_token if session is not None else (lambda: ""),
            notice=notice, local_mode=self.config.local_mode, **context)
        return HTMLResponse(html, status_code=status)

    async def close(self) -> None:
        await self.api.close()
        await self.cache.close()


async def healthz(request: Request) -> JSONResponse:
    """Liveness for the ALB and the container health check: touches no dependency, so a cache
    or API outage never takes every task out of the target group."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def _error_page(request: Request, status: int, title: str, message: str, *,
                clear_cookie: bool = False) -> Response:
    storefront: Storefront = request.app.state.storefront
    try:
        response = storefront.render(request, "error.html", status=status, title=title,
                                     message=message, code=status)
    except Exception:   # a broken shared template must not turn a 404 into a stack trace
        log.exception("rendering the error page failed")
        response = HTMLResponse(f"<!doctype html><title>{status}</title><h1>{status}</h1>",
                                status_code=status)
    if clear_cookie:
        response.delete_cookie(cookie_name(storefront), path="/", httponly=True,
                               secure=storefront.config.secure_cookies, samesite="lax")
    secure_headers(request, response)
    return response


async def _page_error(request: Request, error: PageError) -> Response:
    return _error_page(request, error.status, error.title, error.message,
                       clear_cookie=error.clear_cookie)


async def _http_error(request: Request, error: HTTPException) -> Response:
    if error.status_code == 404:
        return _error_page(request, 404, "We could not find that page",
                           "It may have moved or no longer exist. Try searching, or start from the home page.")
    if error.status_code == 405:
        return _error_page(request, 405, "That action is not available here",
                           "Please use the links and buttons on the page.")
    return _error_page(request, error.status_code, "Something is wrong with that request",
                       "Please go back and try again.")


async def _api_error(request: Request, error: ApiError) -> Response:
    log.warning("commerce API error on %s: %s", request.url.path, error)
    if error.status >= 500:
        return _error_page(request, 503, "We are having trouble right now",
                           "Part of the store is not answering. Please try again in a moment.")
    return _error_page(request, 400 if error.status < 400 else error.status,
                       "That request could not be completed", error.message)


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path)
    return _error_page(request, 500, "Something went wrong on our side",
                       "Please try again. If it keeps happening, contact us.")


ROUTES = [
    Route(settings.HEALTH_PATH, healthz),
    Route("/", views.home),
    Route("/categories/{category_id}", views.category),
    Route("/search", views.search),
    Route("/search/suggest", views.suggest),
    Route("/products/{product_id}", views.product),
    Route("/products/{product_id}/availability", views.availability),
    Route("/cart", views.cart_page),
    Route("/cart/items", views.cart_add, methods=["POST"]),
    Route("/cart/update", views.cart_update, methods=["POST"]),
    Route("/checkout", views.checkout_page),
    Route("/checkout", views.checkout_place, methods=["POST"]),
    Route("/account/sign-in", views.sign_in_page),
    Route("/account/sign-in", views.sign_in, methods=["POST"]),
    Route("/account/sign-up", views.sign_up_page),
    Route("/account/sign-up", views.sign_up, methods=["POST"]),
    Route("/account/confirm", views.confirm_page),
    Route("/account/confirm", views.confirm, methods=["POST"]),
    Route("/account/sign-out", views.sign_out, methods=["POST"]),
    Route("/account/orders", views.orders),
    Route("/account/orders/{order_id}", views.order),
    Route("/account/orders/{order_id}/tracking", locator.order_tracking),
    Route("/stores", locator.stores),
    Route("/chat", views.chat_page),
    Route("/chat", views.chat_send, methods=["POST"]),
    Mount("/static", StaticFiles(directory=str(PACKAGE_DIR / "static")), name="static"),
]


def create_app(config: StorefrontConfig | None = None, **dependencies) -> Starlette:
    """The app; without `config`, settings come from the environment at start-up (lifespan),
    so importing or building the app makes no AWS call."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if getattr(app.state, "storefront", None) is None:
            app.state.storefront = Storefront(config or StorefrontConfig.from_environment(),
                                              **dependencies)
        try:
            yield
        finally:
            await app.state.storefront.close()

    app = Starlette(routes=ROUTES, lifespan=lifespan, exception_handlers={
        PageError: _page_error, HTTPException: _http_error, ApiError: _api_error,
        Exception: _unexpected})
    app.state.storefront = Storefront(config, **dependencies) if config is not None else None
    return app
