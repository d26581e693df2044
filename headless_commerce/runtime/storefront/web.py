"""Request plumbing shared by every page: the session around a request, form reading with a
size limit, CSRF, and the storefront's own error pages."""

from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from headless_commerce.runtime.storefront.config import MAX_FORM_BYTES
from headless_commerce.runtime.storefront.sessions import (
    PLAIN_COOKIE,
    SECURE_COOKIE,
    ExpiredCookie,
    Session,
    TamperedCookie,
    new_session_id,
)

log = logging.getLogger("headless_commerce.storefront")

SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; connect-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'self'; object-src 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    # HTML depends on the session: never kept by CloudFront or a shared proxy.
    "Cache-Control": "private, no-store",
}
HSTS = "max-age=31536000; includeSubDomains"


class PageError(Exception):
    """Shown as the storefront's error page with this status."""

    def __init__(self, status: int, title: str, message: str, *, clear_cookie: bool = False) -> None:
        super().__init__(title)
        self.status, self.title, self.message, self.clear_cookie = status, title, message, clear_cookie


def cookie_name(storefront) -> str:
    return SECURE_COOKIE if storefront.config.secure_cookies else PLAIN_COOKIE


async def load_session(request: Request) -> Session:
    storefront = request.app.state.storefront
    raw = request.cookies.get(cookie_name(storefront))
    if not raw:
        return Session(new_session_id(), new=True)
    try:
        session_id = storefront.signer.unsign(raw)
        data = await run_in_threadpool(storefront.sessions.load, session_id)
        if data is None:
            raise ExpiredCookie
    except TamperedCookie:
        raise PageError(400, "Your session could not be read",
                        "The session cookie was changed or damaged, so we removed it. "
                        "Please start again.", clear_cookie=True) from None
    except ExpiredCookie:
        if request.method == "POST":
            raise PageError(403, "Your session has expired",
                            "For your security, please reload the page and try again.",
                            clear_cookie=True) from None
        # Reading a page with an old cookie simply starts a new session.
        return Session(new_session_id(), new=True, modified=False)
    return Session(session_id, data)


async def save_session(request: Request, session: Session, response: Response) -> None:
    storefront = request.app.state.storefront
    for retired in session.retired:
        await run_in_threadpool(storefront.sessions.delete, retired)
    if session.modified:
        expires_at = int(time.time()) + storefront.signer.lifetime_s
        await run_in_threadpool(storefront.sessions.save, session.session_id, session.data, expires_at)
        response.set_cookie(cookie_name(storefront), storefront.signer.sign(session.session_id),
                            max_age=storefront.signer.lifetime_s, path="/", httponly=True,
                            secure=storefront.config.secure_cookies, samesite="lax")
    elif session.new and request.cookies.get(cookie_name(storefront)):
        # A stale cookie whose session is gone: drop it.
        response.delete_cookie(cookie_name(storefront), path="/", httponly=True,
                               secure=storefront.config.secure_cookies, samesite="lax")


async def read_form(request: Request) -> dict[str, str]:
    """The urlencoded form, at most MAX_FORM_BYTES (413), of the right type (415)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise PageError(415, "That form could not be read", "The form was sent in a format we do not accept.")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        raise PageError(413, "That form is too large", "Please shorten what you entered and try again.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PageError(413, "That form is too large", "Please shorten what you entered and try again.")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                          max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise PageError(400, "That form could not be read", "Please try again.") from None
    return dict(pairs)


def check_csrf(session: Session, form: dict[str, str]) -> None:
    expected = session.get("csrf")
    sent = form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise PageError(403, "This form has expired",
                        "We could not verify that this request came from our site. Please go "
                        "back, reload the page and try again.")


def secure_headers(request: Request, response: Response) -> None:
    config = request.app.state.storefront.config
    for name, value in SECURITY_HEADERS.items():
        if name == "Content-Security-Policy" and config.assets_url:
            value = value.replace("img-src 'self'", f"img-src 'self' {config.assets_url.rstrip('/')}")
        response.headers.setdefault(name, value)
    if config.secure_cookies:
        response.headers.setdefault("Strict-Transport-Security", HSTS)


Handler = Callable[[Request], Awaitable[Response]]


def page(handler: Handler) -> Handler:
    """Session in, CSRF checked on POST, session saved and security headers out."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        session = await load_session(request)
        request.state.session = session
        if request.method == "POST":
            request.state.form = await read_form(request)
            check_csrf(session, request.state.form)
        response = await handler(request)
        await save_session(request, session, response)
        secure_headers(request, response)
        # The time spent here (make bench reads it; browsers show it in their dev tools).
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    return endpoint
