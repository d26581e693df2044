"""`/docs` in local mode: the OpenAPI document as a browsable page, with no network access.

Swagger UI's own files come from the `flask-swagger-ui` wheel (its `dist/` is the
swagger-ui-dist release it is versioned after; its Flask blueprint is not used), so nothing
is fetched from a CDN and the page works offline. The page starts Swagger UI from a script
file of ours, never inline, so the policy refuses inline script and inline style alike; the
one exception is `data:` images, which Swagger UI's stylesheet draws its icons from.

Without JavaScript (curl, a text browser) the same page lists every operation, its
parameters and its response statuses, rendered here from the same document.
"""

from __future__ import annotations

import html
import importlib.util
from collections.abc import Callable
from pathlib import Path

DOCS_PATH = "/docs"
STATIC_PREFIX = "/docs/static/"
OPENAPI_URL = "/openapi.json"
# Swagger UI needs only these: the bundle (BaseLayout, no top bar: it would let the page load
# any URL's document), its stylesheet, and our start-up script.
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")
INIT_SCRIPT = "docs-init.js"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".html": "text/html; charset=utf-8"}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'")
_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
_METHODS = ("get", "put", "post", "patch", "delete")

Response = tuple[int, dict[str, str], bytes]


def swagger_ui_dir() -> Path | None:
    """The swagger-ui-dist files inside the installed `flask_swagger_ui` package (found without
    importing it, which would import Flask), or None when the package is not installed."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = Path(next(iter(spec.submodule_search_locations))) / "dist"
    return found if (found / SWAGGER_FILES[0]).is_file() else None


def _parameter_text(parameter: dict) -> str:
    where = parameter["in"]
    required = " (required)" if parameter.get("required") else ""
    return f"{parameter['name']} in {where}{required}"


def operation_rows(document: dict) -> list[dict]:
    """One row per operation, in the document's order: what the no-script listing shows."""
    rows = []
    for path, item in document["paths"].items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            parameters = [_parameter_text(p) for p in operation.get("parameters", ())]
            if "requestBody" in operation:
                parameters.append("JSON body")
            rows.append({"method": method.upper(), "path": path, "id": operation["operationId"],
                         "summary": operation.get("summary", ""),
                         "auth": "Cognito ID token" if operation.get("security") else "none",
                         "parameters": parameters, "responses": sorted(operation["responses"])})
    return rows


def render_page(document: dict, *, swagger_ui: bool) -> bytes:
    title = html.escape(document["info"]["title"])
    rows = "".join(
        "<tr>"
        f"<td><code>{html.escape(r['method'])} {html.escape(r['path'])}</code></td>"
        f"<td>{html.escape(r['summary'])}</td><td>{html.escape(r['auth'])}</td>"
        f"<td>{html.escape(', '.join(r['parameters']) or '-')}</td>"
        f"<td>{html.escape(', '.join(r['responses']))}</td></tr>"
        for r in operation_rows(document))
    listing = (f"<h1>{title}</h1><p>The machine-readable document: <a href=\"{OPENAPI_URL}\">"
               f"{OPENAPI_URL}</a>.</p><table><thead><tr><th>operation</th><th>summary</th>"
               "<th>sign-in</th><th>parameters</th><th>responses</th></tr></thead>"
               f"<tbody>{rows}</tbody></table>")
    if swagger_ui:
        head = (f'<link rel="stylesheet" href="{STATIC_PREFIX}swagger-ui.css">'
                f'<script src="{STATIC_PREFIX}swagger-ui-bundle.js" defer></script>'
                f'<script src="{STATIC_PREFIX}{INIT_SCRIPT}" defer></script>')
        body = f'<div id="swagger-ui" data-url="{OPENAPI_URL}"></div><noscript>{listing}</noscript>'
    else:
        head, body = "", (f"<main>{listing}<p>Install <code>flask-swagger-ui</code> "
                          "(<code>pip install 'headless-commerce[local]'</code>) for the interactive page.</p></main>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            # No favicon request (a 404 in the console): an empty one.
            f'<link rel="icon" href="data:,">'
            f"<title>{title}</title>{head}</head><body>{body}</body></html>").encode()


class ApiDocs:
    """Answers GET /docs and its static files; `None` for every other path."""

    def __init__(self, document: Callable[[], dict], swagger_dir: Path | None = None) -> None:
        self.document = document
        self.swagger_dir = swagger_dir if swagger_dir is not None else swagger_ui_dir()
        self._files: dict[str, bytes] = {}

    def _static(self, name: str) -> bytes | None:
        if name not in self._files:
            if name == INIT_SCRIPT:
                source = Path(__file__).with_name(INIT_SCRIPT)
            elif name in SWAGGER_FILES and self.swagger_dir is not None:
                source = self.swagger_dir / name
            else:
                return None
            self._files[name] = source.read_bytes()
        return self._files[name]

    def __call__(self, path: str) -> Response | None:
        if path in (DOCS_PATH, DOCS_PATH + "/"):
            body = render_page(self.document(), swagger_ui=self.swagger_dir is not None)
            return 200, {"Content-Type": CONTENT_TYPES[".html"], "Cache-Control": "no-store",
                         **_HEADERS}, body
        if path.startswith(STATIC_PREFIX):
            name = path[len(STATIC_PREFIX):]
            content = self._static(name)
            if content is None:
                return None
            return 200, {"Content-Type": CONTENT_TYPES[Path(name).suffix],
                         "Cache-Control": "public, max-age=3600", **_HEADERS}, content
        return None

