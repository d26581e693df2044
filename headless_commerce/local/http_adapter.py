"""HTTP request -> API Gateway REST proxy event -> the route's Lambda handler -> HTTP response.

`routes.ROUTES` drives the router, as it drives API Gateway and openapi.json. What API Gateway
itself answers is answered here in the same JSON error shape (constructs/commerce_api.py's
gateway responses): no token or a bad one on a `user` route -> 401, unknown path -> 404,
known path with another method -> 405, CORS preflight -> 204. Everything else is the
handler's answer; HEAD is answered as GET without the body. `LocalApi.handle` is the
socket-free core; `make_server` serves it with werkzeug's threaded WSGI server.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import io
import json
import logging
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler, select_address_family
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as WsgiResponse

from headless_commerce.local.auth import (
    InvalidToken,
    TokenVerifier,
    authorizer_claims,
    bearer_token,
)
from headless_commerce.runtime.common.errors import error_body
from headless_commerce.runtime.routes import FUNCTIONS, POST_CONFIRMATION, ROUTES, Route

log = logging.getLogger("headless_commerce.local")

STAGE = "local"
MAX_REQUEST_BYTES = 10 * 1024 * 1024          # API Gateway's payload limit
CORS_ALLOWED_HEADERS = "Authorization,Content-Type,Idempotency-Key,X-Request-Id"
Response = tuple[int, dict[str, str], bytes]


# ---- routing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    route: Route | None
    path_params: dict[str, str] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()      # methods of the matched path (empty: unknown path)


class Router:
    """API Gateway resource matching: `{name}` is one non-empty path segment; literal segments
    win over parameters (API Gateway prefers the most specific resource)."""

    def __init__(self, routes: Iterable[Route] = ROUTES) -> None:
        self._templates: dict[tuple[str, ...], dict[str, Route]] = {}
        for route in routes:
            self._templates.setdefault(_segments(route.path), {})[route.method] = route

    def match(self, method: str, path: str) -> Match:
        segments = _segments(path)
        best: tuple[int, tuple[str, ...]] | None = None
        for template in self._templates:
            if len(template) != len(segments):
                continue
            literal = 0
            for want, got in zip(template, segments, strict=True):
                if want.startswith("{") and want.endswith("}"):
                    if not got:
                        break
                elif want != got:
                    break
                else:
                    literal += 1
            else:
                if best is None or literal > best[0]:
                    best = (literal, template)
        if best is None:
            return Match(None)
        template = best[1]
        methods = self._templates[template]
        params = {want[1:-1]: unquote(got) for want, got in zip(template, segments, strict=True)
                  if want.startswith("{")}
        return Match(methods.get(method.upper()), params, tuple(sorted(methods)))


def _segments(path: str) -> tuple[str, ...]:
    # "/" -> (); "/a/b" -> ("a", "b"); "/a/" -> ("a", "") (API Gateway has no such resource).
    return tuple(path.split("/")[1:]) if path not in ("", "/") else ()


# ---- event and response translation -----------------------------------------------------------

def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict | None, dict | None]:
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


def body_field(body: bytes) -> tuple[str | None, bool]:
    """(event body, isBase64Encoded): text bodies as-is, anything not UTF-8 as base64."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def proxy_event(route: Route, *, method: str, path: str, query: str,
                headers: list[tuple[str, str]], body: bytes, path_params: dict[str, str],
                claims: dict | None, source_ip: str = "127.0.0.1",
                request_id: str | None = None, now: float | None = None) -> dict:
    """The API Gateway REST (v1) proxy event a Lambda integration receives."""
    now = time.time() if now is None else now
    single_headers, multi_headers = _single_and_multi(headers)
    single_query, multi_query = _single_and_multi(parse_qsl(query, keep_blank_values=True))
    body_text, is_base64 = body_field(body)
    request_id = request_id or str(uuid.uuid4())
    lower = {k.lower(): v for k, v in (single_headers or {}).items()}
    context: dict = {
        "accountId": "123456789012", "apiId": "local", "stage": STAGE,
        "requestId": request_id, "extendedRequestId": request_id,
        "resourcePath": route.path, "httpMethod": method, "path": f"/{STAGE}{path}",
        "protocol": "HTTP/1.1", "domainName": lower.get("host", "localhost"),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "requestTimeEpoch": int(now * 1000),
        "identity": {"sourceIp": source_ip, "userAgent": lower.get("user-agent")},
    }
    if claims is not None:
        context["authorizer"] = {"claims": authorizer_claims(claims)}
    return {
        "resource": route.path, "path": path, "httpMethod": method,
        "headers": single_headers, "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query, "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_params or None, "stageVariables": None,
        "requestContext": context, "body": body_text, "isBase64Encoded": is_base64,
    }


