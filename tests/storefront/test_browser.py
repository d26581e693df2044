"""The storefront in a real browser: headless Chromium (Debian's `chromium`) driven by
Playwright for Python, against one local mode for the module (with a real redis-server as its
cache when the binary is there). One shopper journey, a double click on "Place order",
screenshots at desktop and mobile widths into test-artifacts/, and axe-core (npm) on home,
product, cart and checkout."""

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from headless_commerce.runtime.routes import ROUTES
from tests.e2e.conftest import PASSWORD, request, start_local, stop_local
from tests.storefront.conftest import ARTIFACTS, AXE, chromium, start_redis

WIDTHS = {"desktop": 1280, "mobile": 390}
SERIOUS = ("serious", "critical")
SEARCH_ROUTED = any(route.path == "/search" for route in ROUTES)


@pytest.fixture(scope="module")
def store():
    redis = start_redis() if shutil.which("redis-server") else None
    saved = os.environ.get("REDIS_URL")
    if redis is not None:
        os.environ["REDIS_URL"] = redis.url
    try:
        running, api = start_local("--port", "0")
    except BaseException:
        if redis is not None:      # no orphaned redis-server when local mode cannot start
            redis.stop()
        raise
    finally:
        if saved is None:
            os.environ.pop("REDIS_URL", None)
        else:
            os.environ["REDIS_URL"] = saved
    try:
        well_known = request("GET", f"{api}/.well-known/headless-commerce.json").body
        yield {"api": api, "url": well_known["storefront_url"], "log": running.text,
               "redis": redis}
    finally:
        code = stop_local(running)
        log = running.text()
        running.output.unlink(missing_ok=True)
        if redis is not None:
            redis.stop()
    assert code == 0, log
    assert "Traceback" not in log and "unhandled error" not in log, log


@pytest.fixture(scope="module")
def browser():
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm install --prefix .tools/npm axe-core@4; "
                    "make setup does it)")
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    # bypass_csp: axe is injected as a script tag, which the storefront's CSP would refuse.
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900},
                                  bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors


def check_accessibility(page, name: str) -> None:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
        .violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))""")
    serious = [v for v in violations if v["impact"] in SERIOUS]
    assert serious == [], f"{name}: {serious}"


def screenshots(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"storefront-{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


def search_with_typo_and_facet(page) -> None:
    """Type-ahead, a search with a typo, then narrow by a brand facet."""
    box = page.get_by_label("Search products")
    box.press_sequentially("hood", delay=30)
    page.wait_for_function("() => document.querySelectorAll('#suggestions option').length > 0")  # no eval under the CSP
    assert any("Hood" in v for v in page.locator("#suggestions option").evaluate_all(
        "options => options.map(o => o.value)"))
    box.fill("hoodei")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/search\?q=hoodei"))
    names = page.locator(".cards .card .name").all_inner_texts()
    assert names and all("Hoodie" in n for n in names[:3]), names
    facet = page.locator(".facets h2:text-is('Brand') + ul a").first
    brand = facet.inner_text().split(" (")[0]
    facet.click()
    page.wait_for_url(re.compile(r"brand="))
    assert page.locator(".facets a[aria-current]").first.inner_text().startswith(brand)
    brands = page.locator(".cards .card .brand-name").all_inner_texts()
    assert brands and {b.lower() for b in brands} == {brand.lower()}, (brand, brands)



def test_shopper_journey(store, page):
    base = store["url"]
    assert "cache         Valkey/Redis at" in store["log"]() or store["redis"] is None

    # Home: featured products, landmarks, accessible.
    page.goto(base + "/")
    assert page.locator("main h1").is_visible()
    assert page.locator(".cards .card").count() >= 4
    check_accessibility(page, "home")
    screenshots(page, "home")

    if SEARCH_ROUTED:
        search_with_typo_and_facet(page)
    else:   # the commerce API of this checkout has no /search yet: browse a category
        page.goto(base + "/categories/tops")
        assert page.locator(".cards .card").count() > 0

    # Open a product and choose an in-stock variant other than the preselected one.
    page.locator(".cards .card a").first.click()
    page.wait_for_url(re.compile(r"/products/p-\d+"))
    product_name = page.locator("h1").inner_text()
    check_accessibility(page, "product")
    screenshots(page, "product")
    options = page.locator("input[name=sku]")
    in_stock = [i for i in range(options.count())
                if "in stock" in page.locator(".option .stock").nth(i).inner_text()]
    assert in_stock, "the chosen product has no stock"
    chosen = options.nth(in_stock[-1])
    chosen.check()
    sku = chosen.get_attribute("value")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()

    # The guest cart.
    page.wait_for_url(re.compile(r"/cart$"))
    assert product_name in page.locator("table.lines").inner_text()
    assert page.locator(f"input[name=sku][value='{sku}']").count() == 1
    check_accessibility(page, "cart")
    screenshots(page, "cart")

    # Checkout asks to sign in; the shopper signs up instead, confirms, signs in.
    page.get_by_role("link", name="Check out").click()
    page.wait_for_url(re.compile(r"/account/sign-in"))
    page.get_by_role("link", name="Create an account").click()
    email = f"browser-{os.getpid()}-{id(page)}@example.com"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/account/confirm"))
    page.get_by_label("Confirmation code").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/account/sign-in"))
    assert page.get_by_label("Email").input_value() == email
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()

    # The guest line moved into the customer's cart.
    page.wait_for_url(re.compile(r"/cart$"))
    line = page.locator(f"form:has(input[name=sku][value='{sku}']) input[name=quantity]")
    assert line.input_value() == "2"
    page.get_by_role("link", name="Check out").click()
    page.wait_for_url(re.compile(r"/checkout$"))
    check_accessibility(page, "checkout")
    page.get_by_label("Full name").fill("Browser Shopper")
    page.get_by_label("Address", exact=True).fill("1 Test Street")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Postal code").fill("12345")
    screenshots(page, "checkout")
    form = {name: page.locator(f"form[data-once] input[name={name}]").input_value()
            for name in ("csrf_token", "attempt")}

    # Double-click "Place order": one order.
    page.get_by_role("button", name="Place order").dblclick()
    page.wait_for_url(re.compile(r"/account/orders/[^/]+$"))
    order_id = page.url.rsplit("/", 1)[1]
    assert product_name in page.locator("table.lines").inner_text()
    # Replaying the same attempt (a retry after a lost response) finds the same order.
    replay = page.request.post(base + "/checkout", form={
        **form, "payment_token": "tok_visa", "name": "Browser Shopper", "line1": "1 Test Street",
        "city": "Springfield", "postal_code": "12345", "country": "US"}, max_redirects=0)
    assert replay.status == 303 and replay.headers["location"].endswith(f"/account/orders/{order_id}")

    # The order history shows exactly that one order.
    page.get_by_role("link", name="Orders", exact=True).click()
    page.wait_for_url(re.compile(r"/account/orders$"))
    rows = page.locator("table.lines tbody tr")
    assert rows.count() == 1
    assert order_id in rows.first.inner_text()
    screenshots(page, "orders")


def test_bad_input_gets_the_storefronts_own_error_pages(store, page):
    base = store["url"]
    for path, status in (("/no-such-page", 404), ("/products/p-9999", 404),
                         ("/products/..%2Fetc", 404)):
        response = page.goto(base + path)
        assert response.status == status, path
        assert page.locator("main .problem h1").is_visible()
        assert "Traceback" not in page.content()
    # A tampered session cookie: 400 page, and the cookie is dropped.
    page.context.add_cookies([{"name": "sid", "value": "forged.cookie.value", "url": base}])
    response = page.goto(base + "/")
    assert response.status == 400
    assert page.locator("main .problem h1").inner_text() == "Your session could not be read"
    assert not [c for c in page.context.cookies() if c["name"] == "sid"]
    # A post without the CSRF token, and an oversized one.
    page.goto(base + "/products/p-0001")
    no_csrf = page.request.post(base + "/cart/items", form={"product_id": "p-0001", "sku": "p-0001-1"})
    assert no_csrf.status == 403 and "This form has expired" in no_csrf.text()
    huge = page.request.post(base + "/account/sign-in", form={"email": "x" * 20_000})
    assert huge.status == 413 and "too large" in huge.text()


def test_local_mode_invalidates_the_cache_on_catalog_events(store):
    """ProductModified on local mode's bus reaches the invalidation handler (rule -> queue ->
    poller), which bumps the product's generation in the Valkey/Redis local mode uses."""
    import time
    import uuid

    import boto3

    if store["redis"] is None:
        pytest.skip("redis-server is not installed: local mode runs the in-process cache "
                    "(covered by test_bff)")
    well_known = request("GET", store["api"] + "/.well-known/headless-commerce.json").body
    events = boto3.client("events", endpoint_url=well_known["aws_endpoint_url"],
                          region_name=well_known["region"], aws_access_key_id="local",
                          aws_secret_access_key="local")
    redis = store["redis"].client()
    key = "gen:p:p-0002"
    before = int(redis.get(key) or 0)
    envelope = {"id": str(uuid.uuid4()), "version": 1, "occurred_at": "2026-01-01T00:00:00Z",
                "source": "commerce.catalog", "detail_type": "ProductModified",
                "detail": {"product_id": "p-0002", "change": "UPSERTED",
                           "modified_at": "2026-01-01T00:00:00Z"}}
    bus = next(b["Name"] for b in events.list_event_buses()["EventBuses"] if b["Name"] != "default")
    events.put_events(Entries=[{"EventBusName": bus, "Source": "commerce.catalog",
                                "DetailType": "ProductModified", "Detail": json.dumps(envelope)}])
    deadline = time.monotonic() + 20
    while int(redis.get(key) or 0) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert int(redis.get(key) or 0) == before + 1


