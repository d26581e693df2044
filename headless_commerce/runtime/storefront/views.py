"""The storefront's pages. Each reads as steps: fetch from the API (cached where public),
render. Customer data goes only through the customer's own token, never the cache."""

from __future__ import annotations

import asyncio
import re
import uuid

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from headless_commerce.runtime.routes import IDEMPOTENCY_KEY_PATTERN, PATH_PARAM_PATTERN
from headless_commerce.runtime.storefront.api import ApiError, CommerceApi
from headless_commerce.runtime.storefront.identity import IdentityError
from headless_commerce.runtime.storefront.interactions import VISITOR_KEY, cart_item_added, product_viewed, visitor_id
from headless_commerce.runtime.storefront.web import PageError, page

_ID = re.compile(f"^{PATH_PARAM_PATTERN}$")
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
_CODE = re.compile(r"^[0-9]{4,10}$")
SEARCH_PARAMS = ("q", "category", "brand", "min_price", "max_price", "sort", "cursor")
# Sandbox provider test tokens (runtime/payments/sandbox.py): card data never reaches us.
TEST_CARDS = (("tok_visa", "Test Visa (approves)"), ("tok_mastercard", "Test Mastercard (approves)"),
              ("tok_chargeDeclined", "Test card that is declined"))
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country")
MAX_GUEST_LINES = 50


def not_found(what: str = "page") -> PageError:
    return PageError(404, f"We could not find that {what}",
                     "It may have moved or no longer exist. Try searching, or start from the home page.")


def _valid_id(value: str, what: str) -> str:
    if not _ID.match(value or ""):
        raise not_found(what)
    return value


def _render(request: Request, template: str, status: int = 200, **context) -> Response:
    storefront = request.app.state.storefront
    return storefront.render(request, template, status=status, **context)


async def _flags(request: Request) -> dict[str, bool]:
    storefront = request.app.state.storefront
    flags = await run_in_threadpool(storefront.flags.current)
    request.state.flags = flags
    return flags


async def require_flag(request: Request, name: str) -> dict[str, bool]:
    """The flags, when `name` is on; a page behind a switched-off flag does not exist (404)."""
    flags = await _flags(request)
    if not flags[name]:
        raise not_found()
    return flags


def _signed_in(request: Request) -> dict | None:
    return request.state.session.get("auth")


async def _as_customer(request: Request, call):
    """Call the API with the shopper's token; refresh it once on 401; sign-in page if gone."""
    session = request.state.session
    auth = session.get("auth")
    if not auth:
        raise _SignInRequired
    try:
        return await call(auth["id_token"])
    except ApiError as error:
        if error.status != 401 or not auth.get("refresh_token"):
            raise
    storefront = request.app.state.storefront
    try:
        tokens = await run_in_threadpool(storefront.identity.refresh, auth["refresh_token"])
    except IdentityError:
        session.pop("auth")
        raise _SignInRequired from None
    session["auth"] = {**auth, "id_token": tokens.id_token}
    return await call(tokens.id_token)


class _SignInRequired(Exception):
    pass


def _sign_in_redirect(request: Request) -> Response:
    return RedirectResponse(f"/account/sign-in?next={request.url.path}", status_code=303)


def _notice(request: Request, text: str) -> None:
    request.state.session["notice"] = text


# ---- catalog pages -------------------------------------------------------------------------

@page
async def home(request: Request) -> Response:
    storefront = request.app.state.storefront
    flags = await _flags(request)
    featured, recommended = await asyncio.gather(
        storefront.api.products(limit=storefront.site["featured_limit"]),
        _recommended(request, None) if flags["recommendations"] else _nothing())
    return _render(request, "home.html", featured=featured.get("items", []), recommended=recommended)


async def _nothing() -> list:
    return []


