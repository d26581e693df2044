"""`/docs`: the OpenAPI document as a browsable page in local mode, with no network access.

Over HTTP against the session's local mode (every route of the route table is listed, the
files have their content types, the policy is strict), and in Debian's Chromium with the
policy enforced: Swagger UI renders one operation per route, nothing violates the policy and
no request leaves local mode."""

from __future__ import annotations

import html
import re

import pytest

from headless_commerce.local.api_docs import CONTENT_SECURITY_POLICY, ApiDocs, swagger_ui_dir
from headless_commerce.runtime.openapi import openapi_document
from headless_commerce.runtime.routes import ROUTES
from tests.storefront.conftest import chromium


def route_lines(page: str) -> set[tuple[str, str]]:
    return {(m, html.unescape(p)) for m, p in re.findall(r"<code>([A-Z]+) (/[^<]*)</code>", page)}


def test_every_route_is_listed_over_http(local):
    reply = local.call("GET", "/docs")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    page = reply.raw.decode()
    assert route_lines(page) == {(r.method, r.path) for r in ROUTES}
    # The interactive page loads only files local mode serves itself.
    assert not re.search(r"(src|href)=\"https?:", page)
    for route in ROUTES:
        assert html.escape(route.summary) in page


@pytest.mark.parametrize(("name", "content_type"), [
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("docs-init.js", "text/javascript; charset=utf-8"),
])
def test_static_files_have_their_content_types(local, name, content_type):
    reply = local.call("GET", f"/docs/static/{name}")
    assert reply.status == 200 and reply.headers["Content-Type"] == content_type
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert len(reply.raw) > 100


@pytest.mark.parametrize("path", ["/docs/static/index.html", "/docs/static/../server.py",
                                  "/docs/static/swagger-ui-standalone-preset.js", "/docs/other"])
def test_anything_else_under_docs_is_a_json_404(local, path):
    reply = local.call("GET", path)
    assert reply.status == 404 and reply.body["error"]["code"] == "not_found"


def test_head_answers_like_get(local):
    reply = local.call("HEAD", "/docs/static/swagger-ui.css")
    assert reply.status == 200 and reply.raw == b""
    assert int(reply.headers["Content-Length"]) > 100


def test_without_swagger_ui_the_listing_is_the_page():
    docs = ApiDocs(openapi_document)
    docs.swagger_dir = None                 # as without flask-swagger-ui installed
    status, _, body = docs("/docs")
    page = body.decode()
    assert status == 200 and "<script" not in page and "<noscript>" not in page
    assert route_lines(page) == {(r.method, r.path) for r in ROUTES}
    assert docs("/docs/static/swagger-ui-bundle.js") is None


def test_the_listing_escapes_what_it_shows():
    document = openapi_document()
    document["info"]["title"] = "<script>alert(1)</script>"
    document["paths"]["/products"]["get"]["summary"] = "a <b> & \"c\""
    page = ApiDocs(lambda: document)("/docs")[2].decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "a &lt;b&gt; &amp; &quot;c&quot;" in page


@pytest.fixture(scope="module")
def browser():
    if swagger_ui_dir() is None:
        pytest.skip("flask-swagger-ui is not installed (requirements-dev.txt)")
    with chromium() as launched:
        yield launched


def test_swagger_ui_renders_every_route_under_the_policy(local, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    # Every refusal by the policy, as the page sees it (the console may not show them all).
    page.add_init_script("window.__refused = []; document.addEventListener('securitypolicyviolation',"
                         " e => window.__refused.push(e.effectiveDirective + ' ' + e.blockedURI));")
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" else None)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(f"{local.api}/docs")
        # A function, not an expression string: Playwright polls a string through eval, which the
        # page's policy (no 'unsafe-eval') refuses whenever the first check is not yet true.
        page.wait_for_function("count => document.querySelectorAll('.opblock').length >= count",
                               arg=len(ROUTES), timeout=30_000)
        shown = page.eval_on_selector_all(
            ".opblock", """blocks => blocks.map(b => [
                b.querySelector('.opblock-summary-method').textContent.trim(),
                b.querySelector('.opblock-summary-path').getAttribute('data-path')])""")
        # The icons are data: URLs the policy allows; a refused one would be a console error.
        assert {(m, p) for m, p in shown} == {(r.method, r.path) for r in ROUTES}
        assert len(shown) == len(ROUTES)
        title = page.text_content(".info .title")
        assert "Headless Commerce API" in title
        # Open an operation with a body and the schemas: more of Swagger UI renders.
        page.click("#operations-default-checkout .opblock-summary-control")
        page.wait_for_selector("#operations-default-checkout .responses-table")
        page.wait_for_selector(".models .model-container")
        assert page.locator(".models .model-container").count() >= 10
        refused = page.evaluate("window.__refused")
    finally:
        context.close()
    assert problems == [] and refused == []
    outside = [url for url in requested if not url.startswith(local.api) and not url.startswith("data:")]
    assert outside == []