def sign_in_new_shopper(store, page, prefix: str) -> None:
    """A confirmed customer made through local mode's Cognito, signed in through the form."""
    import uuid

    import boto3

    well_known = request("GET", store["api"] + "/.well-known/headless-commerce.json").body
    cognito = boto3.client("cognito-idp", endpoint_url=well_known["aws_endpoint_url"],
                           region_name=well_known["region"], aws_access_key_id="local",
                           aws_secret_access_key="local")
    email = f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"
    client_id = well_known["user_pool_client_id"]
    cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": email}])
    cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode="000000")
    page.goto(store["url"] + "/account/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(store["url"] + "/")


def open_checkout_with(page, base: str, product_id: str) -> None:
    """The product's preselected variant in the cart, then the checkout page."""
    page.goto(f"{base}/products/{product_id}")
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r"/cart$"))
    page.goto(base + "/checkout")


def test_two_simultaneous_place_order_posts_make_one_order(store, page):
    """What a double click sends when JavaScript is off: the same checkout form twice at
    once. Both answers lead to the one order; the history shows one."""
    import threading
    import urllib.error
    import urllib.parse
    import urllib.request

    base = store["url"]
    sign_in_new_shopper(store, page, "twice")
    open_checkout_with(page, base, "p-0003")
    form = {name: page.locator(f"form[data-once] input[name={name}]").input_value()
            for name in ("csrf_token", "attempt")}
    body = urllib.parse.urlencode({**form, "payment_token": "tok_visa", "name": "Twice",
                                   "line1": "2 Test Street", "city": "Springfield",
                                   "postal_code": "12345", "country": "US"}).encode()
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    answers: list[tuple[int, str]] = []

    def place() -> None:
        req = urllib.request.Request(base + "/checkout", data=body, method="POST", headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with opener.open(req, timeout=30) as reply:
                answers.append((reply.status, reply.headers.get("Location", "")))
        except urllib.error.HTTPError as error:
            answers.append((error.code, error.headers.get("Location", "")))

    threads = [threading.Thread(target=place) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [303, 303], answers
    locations = {location.rsplit("/", 1)[-1] for _, location in answers}
    assert len(locations) == 1 and "/account/orders/" in answers[0][1], answers
    page.goto(base + "/account/orders")
    assert page.locator("table.lines tbody tr").count() == 1


def test_recommendation_slots_on_home_product_and_cart(store, page):
    """Local mode serves the fallback ranking: every slot is filled, never with the product
    being looked at or what is already in the cart."""
    page.goto(store["url"] + "/")
    home = page.locator('[data-slot="recommendations"]')
    assert home.get_by_role("heading", name="Recommended for you").is_visible()
    assert home.locator(".card").count() >= 1
    first = home.locator(".card a").first.get_attribute("href").split("?")[0]
    page.goto(store["url"] + first)
    slot = page.locator('[data-slot="recommendations"]')
    assert slot.locator(".card").count() >= 1
    assert first not in [a.split("?")[0] for a in slot.locator(".card a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")]
    page.get_by_role("button", name=re.compile("Add to cart")).click()
    page.wait_for_url(re.compile(r"/cart$"))
    cart = page.locator('[data-slot="recommendations"]')
    assert cart.get_by_role("heading", name="Frequently bought together").is_visible()
    assert first not in [a.split("?")[0] for a in cart.locator(".card a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")]
    check_accessibility(page, "cart with recommendations")


def test_chat_slot_answers_through_local_modes_bot_without_javascript(store, browser):
    """The footer's chat link, a two-turn conversation (the bot asks for the missing product
    words) with JavaScript off, answered from the demo catalog by local mode's bot, then a store
    search answered from the demo stores."""
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900},
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(store["url"] + "/")
        page.get_by_role("link", name="Ask our assistant").click()
        page.wait_for_url(re.compile(r"/chat$"))
        page.get_by_label("Your message").fill("I am looking for something")
        page.get_by_role("button", name="Send").click()
        page.wait_for_url(re.compile(r"/chat"))
        assert page.locator(".chat-assistant").last.inner_text().endswith("What are you looking for?")
        page.get_by_label("Your message").fill("hoodie")
        page.get_by_role("button", name="Send").click()
        answer = page.locator(".chat-assistant").last.inner_text()
        assert "I found" in answer and "Hoodie" in answer, answer
        # FindStore asks the store locator's service: the demo stores nearest the postcode's city.
        page.get_by_label("Your message").fill("stores near 10719")
        page.get_by_role("button", name="Send").click()
        answer = page.locator(".chat-assistant").last.inner_text()
        assert "Stores near Berlin, nearest first: Mitte, Alexanderplatz 1, 10178 Berlin (" in answer, answer
        assert "Kurfuerstendamm, Kurfuerstendamm 21, 10719 Berlin (" in answer, answer
    finally:
        context.close()


def test_store_locator_by_place_and_by_the_browsers_location(store, browser):
    """The footer link, a search by city (nearest first, with distance), then "Use my location"
    with the browser's geolocation (Fifth Avenue's corner in New York) filling the coordinates."""
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, bypass_csp=True,
                                  geolocation={"latitude": 40.7484, "longitude": -73.9857},
                                  permissions=["geolocation"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(store["url"] + "/")
        page.get_by_role("link", name="Find a store near you").click()
        page.wait_for_url(re.compile(r"/stores$"))
        page.get_by_label("City, address or postcode").fill("London")
        page.get_by_role("button", name="Find stores", exact=True).click()
        page.wait_for_url(re.compile(r"/stores\?q=London"))
        assert page.get_by_role("heading", name="Stores near London").is_visible()
        names = page.locator(".store h3").all_inner_texts()
        assert names == ["Oxford Street", "Covent Garden"], names
        distances = page.locator(".store .distance").all_inner_texts()
        assert distances[0] == "0 m away" and distances[1].endswith("km away"), distances
        check_accessibility(page, "store locator")
        screenshots(page, "stores")

        locate = page.get_by_role("button", name="Use my location")
        assert locate.is_visible()                  # site.js shows it where geolocation exists
        locate.click()
        page.wait_for_url(re.compile(r"/stores\?lat=40\.7484&lon=-73\.9857"))
        assert page.locator(".store").first.get_attribute("data-store") == "nyc-fifth"
        assert page.locator(".store h3").all_inner_texts() == ["Fifth Avenue", "SoHo"]

        # An unknown place and out-of-range coordinates: the locator's own messages.
        assert page.goto(store["url"] + "/stores?q=Atlantis").status == 404
        assert "could not find that place" in page.get_by_role("alert").inner_text()
        assert page.goto(store["url"] + "/stores?lat=91&lon=0").status == 400
        assert "Latitude" in page.get_by_role("alert").inner_text()
    finally:
        context.close()
    assert errors == [], errors


def test_delivery_tracking_after_the_courier_simulator(store, page):
    """A signed-in shopper's order, accepted by local mode's OMS, gets a courier from
    `POST /_local/couriers/simulate`; its tracking page (linked from the order page) shows it
    out for delivery with the courier's position and an ETA."""
    import time

    base = store["url"]
    sign_in_new_shopper(store, page, "tracked")
    open_checkout_with(page, base, "p-0004")
    page.get_by_label("Full name").fill("Tracked Shopper")
    page.get_by_label("Address", exact=True).fill("1 Test Street")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Postal code").fill("12345")
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url(re.compile(r"/account/orders/[^/]+$"))
    order_url = page.url

    page.get_by_role("link", name="Track this delivery").click()
    page.wait_for_url(order_url + "/tracking")
    assert "Not yet on its way" in page.locator("main").inner_text()

    def status() -> str:
        page.goto(order_url + "/tracking")
        return page.locator("strong.status").inner_text()

    deadline = time.monotonic() + 30
    while status() != "accepted by oms" and time.monotonic() < deadline:
        time.sleep(0.3)
    started = request("POST", store["api"] + "/_local/couriers/simulate").body["started"]
    assert order_url.rsplit("/", 1)[1] in started
    deadline = time.monotonic() + 40
    while status() not in ("out for delivery", "arriving") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert page.locator("strong.status").inner_text() in ("out for delivery", "arriving")
    assert page.get_by_text("Last position").is_visible()
    assert re.search(r"^-?\d+\.\d{4}, -?\d+\.\d{4}, seen \d\d:\d\d UTC", page.locator(".position").inner_text())
    assert re.search(r"in about \d+ min \(\d+\.\d km to go\)", page.locator(".eta").inner_text())
    check_accessibility(page, "tracking")
    screenshots(page, "tracking")