async def _recommended(request: Request, product_id: str | None, kind: str | None = None,
                       exclude: frozenset[str] = frozenset()) -> list[dict]:
    """The recommendations slot: empty (hidden) when the capability is off or not deployed.
    Home asks for this shopper ("for_you", by the session's opaque visitor id); product and cart
    pages ask about a product, which every shopper shares (cached)."""
    storefront = request.app.state.storefront
    auth = _signed_in(request)
    try:
        reply = await storefront.api.recommendations(
            product_id=product_id, limit=storefront.site["recommended_limit"], kind=kind,
            # Only a visitor id the session already has: a home page view must not start a session.
            visitor_id=request.state.session.get(VISITOR_KEY) if product_id is None else None,
            token=auth["id_token"] if auth else None)
    except ApiError:
        return []
    skip = exclude | {product_id}
    return [item for item in reply.get("items", []) if item.get("product_id") not in skip]


def _customer_id(request: Request) -> str | None:
    return (_signed_in(request) or {}).get("sub")


async def _categories(request: Request) -> list[dict]:
    try:
        return (await request.app.state.storefront.api.categories()).get("items", [])
    except ApiError:
        return []


def _find_category(tree: list[dict], category_id: str) -> dict | None:
    for node in tree:
        if node.get("category_id") == category_id:
            return node
        found = _find_category(node.get("children") or [], category_id)
        if found:
            return found
    return None


@page
async def category(request: Request) -> Response:
    storefront = request.app.state.storefront
    category_id = _valid_id(request.path_params["category_id"], "category")
    await _flags(request)
    cursor = request.query_params.get("cursor")
    tree = await _categories(request)
    node = _find_category(tree, category_id)
    if node is None:
        raise not_found("category")
    try:
        products = await storefront.api.products(category=category_id, cursor=cursor)
    except ApiError as error:
        if error.status == 400:
            raise PageError(400, "That page link is not valid", "Go back to the first page of this category.") from None
        raise
    return _render(request, "category.html", category=node, products=products.get("items", []),
                   next_cursor=products.get("next_cursor"))


@page
async def search(request: Request) -> Response:
    storefront = request.app.state.storefront
    flags = await _flags(request)
    if not flags["search"]:
        raise PageError(404, "Search is switched off", "Browse the categories instead.")
    params = {k: request.query_params.get(k) for k in SEARCH_PARAMS if request.query_params.get(k)}
    results, error = {"items": [], "facets": {}, "total": 0}, None
    if params:
        try:
            results = await storefront.api.search(params)
        except ApiError as failure:
            if failure.status != 400:
                raise
            error = failure.message
    return _render(request, "search.html", params=params, results=results, error=error,
                   facet_link=lambda name, value: _facet_link(params, name, value),
                   status=400 if error else 200)


def _facet_link(params: dict, name: str, value: str) -> str:
    from urllib.parse import urlencode

    changed = {k: v for k, v in params.items() if k != "cursor"}
    if changed.get(name) == value:
        changed.pop(name)         # selecting the selected facet clears it
    else:
        changed[name] = value
    return "/search?" + urlencode(changed)


async def suggest(request: Request) -> Response:
    """Type-ahead JSON for site.js (public, cached; no session needed)."""
    storefront = request.app.state.storefront
    flags = await run_in_threadpool(storefront.flags.current)
    q = (request.query_params.get("q") or "").strip()
    if not flags["search"] or len(q) < 2 or len(q) > 100:
        return JSONResponse({"suggestions": []}, headers={"Cache-Control": "no-store"})
    try:
        reply = await storefront.api.suggest(q)
    except ApiError:
        reply = {"suggestions": []}
    return JSONResponse({"suggestions": reply.get("suggestions", [])[:8]},
                        headers={"Cache-Control": "no-store"})