def from_proxy_result(result: object) -> Response:
    """A Lambda proxy result -> (status, headers, body); a malformed one is API Gateway's 502."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return error(502, "unavailable", "The service is unavailable, retry later")
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return result["statusCode"], headers, raw


def json_bytes(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A gateway response: the handlers' error body."""
    return status, {"Content-Type": "application/json", **(headers or {})}, json_bytes(
        error_body(code, message))


# ---- the adapter ---------------------------------------------------------------------------------

def import_handler(dotted: str) -> Callable:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


class LocalApi:
    """Everything the local HTTP server answers, as one `handle` call (no sockets)."""

    def __init__(self, *, verifier: TokenVerifier, documents: dict[str, Callable[[], object]],
                 assets: Callable[[str], Response | None] | None = None,
                 allowed_origin: str = "*", user_pool_id: str = "", region: str = "us-east-1",
                 router: Router | None = None,
                 actions: dict[str, Callable[[], object]] | None = None,
                 pages: Callable[[str], Response | None] | None = None,
                 post_confirmation: bool = True) -> None:
        self.router = router or Router()
        self.actions = actions or {}         # POST path -> () -> JSON result (local admin)
        self.verifier = verifier
        self.documents = documents           # path -> () -> JSON document
        self.assets = assets
        self.pages = pages                   # GET path -> an HTML page or its file, else None
        self.allowed_origin = allowed_origin
        self.user_pool_id = user_pool_id
        self.region = region
        # Local mode plays Cognito's post-confirmation trigger (moto does not run it); behind
        # the real API Gateway and Cognito (the container) the trigger has already run.
        self.post_confirmation = post_confirmation
        self._handlers: dict[str, Callable] = {}
        self._lock = threading.Lock()
        self._confirmed: set[str] = set()

    # -- helpers
    def _cors(self) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": self.allowed_origin} if self.allowed_origin else {}

    def _handler(self, function: str) -> Callable:
        with self._lock:
            if function not in self._handlers:
                self._handlers[function] = import_handler(FUNCTIONS[function].handler)
            return self._handlers[function]

    def ensure_profile(self, claims: dict) -> None:
        """Cognito's post-confirmation trigger, which moto does not run: called for a sub's
        first authenticated request in this process (the trigger itself is idempotent)."""
        sub = claims["sub"]
        with self._lock:
            if sub in self._confirmed:
                return
        event = {
            "version": "1", "region": self.region, "userPoolId": self.user_pool_id,
            "userName": str(claims.get("cognito:username", sub)),
            "callerContext": {"awsSdkVersion": "local", "clientId": self.verifier.client_id},
            "triggerSource": "PostConfirmation_ConfirmSignUp",
            "request": {"userAttributes": {
                "sub": sub, "email": claims.get("email"), "email_verified": "true",
                "cognito:user_status": "CONFIRMED"}},
            "response": {},
        }
        try:
            import_handler(POST_CONFIRMATION.handler)(event, None)
        except Exception:
            log.exception("post-confirmation trigger failed for %s", sub)
            return
        with self._lock:
            self._confirmed.add(sub)

    # -- the request
    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes,
               source_ip: str = "127.0.0.1") -> Response:
        # HEAD is GET without the body (the server drops it, keeping Content-Length).
        method = "GET" if method.upper() == "HEAD" else method.upper()
        parts = urlsplit(target)
        path = parts.path or "/"
        if method == "GET" and path in self.documents:
            return 200, {"Content-Type": "application/json", "Cache-Control": "no-store",
                         **self._cors()}, json_bytes(self.documents[path]())
        if method == "POST" and path in self.actions:
            return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, \
                json_bytes(self.actions[path]())
        if method == "GET" and path.startswith("/assets/") and self.assets:
            asset = self.assets(path)
            if asset is not None:
                return asset
        if method == "GET" and self.pages is not None:
            page = self.pages(path)
            if page is not None:
                return page
        match = self.router.match(method, path)
        if not match.allowed:
            return error(404, "not_found", "No such route", self._cors())
        if method == "OPTIONS":
            return 204, {**self._cors(),
                         "Access-Control-Allow-Methods": ",".join((*match.allowed, "OPTIONS")),
                         "Access-Control-Allow-Headers": CORS_ALLOWED_HEADERS,
                         "Access-Control-Max-Age": "600"}, b""
        if match.route is None:
            return error(405, "method_not_allowed", f"{method} is not allowed on {path}",
                         {**self._cors(), "Allow": ", ".join(match.allowed)})
        route = match.route
        claims = None
        if route.auth == "user":
            authorization = next((v for k, v in headers if k.lower() == "authorization"), None)
            try:
                claims = self.verifier.verify(bearer_token(authorization))
            except InvalidToken as problem:
                log.info("401 on %s %s: %s", method, path, problem)
                return error(401, "unauthorized", "Sign in to use this route", self._cors())
            if self.post_confirmation:
                self.ensure_profile(claims)
        event = proxy_event(route, method=method, path=path, query=parts.query, headers=headers,
                            body=body, path_params=match.path_params, claims=claims,
                            source_ip=source_ip)
        try:
            result = self._handler(route.function)(event, None)
        except Exception:
            log.exception("handler %s raised", route.function)
            return error(502, "unavailable", "The service is unavailable, retry later", self._cors())
        return from_proxy_result(result)


