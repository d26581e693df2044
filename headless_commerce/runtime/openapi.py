"""openapi.json, built from the route table: the contract client generators read.

Every operation documents its success body with the schema of what its handler returns, every
error status it can answer with the error schema, and its parameters with the constraints the
handlers enforce. tests/runtime/test_openapi_responses.py validates real handler responses
against these schemas; tests/e2e/test_openapi_contract.py runs schemathesis over local mode.

Pure data and the standard library, like routes.py: CDK imports it at synth time. Schemas are
OpenAPI 3.0 (draft-04 subset plus `nullable`).
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.location import params as location_params
from headless_commerce.runtime.recommendations import params as recommendation_params
from headless_commerce.runtime.routes import (
    ADDRESS_SCHEMA,
    ERROR_SCHEMA,
    IDEMPOTENCY_HEADER,
    IDEMPOTENCY_KEY_PATTERN,
    MAX_BODY_BYTES,
    PATH_PARAM_PATTERN,
    PUSH_PLATFORMS,
    ROUTES,
    Route,
)
from headless_commerce.runtime.search import params as search_params

_ID = {"type": "string", "pattern": f"^{PATH_PARAM_PATTERN}$"}
_TEXT = {"type": "string"}
_NULLABLE_TEXT = {"type": "string", "nullable": True}
_TIMESTAMP = {"type": "string", "description": "UTC, ISO 8601"}
_COUNT = {"type": "integer", "minimum": 0}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: dict, optional: dict | None = None, **extra: object) -> dict:
    schema = {"type": "object", "properties": {**required, **(optional or {})}, **extra}
    if required:
        schema["required"] = sorted(required)
    return schema


def _page(item: str) -> dict:
    return _object({"items": {"type": "array", "items": _ref(item)},
                    "next_cursor": {"type": "string", "nullable": True,
                                    "description": "Pass as `cursor` for the next page; null on the last"}})


_FACETS = {"type": "array", "items": _object({"value": _TEXT, "count": _COUNT})}
_ORDER_LINE = _object({"sku": _ID, "product_id": _ID, "name": _TEXT, "quantity": _COUNT,
                       "unit_price": _ref("Money"), "line_total": _ref("Money")})

SCHEMAS: dict[str, dict] = {
    "Error": ERROR_SCHEMA,
    "Money": _object({"amount": {"type": "integer", "description": "Minor units (cents)"},
                      "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}),
    "ProductSummary": _object({
        "product_id": _ID, "name": _TEXT, "category_id": _NULLABLE_TEXT, "brand": _NULLABLE_TEXT,
        "price": _ref("Money"), "images": {"type": "array", "items": _TEXT}}),
    "Product": {"allOf": [_ref("ProductSummary"), _object({
        "description": _TEXT,
        "available": {**_COUNT, "description": "Units in stock over all SKUs (informative)"},
        "skus": {"type": "array", "items": _object({
            "sku": _ID, "price": _ref("Money"), "available": _COUNT,
            "attributes": {"type": "object", "additionalProperties": _TEXT}})}})]},
    "ProductPage": _page("ProductSummary"),
    "Category": _object({"category_id": _ID, "name": _TEXT,
                         "children": {"type": "array", "items": _ref("Category")}}),
    "CategoryTree": _object({"items": {"type": "array", "items": _ref("Category")}}),
    "Cart": _object({
        "lines": {"type": "array", "items": _object(
            {"sku": _ID, "product_id": _ID, "name": _TEXT, "quantity": _COUNT,
             "unit_price": _ref("Money"), "line_total": _ref("Money")},
            {"available": {**_COUNT, "description": "Current stock (GET /cart only)"}})},
        "item_count": _COUNT, "subtotal": _ref("Money"),
        "version": {**_COUNT, "description": "Changes with every write to the cart"}}),
    "Address": ADDRESS_SCHEMA,
    "Order": _object(
        {"order_id": _TEXT,
         "status": {"type": "string", "enum": [s.value for s in model.OrderStatus]},
         "lines": {"type": "array", "items": _ORDER_LINE}, "total": _ref("Money"),
         "created_at": _TIMESTAMP, "updated_at": _TIMESTAMP,
         # Inline: OpenAPI 3.0 ignores `nullable` beside a $ref.
         "shipping_address": {**ADDRESS_SCHEMA, "nullable": True}},
        {"payment": _object({"provider": _TEXT, "status": _TEXT, "decline_code": _NULLABLE_TEXT})}),
    "OrderSummary": _object({
        "order_id": _TEXT, "status": {"type": "string", "enum": [s.value for s in model.OrderStatus]},
        "total": _ref("Money"), "item_count": _COUNT, "created_at": _TIMESTAMP}),
    "OrderPage": _page("OrderSummary"),
    "Consents": _object({}, {channel: {"type": "boolean"} for channel in model.CONSENT_CHANNELS},
                        description="Marketing consent per channel; empty until first set"),
    "Profile": _object(
        {"customer_id": _TEXT, "email": _NULLABLE_TEXT, "consents": _ref("Consents"),
         "created_at": _TIMESTAMP, "updated_at": _TIMESTAMP},
        {"given_name": _TEXT, "family_name": _TEXT, "phone": _TEXT, "locale": _TEXT,
         "default_address": _ref("Address")}),
    "PushDevice": _object({"registered": {"type": "boolean"},
                           "platform": {"type": "string", "nullable": True, "enum": [*PUSH_PLATFORMS, None]}}),
    "Subscription": _object({"channel": {"type": "string", "enum": list(model.CONSENT_CHANNELS)},
                             "subscribed": {"type": "boolean"}}),
    "WebhookAck": _object({"received": {"type": "boolean"}, "applied": {"type": "boolean"}},
                          {"status": {"type": "string", "enum": [s.value for s in model.OrderStatus]}}),
    "SearchResults": _object({
        "items": {"type": "array", "items": _object({
            "product_id": _ID, "name": _TEXT, "brand": _NULLABLE_TEXT, "category_id": _NULLABLE_TEXT,
            "price": _ref("Money"), "images": {"type": "array", "items": _TEXT},
            "in_stock": {"type": "boolean"}})},
        "facets": _object({"category": _FACETS, "brand": _FACETS, "price": {
            "type": "array", "items": _object({"value": _TEXT, "min": {"type": "integer"},
                                               "max": {"type": "integer", "nullable": True},
                                               "count": _COUNT})}}),
        "total": _COUNT,
        "next_cursor": {"type": "string", "nullable": True,
                        "description": "Pass as `cursor` for the next page; null on the last"}}),
    "Suggestions": _object({"suggestions": {"type": "array", "items": _object(
        {"text": _TEXT, "product_id": _ID})}}),
    "Recommendations": _object({
        "items": {"type": "array", "items": _ref("ProductSummary")},
        "source": {"type": "string", "enum": ["personalize", "fallback"],
                   "description": "personalize: an active Amazon Personalize recommender; fallback: "
                                  "ranked from this shop's own orders (then its catalog)"},
        "kind": {"type": "string", "enum": list(recommendation_params.KINDS)}}),
    "ChatReply": _object({
        "messages": {"type": "array", "items": _object({"type": {"type": "string", "enum": ["text"]},
                                                        "text": _TEXT})},
        "session_id": {"type": "string", "nullable": True,
                       "description": "Anonymous callers: send it back as `session_id` to continue the "
                                      "conversation (a new one is issued when it is missing, expired or not "
                                      "ours); null for signed-in callers, whose conversation is their own"}}),
    "Store": _object({"store_id": _ID, "name": _TEXT, "line1": _TEXT, "city": _TEXT, "postal_code": _TEXT,
                      "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                      "lat": {"type": "number"}, "lon": {"type": "number"},
                      "distance_km": {"type": "number", "minimum": 0,
                                      "description": "Great-circle distance from the origin"}},
                     {"phone": _TEXT}),
    "StoreResults": _object({
        "origin": _object({"label": {**_NULLABLE_TEXT, "description": "The geocoded place (q only)"},
                           "lat": {"type": "number"}, "lon": {"type": "number"}}),
        "radius_km": {"type": "number"},
        "items": {"type": "array", "items": _ref("Store"), "description": "Nearest first"}}),
    "OrderTracking": _object({
        "order_id": _TEXT, "status": {"type": "string", "enum": [s.value for s in model.OrderStatus]},
        "courier": {"type": "object", "nullable": True, "required": ["lat", "lon", "updated_at"],
                    "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}, "updated_at": _TIMESTAMP},
                    "description": "The courier's last reported position; null before a courier reports"},
        "eta": {"type": "object", "nullable": True, "required": ["duration_s", "distance_km", "arrive_by"],
                "properties": {"duration_s": _COUNT, "distance_km": {"type": "number"}, "arrive_by": _TIMESTAMP},
                "description": "Null once delivered, before a position, or while routing is unavailable"}}),
    # Checkout errors carry what a storefront needs to react: the order (declined, in
    # progress) or the SKUs that are short.
    "CheckoutError": {"allOf": [_ref("Error"), _object({}, {
        "order": _ref("Order"), "skus": {"type": "array", "items": _ID},
        "order_id": {"type": "string",
                     "description": "cart_already_checked_out: the order this cart became"}})]},
}

_ERRORS = {
    400: "Invalid request; `error.field` names the parameter or body field",
    401: "Sign-in required (Cognito ID token in Authorization)",
    402: "Payment declined; the failed order is included",
    403: "Forbidden; `error.code` says why",
    404: "Not found (another customer's resource is indistinguishable from a missing one)",
    409: "Conflict with the current state; `error.code` says which",
    413: f"Body larger than {MAX_BODY_BYTES} bytes",
    422: "Well-formed but refused; `error.code` says why",
    503: "A dependency is unavailable; retry after the Retry-After header",
}
_ERROR_DETAILS = {
    ("getSubscription", 403): "invalid_token: the token is missing, malformed, forged or altered",
    ("unsubscribe", 403): "invalid_token: the token is missing, malformed, forged or altered",
    ("paymentWebhook", 401): "Signature missing, stale or wrong",
    ("checkout", 409): "cart_empty, cart_changed, out_of_stock or sku_unavailable (`skus`), "
                       "checkout_in_progress (`order`, Retry-After), cart_already_checked_out "
                       "(`order_id` of the order this cart already became)",
    ("checkout", 422): "idempotency_key_reused, order_rejected",
    ("checkout", 503): "payment_unavailable: the order stays pending and a retry with the same "
                       "Idempotency-Key resumes it",
    ("addCartItem", 409): "cart_full, concurrent_modification",
    ("searchProducts", 503): "search_unavailable: the search engine cannot answer now",
    ("suggestProducts", 503): "search_unavailable: the search engine cannot answer now",
    ("getRecommendations", 404): "not_found: product_id is not in the catalog",
    ("putPushDevice", 422): "push_not_configured: this deployment has no push platform application "
                            "for the device's platform",
    ("chat", 503): "chat_unavailable: the chatbot cannot answer now (the rest of the API is unaffected)",
    ("chatSignedIn", 503): "chat_unavailable: the chatbot cannot answer now (the rest of the API is unaffected)",
    ("findStores", 404): "address_not_found: nothing matches q",
    ("getOrderTracking", 404): "not_found: no such order of the caller's",
    ("findStores", 503): "location_unavailable: geocoding cannot answer now",
}
_CHECKOUT_ERRORS = frozenset({402, 409})
_RETRY_AFTER = frozenset({("checkout", 409), ("checkout", 503), ("searchProducts", 503),
                          ("suggestProducts", 503), ("chat", 503), ("chatSignedIn", 503), ("findStores", 503)})

_QUERY = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    "category": _ID,
    "cursor": {"type": "string", "minLength": 1, "maxLength": 2048, "pattern": "^[A-Za-z0-9_-]+$",
               "description": "`next_cursor` of the previous page, unchanged"},
    "token": {"type": "string", "minLength": 1, "maxLength": 512, "pattern": "^[A-Za-z0-9._-]+$",
              "description": "The signed token of the unsubscribe link, unchanged"},
}


_LIST = {"type": "string", "minLength": 1, "maxLength": 4096,
         "description": f"Comma-separated, at most {search_params.MAX_FILTER_VALUES} values"}
_AMOUNT = {"type": "integer", "minimum": 0, "maximum": search_params.MAX_PRICE,
           "description": "Minor units"}
_SEARCH_QUERY = {
    "q": {"type": "string", "minLength": 1, "maxLength": search_params.MAX_QUERY_LENGTH},
    "category": _LIST, "brand": _LIST, "min_price": _AMOUNT, "max_price": _AMOUNT,
    "in_stock": {"type": "boolean"},
    "sort": {"type": "string", "enum": list(search_params.SORTS), "default": "relevance"},
    "limit": {"type": "integer", "minimum": 1, "maximum": search_params.MAX_PAGE_SIZE,
              "default": search_params.DEFAULT_PAGE_SIZE},
}


_RECOMMENDATION_QUERY = {
    "product_id": {**_ID, "description": "Recommend around this product (product and cart pages)"},
    "kind": {"type": "string", "enum": list(recommendation_params.KINDS),
             "description": "Default: also_viewed with a product_id, for_you without"},
    "visitor_id": {"type": "string", "pattern": f"^{recommendation_params.VISITOR_PATTERN}$",
                   "description": "Opaque shopper id (the storefront sends a hash of its session)"},
    "limit": {"type": "integer", "minimum": 1, "maximum": recommendation_params.MAX_LIMIT,
              "default": recommendation_params.DEFAULT_LIMIT},
}


_DEGREES = {"type": "number", "description": "Decimal degrees (WGS 84), at most 12 decimals"}
_STORE_QUERY = {
    "lat": {**_DEGREES, "minimum": -90, "maximum": 90},
    "lon": {**_DEGREES, "minimum": -180, "maximum": 180},
    "q": {"type": "string", "minLength": 1, "maxLength": location_params.MAX_QUERY_LENGTH,
          "description": "An address, postcode or place name (instead of lat and lon)"},
    "radius_km": {"type": "number", "exclusiveMinimum": True, "minimum": 0,
                  "maximum": location_params.MAX_RADIUS_KM, "default": location_params.DEFAULT_RADIUS_KM},
    "limit": {"type": "integer", "minimum": 1, "maximum": location_params.MAX_LIMIT,
              "default": location_params.DEFAULT_LIMIT},
}


def _query_schema(route: Route, name: str) -> dict:
    if route.function == "location":
        return dict(_STORE_QUERY[name])
    if route.function == "search":
        return dict(_SEARCH_QUERY.get(name) or _QUERY[name])
    if route.function == "recommendations":
        return dict(_RECOMMENDATION_QUERY[name])
    return dict(_QUERY[name])


def error_statuses(route: Route) -> tuple[int, ...]:
    """Every error status the operation can answer with."""
    # 413: the size limit applies before a route looks at its body (or its lack of one).
    statuses = {400, 413, *route.errors}
    if route.auth in ("user", "signature"):
        statuses.add(401)
    return tuple(sorted(statuses))


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(route: Route) -> dict:
    responses = {str(route.success_status): _json(_ref(route.response), "Success")}
    for status in error_statuses(route):
        schema = "CheckoutError" if route.operation_id == "checkout" and status in _CHECKOUT_ERRORS else "Error"
        description = _ERROR_DETAILS.get((route.operation_id, status), _ERRORS[status])
        responses[str(status)] = _json(_ref(schema), description)
        if (route.operation_id, status) in _RETRY_AFTER:
            responses[str(status)]["headers"] = {"Retry-After": {
                "description": "Seconds to wait before retrying (a checkout: with the same Idempotency-Key)",
                "schema": {"type": "integer", "minimum": 0}}}
    operation: dict = {"operationId": route.operation_id, "summary": route.summary,
                       "responses": responses}
    parameters = [{"name": name, "in": "path", "required": True, "schema": dict(_ID)}
                  for name in route.path_params]
    parameters += [{"name": name, "in": "query", "required": False, "schema": _query_schema(route, name)}
                   for name in route.query_params]
    parameters += [{"name": name, "in": "header", "required": True,
                    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN}
                    if name == IDEMPOTENCY_HEADER else {"type": "string"}}
                   for name in route.required_headers]
    if parameters:
        operation["parameters"] = parameters
    if route.request_schema is not None:
        operation["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": route.request_schema}}}
    elif route.auth == "signature":
        operation["description"] = (
            "Called by the payment provider. The raw body is verified against the provider's "
            "signature header (`Sandbox-Signature` for the sandbox provider, `Stripe-Signature` "
            "for Stripe) before it is read.")
        operation["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    elif route.auth == "token" and route.method == "POST":
        operation["description"] = (
            "The target of an RFC 8058 `List-Unsubscribe` header: mail clients POST the form body "
            "`List-Unsubscribe=One-Click` (ignored; the token alone decides). No sign-in.")
    if route.auth == "user":
        operation["security"] = [{"cognito": []}]
    return operation


def openapi_document(routes: tuple[Route, ...] = ROUTES, *, title: str = "Headless Commerce API",
                     version: str = "1.0.0") -> dict:
    paths: dict[str, dict] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "cognito": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "description": "Cognito user pool ID token",
                    "x-amazon-apigateway-authtype": "cognito_user_pools",
                }
            },
        },
    }