@page
async def product(request: Request) -> Response:
    storefront = request.app.state.storefront
    product_id = _valid_id(request.path_params["product_id"], "product")
    flags = await _flags(request)
    try:
        found, recommended = await asyncio.gather(
            storefront.api.product(product_id),
            _recommended(request, product_id) if flags["recommendations"] else _nothing())
    except ApiError as error:
        if error.status in (400, 404):
            raise not_found("product") from None
        raise
    chosen = request.query_params.get("sku")
    skus = found.get("skus") or []
    selected = next((s for s in skus if s["sku"] == chosen), None) or next(
        (s for s in skus if s.get("available", 0) > 0), skus[0] if skus else None)
    response = _render(request, "product.html", product=found, selected=selected,
                       recommended=recommended)
    if flags["recommendations"]:
        response.background = request.app.state.storefront.interactions.after_response(product_viewed(
            product_id=product_id, visitor=visitor_id(request.state.session), customer_id=_customer_id(request)))
    return response


async def availability(request: Request) -> Response:
    """Live availability of one product's SKUs, read past the cache (site.js updates the
    product page with it; no session needed)."""
    product_id = request.path_params["product_id"]
    if not _ID.match(product_id):
        return JSONResponse({"error": "not_found"}, status_code=404)
    try:
        found = await request.app.state.storefront.api.product(product_id, fresh=True)
    except ApiError as error:
        if error.status in (400, 404):
            return JSONResponse({"error": "not_found"}, status_code=404)
        raise
    return JSONResponse({"skus": {s["sku"]: s.get("available", 0) for s in found.get("skus") or []}},
                        headers={"Cache-Control": "no-store"})


# ---- cart ----------------------------------------------------------------------------------

def _guest_cart(request: Request) -> dict:
    return dict(request.state.session.get("guest_cart") or {})


async def _guest_cart_view(request: Request) -> dict:
    """The guest cart shaped like the API's cart, priced from the (cached) catalog."""
    storefront = request.app.state.storefront
    lines, total, currency, count = [], 0, "USD", 0
    for sku, line in _guest_cart(request).items():
        try:
            found = await storefront.api.product(line["product_id"])
        except ApiError:
            continue
        variant = next((s for s in found.get("skus") or [] if s["sku"] == sku), None)
        if variant is None:
            continue
        price = variant["price"]
        currency = price["currency"]
        line_total = price["amount"] * line["quantity"]
        total += line_total
        count += line["quantity"]
        lines.append({"sku": sku, "product_id": line["product_id"], "name": found["name"],
                      "quantity": line["quantity"], "unit_price": price,
                      "line_total": {"amount": line_total, "currency": currency},
                      "available": variant.get("available", 0),
                      "attributes": variant.get("attributes") or {}})
    return {"lines": lines, "item_count": count, "subtotal": {"amount": total, "currency": currency}}


async def _cart(request: Request) -> dict:
    if _signed_in(request):
        storefront = request.app.state.storefront
        return await _as_customer(request, storefront.api.cart)
    return await _guest_cart_view(request)


def _quantity(raw: str | None, low: int) -> int:
    if not raw or not raw.isdigit() or not low <= int(raw) <= 99:
        raise PageError(400, "That quantity is not valid", f"Choose a quantity from {low} to 99.")
    return int(raw)


@page
async def cart_page(request: Request) -> Response:
    flags = await _flags(request)
    try:
        cart = await _cart(request)
    except _SignInRequired:
        return _sign_in_redirect(request)
    request.state.session["cart_count"] = cart.get("item_count", 0)
    lines = cart.get("lines") or []
    in_cart = frozenset(line["product_id"] for line in lines)
    # Bought together with the latest line; an empty cart gets this shopper's own picks.
    recommended = await _recommended(
        request, lines[-1]["product_id"] if lines else None, "bought_together" if lines else None,
        exclude=in_cart) if flags["recommendations"] else []
    return _render(request, "cart.html", cart=cart, recommended=recommended)