# ---- the socket side -------------------------------------------------------------------------------
# werkzeug's threaded WSGI server parses requests and writes responses. What it does not do is
# added here: JSON instead of http.server's HTML error pages (400/414/431/505), a deadline on
# reading the head and the body of a request (its socket timeout is per recv, so a client
# sending a byte every few seconds would hold a thread forever), TCP_NODELAY, quiet handling
# of clients that disconnect, and keep-alive. werkzeug closes every connection after its
# response because http.server cannot skip an unread body before the next request line; here
# the body is always read whole before the answer, so with `keep_alive` (local mode) an
# HTTP/1.1 connection stays open after a successful answer with a Content-Length (a new
# connection and thread per request was a third of the server's CPU time for a product
# listing). It is closed after an error, when the client asks, when the body was not read,
# and when no next request starts within HEAD_TIMEOUT_S. The container keeps closing every
# connection: behind a load balancer that keeps idle connections longer than HEAD_TIMEOUT_S,
# one it reuses just as this server closes it would fail a request.

HEAD_TIMEOUT_S = 10.0        # request line and headers, from accepting the connection
BODY_TIMEOUT_S = 30.0        # the body, from the end of the headers (API Gateway: 29 s)
WRITE_TIMEOUT_S = 30.0       # a client that does not read its response
LISTEN_BACKLOG = 128
STARTING_RETRY_AFTER_S = 1


class _DeadlineReader(io.RawIOBase):
    """The connection's read side with a deadline for the whole read, not each recv."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.deadline = time.monotonic() + HEAD_TIMEOUT_S

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("request read deadline passed")
        self._sock.settimeout(remaining)
        try:
            return self._sock.recv_into(buffer)
        finally:
            self._sock.settimeout(WRITE_TIMEOUT_S)


BODY_READ = "headless_commerce.body_read"      # environ: the request body was read whole


class _Input(io.BufferedReader):
    """The connection's request stream. While `held`, read() answers nothing: after a response
    werkzeug reads and drops whatever the client has sent since (the unread rest of a body,
    when it closes every connection), which on a kept connection is the next request."""

    held = False

    def read(self, size: int | None = -1) -> bytes:
        return b"" if self.held else super().read(size)


class _RequestHandler(WSGIRequestHandler):
    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = _DeadlineReader(self.connection)
        self.rfile = _Input(self._reader)
        self._environ: dict = {}
        self._answer: dict[str, object] = {}

    def handle_one_request(self) -> None:
        # Each request's head has HEAD_TIMEOUT_S from when the connection is free for it.
        self._reader.deadline = time.monotonic() + HEAD_TIMEOUT_S
        self._environ, self._answer = {}, {}
        self.rfile.held = False
        super().handle_one_request()

    def make_environ(self) -> dict:
        environ = super().make_environ()
        # The headers as sent (order, case, repeats), for the proxy event's multiValueHeaders.
        environ["headless_commerce.headers"] = list(self.headers.items())
        self._environ = environ
        return environ

    def send_response(self, code: int, message: str | None = None) -> None:
        self._answer["status"] = code
        super().send_response(code, message)

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "content-length":
            self._answer["length"] = value
        elif keyword.lower() == "connection" and value.lower() == "close" and self._keep_alive():
            self.rfile.held = True     # until the next request starts
            return                # werkzeug's unconditional close, not needed: see above
        super().send_header(keyword, value)

    def _keep_alive(self) -> bool:
        return (self.server.keep_alive and self.request_version == "HTTP/1.1"
                and not self.close_connection
                and self._environ.get(BODY_READ) is True and "length" in self._answer
                and int(self._answer.get("status", 500)) < 400
                and self.headers.get("Connection", "").lower() != "close")

    def run_wsgi(self) -> None:
        self._reader.deadline = time.monotonic() + BODY_TIMEOUT_S
        super().run_wsgi()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None
                   ) -> None:
        """http.server's own rejections (bad request line, 414, 431, 505) in the JSON shape."""
        self.log_error("code %d, message %s", code, message)
        if self.request_version == "HTTP/0.9":    # not parsed yet: http.server would send
            self.request_version = "HTTP/1.0"     # the body alone, with no status line
        _status, headers, body = error(code, _STATUS_CODES.get(code, ("http_error",))[0],
                                      message or HTTPStatus(code).phrase)
        self.send_response(code, HTTPStatus(code).phrase)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def log_request(self, code="-", size="-") -> None:
        log.debug("%s %s %s", self.requestline, code, size)

    def log_error(self, format: str, *args) -> None:
        log.debug("%s - %s", self.client_address[0], format % args)


