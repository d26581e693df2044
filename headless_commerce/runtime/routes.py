"""The one route table: it builds API Gateway (CDK), the local router and openapi.json
(runtime/openapi.py).

Pure data and the standard library only, so CDK can import it without boto3 and handlers can
import it cheaply.

The environment variables the functions read are named in runtime/settings.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "token": no sign-in; the handler verifies an HMAC-signed token in the query (unsubscribe links).
AUTH_MODES = frozenset({"public", "user", "signature", "token"})
MAX_BODY_BYTES = 16 * 1024
# Every id in a path (product, sku, order) and a Cognito sub share this shape.
PATH_PARAM_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,127}$"
IDEMPOTENCY_HEADER = "Idempotency-Key"

_ID = {"type": "string", "pattern": f"^{PATH_PARAM_PATTERN}$"}
_NAME = {"type": "string", "minLength": 1, "maxLength": 100}

ADDRESS_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "line1", "city", "postal_code", "country"],
    "properties": {
        "name": _NAME,
        "line1": {"type": "string", "minLength": 1, "maxLength": 200},
        "line2": {"type": "string", "maxLength": 200},
        "city": _NAME,
        "region": {"type": "string", "maxLength": 100},
        "postal_code": {"type": "string", "pattern": "^[A-Za-z0-9 -]{2,12}$"},
        "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
    },
}

ADD_CART_ITEM_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sku", "quantity"],
    "properties": {"sku": _ID, "quantity": {"type": "integer", "minimum": 1, "maximum": 99}},
}

UPDATE_CART_ITEM_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["quantity"],
    "properties": {"quantity": {"type": "integer", "minimum": 0, "maximum": 99}},
}

NOT_A_CARD_NUMBER = "must be a payment provider's token (tok_..., pm_...), never a card number"

CHECKOUT_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["payment_token"],
    "properties": {
        # A provider token (tok_..., pm_...): card data never reaches this API. A string of digits
        # is refused before anything stores it (a held order keeps its token for the release).
        "payment_token": {"type": "string", "pattern": "^[A-Za-z0-9_]{3,255}$",
                          "not": {"pattern": "^[0-9]+$", "description": NOT_A_CARD_NUMBER}},
        "shipping_address": ADDRESS_SCHEMA,
        # Optional; the fraud screen compares its country with the shipping address's.
        "billing_address": ADDRESS_SCHEMA,
    },
}

UPDATE_PROFILE_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "given_name": _NAME,
        "family_name": _NAME,
        "phone": {"type": "string", "pattern": "^\\+[1-9][0-9]{6,14}$"},
        "locale": {"type": "string", "pattern": "^[a-z]{2}(-[A-Z]{2})?$"},
        "default_address": ADDRESS_SCHEMA,
    },
}

CONSENTS_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["email", "sms", "push"],
    "properties": {
        "email": {"type": "boolean"},
        "sms": {"type": "boolean"},
        "push": {"type": "boolean"},
    },
}

# SNS platforms a device may register for (the app's build decides APNS or its sandbox).
PUSH_PLATFORMS = ("APNS", "APNS_SANDBOX", "GCM")
PUSH_DEVICE_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["platform", "token"],
    "properties": {
        "platform": {"type": "string", "enum": list(PUSH_PLATFORMS)},
        # APNs tokens are hex, FCM registration tokens base64url with a colon.
        "token": {"type": "string", "pattern": "^[A-Za-z0-9:_-]{32,4096}$"},
    },
}

# An anonymous chat session id: version, base-36 seconds, a 128-bit nonce and the HMAC, base64url.
CHAT_SESSION_ID_PATTERN = r"^v1\.[0-9a-z]{1,10}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$"
# The text limit is Lex V2's; the session id is one this API issued (runtime/chatbot/sessions.py).
CHAT_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 1024},
        "session_id": {"type": "string", "maxLength": 128, "pattern": CHAT_SESSION_ID_PATTERN},
    },
}

ERROR_SCHEMA: dict = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string", "nullable": True},
            },
        }
    },
}

_PATH_PARAM_NAMES = re.compile(r"{([^}]+)}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    auth: str
    function: str
    operation_id: str
    summary: str
    # Component schema (runtime/openapi.py) of the success body.
    response: str = ""
    request_schema: dict | None = None
    query_params: tuple[str, ...] = ()
    required_headers: tuple[str, ...] = ()
    # Error statuses beyond those every route of its kind has (400, 413; 401 when signed in or
    # signed): openapi.json documents exactly these.
    errors: tuple[int, ...] = ()
    # Seconds an anonymous 200 may be served from the API's response cache (runtime/cache/);
    # 0: never cached. Only public routes: a signed-in caller's data never lands in a shared key.
    cache_ttl_s: int = 0

    def __post_init__(self) -> None:
        if self.cache_ttl_s and self.auth != "public":
            raise ValueError(f"{self.operation_id}: only public routes may set cache_ttl_s")

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM_NAMES.findall(self.path))

    @property
    def success_status(self) -> int:
        return 201 if self.operation_id in _CREATED else 200


_CREATED = frozenset({"checkout"})

ROUTES: tuple[Route, ...] = (
    Route("GET", "/products", "public", "catalog", "listProducts",
          "Page of products, optionally in one category", "ProductPage",
          query_params=("category", "cursor", "limit"), cache_ttl_s=60),
    Route("GET", "/products/{product_id}", "public", "catalog", "getProduct",
          "One product with price, available quantity and images", "Product", errors=(404,),
          cache_ttl_s=60),
    Route("GET", "/categories", "public", "catalog", "listCategories", "Category tree",
          "CategoryTree", cache_ttl_s=300),
    Route("GET", "/cart", "user", "cart", "getCart", "The caller's cart", "Cart"),
    Route("POST", "/cart/items", "user", "cart", "addCartItem",
          "Add a SKU to the cart (merges with an existing line)", "Cart", ADD_CART_ITEM_SCHEMA,
          errors=(409,)),
    Route("PATCH", "/cart/items/{sku}", "user", "cart", "updateCartItem",
          "Set a line's quantity (0 removes it)", "Cart", UPDATE_CART_ITEM_SCHEMA,
          errors=(404, 409)),
    Route("DELETE", "/cart/items/{sku}", "user", "cart", "removeCartItem", "Remove a line",
          "Cart", errors=(404, 409)),
    Route("POST", "/checkout", "user", "checkout", "checkout",
          "Place the order from the cart", "Order", CHECKOUT_SCHEMA,
          required_headers=(IDEMPOTENCY_HEADER,), errors=(402, 409, 422, 503)),
    Route("GET", "/orders", "user", "orders", "listOrders", "The caller's orders, newest first",
          "OrderPage", query_params=("cursor", "limit")),
    Route("GET", "/orders/{order_id}", "user", "orders", "getOrder", "One of the caller's orders",
          "Order", errors=(404,)),
    Route("GET", "/me", "user", "customers", "getProfile", "The caller's profile", "Profile"),
    Route("PATCH", "/me", "user", "customers", "updateProfile",
          "Change profile fields", "Profile", UPDATE_PROFILE_SCHEMA),
    Route("PUT", "/me/consents", "user", "customers", "putConsents",
          "Set marketing consents per channel", "Profile", CONSENTS_SCHEMA, errors=(404,)),
    Route("PUT", "/me/push-device", "user", "customers", "putPushDevice",
          "Register the caller's device for push messages (an SNS platform endpoint)", "PushDevice",
          PUSH_DEVICE_SCHEMA, errors=(422,)),
    Route("DELETE", "/me/push-device", "user", "customers", "deletePushDevice",
          "Forget the caller's push device (call it on sign-out)", "PushDevice"),
    Route("POST", "/payments/webhook", "signature", "payments_webhook", "paymentWebhook",
          "Payment provider callback (signed)", "WebhookAck"),
    Route("GET", "/search", "public", "search", "searchProducts",
          "Products matching a text query (typos tolerated), with filters, facets, sort and cursor",
          "SearchResults", query_params=("q", "category", "brand", "min_price", "max_price",
                                         "in_stock", "sort", "cursor", "limit"), errors=(503,),
          cache_ttl_s=60),
    Route("GET", "/search/suggest", "public", "search", "suggestProducts",
          "Type-ahead suggestions for a prefix", "Suggestions", query_params=("q",), errors=(503,),
          cache_ttl_s=300),
    Route("GET", "/recommendations", "public", "recommendations", "getRecommendations",
          "Recommended products (Personalize, or our own order history when it cannot answer); "
          "never empty for a known catalog", "Recommendations",
          query_params=("product_id", "kind", "visitor_id", "limit"), errors=(404,), cache_ttl_s=60),
    # The signed-in form: API Gateway verifies the token, so the customer's own history (and the
    # filter leaving out what they bought) applies. The public form never trusts a token it is
    # sent, because no authorizer has checked it there.
    Route("GET", "/me/recommendations", "user", "recommendations", "getMyRecommendations",
          "Recommended products for the signed-in customer, leaving out what they bought", "Recommendations",
          query_params=("product_id", "kind", "limit"), errors=(404,)),
    # A chatbot turn. The public form never trusts a token it is sent (no authorizer checked it
    # there): an anonymous conversation is bound to the session id this API issued. The signed-in
    # form's conversation is bound to the verified customer, who may then ask about their orders.
    Route("POST", "/chat", "public", "chat", "chat",
          "One chatbot turn for an anonymous shopper (continue with the session_id it returns)",
          "ChatReply", CHAT_SCHEMA, errors=(503,)),
    Route("POST", "/me/chat", "user", "chat", "chatSignedIn",
          "One chatbot turn for the signed-in customer (order status needs this form)",
          "ChatReply", CHAT_SCHEMA, errors=(503,)),
    # The store locator (Location construct): by coordinates or by a geocoded address.
    Route("GET", "/stores", "public", "location", "findStores",
          "Stores nearest a point (lat, lon) or an address (q), nearest first, with their distance",
          "StoreResults", query_params=("lat", "lon", "q", "radius_km", "limit"), errors=(404, 503)),
    Route("GET", "/orders/{order_id}/tracking", "user", "location", "getOrderTracking",
          "The courier's last position and ETA for one of the caller's orders", "OrderTracking", errors=(404,)),
    # One-click unsubscribe (RFC 8058): the link in every marketing message. GET changes nothing.
    Route("GET", "/unsubscribe", "token", "unsubscribe", "getSubscription",
          "Whether an unsubscribe link's channel is still subscribed (changes nothing)", "Subscription",
          query_params=("token",), errors=(403, 404)),
    Route("POST", "/unsubscribe", "token", "unsubscribe", "unsubscribe",
          "Withdraw the consent an unsubscribe link names (one click, no sign-in)", "Subscription",
          query_params=("token",), errors=(403, 404)),
)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str
    memory_mb: int
    timeout_s: int
    # None everywhere: a new account's concurrency quota can be 10, and reserving any of it
    # fails the deploy. Profiles may set it for prod.
    reserved_concurrency: int | None
    table_access: str
    needs_payment_secret: bool = False
    # An optional capability (config toggle) the function belongs to; None: always deployed.
    capability: str | None = None


_PKG = "headless_commerce.runtime"

FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("catalog", f"{_PKG}.catalog.handler.handler", 512, 10, None, "read"),
        FunctionSpec("cart", f"{_PKG}.cart.handler.handler", 256, 10, None, "read_write"),
        # Longer timeout: it waits on the payment provider.
        FunctionSpec("checkout", f"{_PKG}.orders.checkout_handler.handler", 512, 29, None,
                     "read_write", needs_payment_secret=True),
        FunctionSpec("orders", f"{_PKG}.orders.handler.handler", 256, 10, None, "read"),
        FunctionSpec("customers", f"{_PKG}.customers.handler.handler", 256, 10, None,
                     "read_write"),
        FunctionSpec("payments_webhook", f"{_PKG}.payments.handler.handler", 256, 15, None,
                     "read_write", needs_payment_secret=True),
        # Reads the search index only (OpenSearch, through the opensearch-py layer).
        FunctionSpec("search", f"{_PKG}.search.handler.handler", 512, 10, None, "read",
                     capability="search"),
        # Personalize's runtime with a short timeout, else the signals table and the catalog.
        FunctionSpec("recommendations", f"{_PKG}.recommendations.handler.handler", 512, 10, None,
                     "read", capability="recommendations"),
        # Lex RecognizeText with a short timeout; local mode's bot answers in-process.
        FunctionSpec("chat", f"{_PKG}.chatbot.handler.handler", 256, 10, None, "read",
                     capability="chatbot"),
        # The store locator (its own table) and delivery tracking (reads the order to check its
        # owner); Amazon Location through its role with a short timeout.
        FunctionSpec("location", f"{_PKG}.location.handler.handler", 256, 10, None, "read",
                     capability="location"),
        # Verifies unsubscribe tokens (the Marketing construct gives it the signing key) and
        # withdraws consent through the customers service.
        FunctionSpec("unsubscribe", f"{_PKG}.marketing.unsubscribe.handler", 256, 10, None,
                     "read_write", capability="marketing"),
    )
}

POST_CONFIRMATION = FunctionSpec(
    "post_confirmation", f"{_PKG}.customers.post_confirmation.handler", 256, 10, None,
    "read_write")
# Invoked by operators (IAM, no route): lists orders held for fraud review, releases or rejects one.
FRAUD_REVIEW = FunctionSpec(
    "fraud_review", f"{_PKG}.fraud.review.handler", 256, 30, None, "read_write",
    needs_payment_secret=True, capability="fraud")
# Scheduled: settles orders stuck in PENDING_PAYMENT (reads the env PENDING_ORDER_TIMEOUT_MINUTES).
ORDER_SWEEPER = FunctionSpec(
    "order_sweeper", f"{_PKG}.orders.sweeper.handler", 256, 120, None, "read_write",
    needs_payment_secret=True)