async def _change_customer_cart(request: Request, call, failure: str, back: str) -> Response | None:
    """Apply a cart change with the customer's token; a response only when it did not happen
    (sign-in needed, or the API refused it: the reason is shown on `back`)."""
    try:
        cart = await _as_customer(request, call)
    except _SignInRequired:
        return _sign_in_redirect(request)
    except ApiError as error:
        if error.status not in (400, 404, 409):
            raise
        _notice(request, f"{failure}: {error.message}")
        return RedirectResponse(back, status_code=303)
    request.state.session["cart_count"] = cart.get("item_count", 0)
    return None


@page
async def cart_add(request: Request) -> Response:
    storefront = request.app.state.storefront
    form = request.state.form
    product_id = _valid_id(form.get("product_id", ""), "product")
    sku = _valid_id(form.get("sku", ""), "product option")
    quantity = _quantity(form.get("quantity", "1"), 1)
    try:
        found = await storefront.api.product(product_id)
    except ApiError as error:
        if error.status in (400, 404):
            raise not_found("product") from None
        raise
    variant = next((s for s in found.get("skus") or [] if s["sku"] == sku), None)
    if variant is None:
        raise not_found("product option")
    session = request.state.session
    if _signed_in(request):
        refused = await _change_customer_cart(
            request, lambda t: storefront.api.add_to_cart(t, sku, quantity),
            "Could not add to cart", f"/products/{product_id}?sku={sku}")
        if refused is not None:
            return refused
    else:
        guest = _guest_cart(request)
        line = guest.get(sku) or {"product_id": product_id, "quantity": 0}
        if sku not in guest and len(guest) >= MAX_GUEST_LINES:
            raise PageError(409, "Your cart is full", "Remove something before adding more.")
        line["quantity"] = min(99, line["quantity"] + quantity)
        guest[sku] = line
        session["guest_cart"] = guest
        session["cart_count"] = sum(item["quantity"] for item in guest.values())
    _notice(request, f"Added {found['name']} to your cart.")
    response = RedirectResponse("/cart", status_code=303)
    flags = await _flags(request)
    if flags["recommendations"]:
        response.background = request.app.state.storefront.interactions.after_response(cart_item_added(
            product_id=product_id, sku=sku, quantity=quantity, visitor=visitor_id(session),
            customer_id=_customer_id(request)))
    return response


@page
async def cart_update(request: Request) -> Response:
    storefront = request.app.state.storefront
    form = request.state.form
    sku = _valid_id(form.get("sku", ""), "cart line")
    quantity = _quantity(form.get("quantity"), 0)
    session = request.state.session
    if _signed_in(request):
        refused = await _change_customer_cart(
            request, lambda t: storefront.api.update_cart_line(t, sku, quantity),
            "Could not update the cart", "/cart")
        if refused is not None:
            return refused
    else:
        guest = _guest_cart(request)
        if sku not in guest:
            raise not_found("cart line")
        if quantity == 0:
            guest.pop(sku)
        else:
            guest[sku]["quantity"] = quantity
        session["guest_cart"] = guest
        session["cart_count"] = sum(item["quantity"] for item in guest.values())
    return RedirectResponse("/cart", status_code=303)


# ---- checkout ------------------------------------------------------------------------------

def _attempt_key(request: Request) -> str:
    """One Idempotency-Key per checkout attempt, kept in the session so a retry (a reload,
    a double click, a timeout) reuses it and can never place a second order."""
    session = request.state.session
    key = session.get("checkout_key")
    if not key:
        session["checkout_key"] = key = f"sf-{uuid.uuid4().hex}"
    return key


@page
async def checkout_page(request: Request) -> Response:
    await _flags(request)
    if not _signed_in(request):
        _notice(request, "Sign in or create an account to check out.")
        return _sign_in_redirect(request)
    try:
        cart = await _cart(request)
    except _SignInRequired:
        return _sign_in_redirect(request)
    if not cart.get("lines"):
        return RedirectResponse("/cart", status_code=303)
    return _render(request, "checkout.html", cart=cart, attempt=_attempt_key(request),
                   cards=TEST_CARDS, address=request.state.session.get("address") or {})