_STATUS_CODES = {400: ("bad_request",), 408: ("request_timeout",), 411: ("length_required",),
                 413: ("request_too_large",), 414: ("uri_too_long",),
                 431: ("headers_too_large",), 501: ("not_implemented",),
                 505: ("http_version_not_supported",)}


class Traffic:
    """The requests being answered. Local mode's event flow waits for a moment without any
    (`wait_quiet`) before each poll: in AWS the consumers run in their own functions, here they
    share one interpreter lock with the requests, and a consumer batch in the middle of a
    checkout made the checkout wait for it."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._active = 0

    def __enter__(self) -> Traffic:
        with self._changed:
            self._active += 1
        return self

    def __exit__(self, *_exc) -> None:
        with self._changed:
            self._active -= 1
            if not self._active:
                self._changed.notify_all()

    def wait_quiet(self, limit_s: float) -> bool:
        """Wait until no request is being answered, at most `limit_s`; True if none is."""
        deadline = time.monotonic() + limit_s
        with self._changed:
            while self._active:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True


class LocalHttpServer(ThreadedWSGIServer):
    """Binds at construction (OSError if the port is in use: on Linux SO_REUSEADDR only
    reuses TIME_WAIT ports, never a listening one) and answers 503 `starting` until `api`
    is attached."""

    request_queue_size = LISTEN_BACKLOG
    api: LocalApi | None = None
    traffic = None                 # a Traffic, when something wants to know (local mode)
    keep_alive = False             # HTTP/1.1 keep-alive (local mode; see the socket side)

    def __init__(self, host: str, port: int) -> None:
        # Bound here rather than by werkzeug, which prints and exits on a busy port.
        listener = socket.create_server((host, port), family=select_address_family(host, port),
                                        backlog=LISTEN_BACKLOG)
        try:
            super().__init__(host, port, self.wsgi, _RequestHandler, fd=listener.fileno())
        finally:
            listener.close()       # werkzeug serves a duplicate of the descriptor

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{advertised_host(host)}:{port}"

    def wsgi(self, environ: dict, start_response) -> Iterable[bytes]:
        request = Request(environ)
        status, headers, body = self._respond(request, environ)
        response = WsgiResponse(body, status=status, headers=headers)
        return response(environ, start_response)

    def _respond(self, request: Request, environ: dict) -> Response:
        if request.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return error(411, "length_required", "Send a Content-Length")
        length = request.content_length or 0
        if length > MAX_REQUEST_BYTES:
            return error(413, "request_too_large", "Request body too large")
        try:
            # The connection's own reader (werkzeug's wrapper would turn the deadline into a
            # generic disconnect).
            body = environ["wsgi.input"].read(length) if length else b""
        except TimeoutError:
            return error(408, "request_timeout", "The request body did not arrive in time")
        if len(body) < length:
            return error(400, "incomplete_body", "The connection closed before the whole body")
        environ[BODY_READ] = True
        api = self.api
        if api is None:
            return error(503, "starting", "Local mode is still starting",
                         {"Retry-After": str(STARTING_RETRY_AFTER_S)})
        with self.traffic or contextlib.nullcontext():
            return api.handle(request.method, environ.get("RAW_URI") or request.full_path,
                              environ["headless_commerce.headers"], body,
                              request.remote_addr or "127.0.0.1")

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up or stalls is not an error of ours: no traceback for it."""
        problem = sys.exc_info()[1]
        if isinstance(problem, (ConnectionError, TimeoutError)):
            log.debug("client %s went away: %r", client_address, problem)
            return
        log.exception("error while serving %s", client_address)


def advertised_host(bound: str) -> str:
    """A wildcard bind is reached through loopback on this machine."""
    return "127.0.0.1" if bound in ("", "0.0.0.0") else bound


def make_server(host: str, port: int) -> LocalHttpServer:
    return LocalHttpServer(host, port)