def _address(form: dict[str, str]) -> dict:
    address = {k: form.get(k, "").strip() for k in ADDRESS_FIELDS}
    address = {k: v for k, v in address.items() if v}
    missing = [k for k in ("name", "line1", "city", "postal_code", "country") if k not in address]
    if missing:
        raise PageError(400, "Some address details are missing",
                        "Please fill in: " + ", ".join(m.replace("_", " ") for m in missing) + ".")
    address["country"] = address["country"].upper()
    return address


@page
async def checkout_place(request: Request) -> Response:
    storefront = request.app.state.storefront
    form = request.state.form
    session = request.state.session
    if not _signed_in(request):
        return _sign_in_redirect(request)
    attempt = form.get("attempt", "")
    # A stale form (its attempt already finished) must not start a new order by itself.
    if not _IDEMPOTENCY_KEY.match(attempt) or attempt != session.get("checkout_key"):
        done = session.get("last_order")
        if done and attempt == done.get("attempt"):
            return RedirectResponse(f"/account/orders/{done['order_id']}", status_code=303)
        raise PageError(409, "This checkout form is out of date", "Please review your cart and try again.")
    token = form.get("payment_token", "")
    if token not in {value for value, _ in TEST_CARDS}:
        raise PageError(400, "Choose a payment method", "Please pick one of the payment options.")
    address = _address(form)
    session["address"] = address
    try:
        order = await _as_customer(request, lambda t: storefront.api.checkout(
            t, idempotency_key=attempt, payment_token=token, shipping_address=address))
    except _SignInRequired:
        return _sign_in_redirect(request)
    except ApiError as error:
        return await _checkout_failed(request, error, attempt)
    return _order_placed(request, order, attempt)


def _order_placed(request: Request, order: dict, attempt: str) -> Response:
    session = request.state.session
    session.pop("checkout_key")
    session["last_order"] = {"attempt": attempt, "order_id": order["order_id"]}
    session["cart_count"] = 0
    _notice(request, "Thank you! Your order is placed.")
    return RedirectResponse(f"/account/orders/{order['order_id']}", status_code=303)


async def _checkout_failed(request: Request, error: ApiError, attempt: str) -> Response:
    session = request.state.session
    body = error.body or {}
    if error.code == "cart_already_checked_out" and body.get("order_id"):
        return _order_placed(request, {"order_id": body["order_id"]}, attempt)
    if error.code == "checkout_in_progress":
        # The other click of a double click is placing this very order: show it.
        order = (body.get("order") or {}).get("order_id")
        if order:
            return _order_placed(request, {"order_id": order}, attempt)
    if error.status in (402, 409, 422):
        session.pop("checkout_key")    # a definite answer: the next try is a new attempt
        _notice(request, {"payment_declined": "Your payment was declined. Choose another payment method.",
                          "out_of_stock": "Some items are no longer in stock: " + ", ".join(body.get("skus") or []),
                          "cart_empty": "Your cart is empty."}.get(error.code, error.message))
        return RedirectResponse("/checkout" if error.code != "cart_empty" else "/cart", status_code=303)
    if error.status >= 500 or error.status == 429:
        # Not definite: the same attempt key is kept, so trying again cannot pay twice.
        _notice(request, "We could not reach the payment service. Please try again.")
        return RedirectResponse("/checkout", status_code=303)
    raise error


# ---- account -------------------------------------------------------------------------------

def _next(form_or_query) -> str:
    target = form_or_query.get("next") or "/"
    # Only local paths: an open redirect would hand the session to another site.
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@page
async def sign_in_page(request: Request) -> Response:
    await _flags(request)
    return _render(request, "signin.html", next=_next(request.query_params), error=None,
                   email=request.state.session.get("sign_in_email") or "")


async def _merge_guest_cart(request: Request) -> None:
    storefront = request.app.state.storefront
    session = request.state.session
    guest = session.pop("guest_cart") or {}
    cart = None
    for sku, line in guest.items():
        try:
            cart = await _as_customer(request, lambda t, s=sku, q=line["quantity"]:
                                      storefront.api.add_to_cart(t, s, q))
        except ApiError:
            continue   # sold out meanwhile: the cart page shows what made it
    if cart is not None:
        session["cart_count"] = cart.get("item_count", 0)


async def _start_customer_session(request: Request, email: str, password: str) -> None:
    storefront = request.app.state.storefront
    tokens = await run_in_threadpool(storefront.identity.sign_in, email, password)
    session = request.state.session
    session.rotate()                  # a new id on sign-in: no session fixation
    session["auth"] = {"id_token": tokens.id_token, "refresh_token": tokens.refresh_token,
                       "email": email, "sub": tokens.subject}
    session.pop("checkout_key")
    await _merge_guest_cart(request)


@page
async def sign_in(request: Request) -> Response:
    await _flags(request)
    form = request.state.form
    email, password = form.get("email", "").strip().lower(), form.get("password", "")
    target = _next(form)
    if not _EMAIL.match(email) or not password or len(password) > 256:
        return _render(request, "signin.html", status=400, next=target, email=email[:254],
                       error="Enter your email address and password.")
    try:
        await _start_customer_session(request, email, password)
    except IdentityError as error:
        if error.code == "UserNotConfirmedException":
            request.state.session["pending_email"] = email
            return RedirectResponse("/account/confirm", status_code=303)
        return _render(request, "signin.html", status=400 if error.code != "TooManyRequestsException" else 429,
                       next=target, email=email, error=error.message)
    return RedirectResponse(target, status_code=303)


@page
async def sign_up_page(request: Request) -> Response:
    await _flags(request)
    return _render(request, "signup.html", error=None, email="")


@page
async def sign_up(request: Request) -> Response:
    storefront = request.app.state.storefront
    await _flags(request)
    form = request.state.form
    email, password = form.get("email", "").strip().lower(), form.get("password", "")
    if not _EMAIL.match(email) or len(password) < 12 or len(password) > 256:
        return _render(request, "signup.html", status=400, email=email[:254],
                       error="Enter a valid email address and a password of at least 12 characters.")
    try:
        confirmed = await run_in_threadpool(storefront.identity.sign_up, email, password)
        if confirmed:
            await _start_customer_session(request, email, password)
            return RedirectResponse("/", status_code=303)
    except IdentityError as error:
        return _render(request, "signup.html", status=400, email=email, error=error.message)
    # The password is never stored: after confirming, the shopper signs in once.
    request.state.session["pending_email"] = email
    return RedirectResponse("/account/confirm", status_code=303)


@page
async def confirm_page(request: Request) -> Response:
    await _flags(request)
    email = request.state.session.get("pending_email")
    if not email:
        return RedirectResponse("/account/sign-up", status_code=303)
    return _render(request, "confirm.html", email=email, error=None)


@page
async def confirm(request: Request) -> Response:
    storefront = request.app.state.storefront
    await _flags(request)
    session = request.state.session
    email = session.get("pending_email")
    if not email:
        return RedirectResponse("/account/sign-up", status_code=303)
    code = request.state.form.get("code", "").strip()
    if not _CODE.match(code):
        return _render(request, "confirm.html", status=400, email=email,
                       error="Enter the code from the email we sent you.")
    try:
        await run_in_threadpool(storefront.identity.confirm, email, code)
    except IdentityError as error:
        return _render(request, "confirm.html", status=400, email=email, error=error.message)
    session.pop("pending_email")
    session["sign_in_email"] = email
    _notice(request, "Your account is confirmed. Sign in to continue.")
    return RedirectResponse("/account/sign-in?next=/cart", status_code=303)


@page
async def sign_out(request: Request) -> Response:
    storefront = request.app.state.storefront
    session = request.state.session
    auth = session.pop("auth")
    if auth:
        await run_in_threadpool(storefront.identity.sign_out, auth.get("refresh_token"))
    session.data.clear()
    session.rotate()
    _notice(request, "You are signed out.")
    return RedirectResponse("/", status_code=303)


@page
async def orders(request: Request) -> Response:
    storefront = request.app.state.storefront
    await _flags(request)
    cursor = request.query_params.get("cursor")
    try:
        page_ = await _as_customer(request, lambda t: storefront.api.orders(t, cursor))
    except _SignInRequired:
        return _sign_in_redirect(request)
    except ApiError as error:
        if error.status != 400:
            raise
        raise PageError(400, "That page link is not valid", "Go back to your first page of orders.") from None
    return _render(request, "orders.html", orders=page_.get("items", []), next_cursor=page_.get("next_cursor"))


async def own_order_page(request: Request, template: str, name: str, fetch) -> Response:
    """A page about one of the signed-in customer's orders, read with `fetch(api, token,
    order_id)`: another customer's order, a malformed id and a missing one are the same 404."""
    storefront = request.app.state.storefront
    await _flags(request)
    order_id = _valid_id(request.path_params["order_id"], "order")
    try:
        found = await _as_customer(request, lambda t: fetch(storefront.api, t, order_id))
    except _SignInRequired:
        return _sign_in_redirect(request)
    except ApiError as error:
        if error.status in (400, 403, 404):
            raise not_found("order") from None
        raise
    return _render(request, template, **{name: found})


@page
async def order(request: Request) -> Response:
    return await own_order_page(request, "order.html", "order", CommerceApi.order)


# ---- the chat slot ---------------------------------------------------------------------------
# A page with a form (no JavaScript needed): each turn posts here, the storefront asks the API's
# chatbot and shows the conversation kept in the shopper's session.

CHAT_KEY, CHAT_SESSION_KEY = "chat", "chat_session"
CHAT_MAX_TEXT = 1024
CHAT_KEPT_LINES = 12


def _chat_page(request: Request, status: int = 200, error: str | None = None, text: str = "") -> Response:
    return _render(request, "chat.html", status=status, lines=request.state.session.get(CHAT_KEY) or [],
                   error=error, text=text)


@page
async def chat_page(request: Request) -> Response:
    await require_flag(request, "chat")
    return _chat_page(request)


@page
async def chat_send(request: Request) -> Response:
    storefront = request.app.state.storefront
    await require_flag(request, "chat")
    session = request.state.session
    text = " ".join(request.state.form.get("text", "").split())
    if not text or len(text) > CHAT_MAX_TEXT:
        return _chat_page(request, 400, f"Type a message of 1 to {CHAT_MAX_TEXT} characters.", text[:CHAT_MAX_TEXT])
    try:
        if _signed_in(request):
            reply = await _as_customer(request, lambda t: storefront.api.chat(text, token=t))
        else:
            reply = await storefront.api.chat(text, session_id=session.get(CHAT_SESSION_KEY))
    except _SignInRequired:
        return _sign_in_redirect(request)
    except ApiError as error:
        if error.status == 400:
            return _chat_page(request, 400, "The assistant could not read that message. Try other words.", text)
        return _chat_page(request, 503, "The assistant is not available right now. Please try again shortly.", text)
    if reply.get("session_id"):
        session[CHAT_SESSION_KEY] = reply["session_id"]
    lines = (session.get(CHAT_KEY) or []) + [{"who": "you", "text": text}] + [
        {"who": "assistant", "text": str(m.get("text", ""))[:CHAT_MAX_TEXT]}
        for m in reply.get("messages", []) if isinstance(m, dict)]
    session[CHAT_KEY] = lines[-CHAT_KEPT_LINES:]
    return RedirectResponse("/chat#latest", status_code=303)
