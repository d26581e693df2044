"""Fixtures for runtime tests: a moto DynamoDB table built from model.table_definition_kwargs(),
API Gateway REST proxy events, a seeded catalog, the sandbox provider and a call counter."""

from __future__ import annotations

import base64
import importlib
import json
import os
import threading
from dataclasses import dataclass

import pytest

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    "TABLE_NAME": "commerce-test", "PAYMENT_PROVIDER": "sandbox",
    "POWERTOOLS_SERVICE_NAME": "commerce-test", "ALLOWED_ORIGIN": "https://shop.example",
})
os.environ.pop("DAX_ENDPOINT", None)
os.environ.pop("PAYMENT_SECRET_ARN", None)

from moto import mock_aws  # noqa: E402
from moto.dynamodb.responses import DynamoHandler  # noqa: E402

from headless_commerce import model  # noqa: E402
from headless_commerce.runtime import routes  # noqa: E402
from headless_commerce.runtime.common import aws, repositories  # noqa: E402
from headless_commerce.runtime.payments import provider as payment_provider  # noqa: E402
from headless_commerce.runtime.payments.sandbox import SandboxProvider  # noqa: E402

# Real DynamoDB applies each request atomically (a transaction's conditions and writes are
# one step). moto's in-process backend does not lock, so two threads could both pass a
# `stock >= :qty` check before either writes. Serialising moto's request handling restores
# the server-side atomicity; clients still run fully concurrently.
_moto_lock = threading.RLock()
_original_call_action = DynamoHandler.call_action


def _serialised_call_action(self):
    with _moto_lock:
        return _original_call_action(self)


DynamoHandler.call_action = _serialised_call_action

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def table():
    with mock_aws():
        aws.reset_clients()
        repositories.catalog_reader.cache_clear()
        payment_provider.set_provider(None)
        aws.dynamodb().create_table(TableName=os.environ["TABLE_NAME"],
                                    **model.table_definition_kwargs())
        yield os.environ["TABLE_NAME"]
        aws.reset_clients()
        repositories.catalog_reader.cache_clear()
        payment_provider.set_provider(None)


@pytest.fixture
def sandbox(table) -> SandboxProvider:
    provider = SandboxProvider(webhook_secret=WEBHOOK_SECRET)
    payment_provider.set_provider(provider)
    return provider


CATALOG = [
    # (product_id, name, category, price, [(sku, stock, attributes)])
    ("p-tee", "Classic Tee", "apparel", 1999,
     [("tee-s", 20, {"size": "S"}), ("tee-m", 15, {"size": "M"})]),
    ("p-mug", "Coffee Mug", "kitchen", 1250, [("mug-1", 10, {})]),
    ("p-pan", "Frying Pan", "kitchen", 4500, [("pan-1", 3, {})]),
    ("p-cap", "Baseball Cap", "apparel", 1500, [("cap-1", 0, {})]),
]


@pytest.fixture
def catalog(table) -> list:
    repositories.put_category("apparel", "Apparel")
    repositories.put_category("tops", "Tops", parent_id="apparel")
    repositories.put_category("kitchen", "Kitchen")
    for product_id, name, category, price, skus in CATALOG:
        repositories.put_product(
            {"product_id": product_id, "name": name, "category_id": category,
             "price_amount": price, "description": f"A {name.lower()}",
             "images": [f"https://assets.example/{product_id}.jpg"]},
            [{"sku": s, "stock": stock, "attributes": attrs} for s, stock, attrs in skus])
    return CATALOG


@dataclass
class Reply:
    status: int
    body: dict
    headers: dict


def _route(method: str, path: str) -> routes.Route:
    return next(r for r in routes.ROUTES if r.method == method and r.path == path)


def api_event(method: str, path: str, *, path_params: dict | None = None,
              query: dict | None = None, body: object = None, raw_body: str | None = None,
              headers: dict | None = None, sub: str | None = None, email: str | None = None,
              base64_body: bool = False) -> dict:
    """An API Gateway REST proxy event for the route `method path` (template form)."""
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    if raw_body is not None and base64_body:
        raw_body = base64.b64encode(raw_body.encode()).decode()
    actual = path
    for name, value in (path_params or {}).items():
        actual = actual.replace("{" + name + "}", value)
    request_context: dict = {"resourcePath": path, "httpMethod": method, "stage": "v1"}
    if sub is not None:
        request_context["authorizer"] = {"claims": {"sub": sub, "email": email or f"{sub}@example.com"}}
    all_headers = {"Content-Type": "application/json"} if raw_body is not None else {}
    all_headers.update(headers or {})
    return {
        "resource": path, "path": actual, "httpMethod": method, "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query or None, "pathParameters": path_params or None,
        "requestContext": request_context, "body": raw_body, "isBase64Encoded": base64_body,
    }


def handler_for(method: str, path: str):
    spec = routes.FUNCTIONS[_route(method, path).function]
    module, _, attribute = spec.handler.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def invoke(event: dict) -> Reply:
    result = handler_for(event["httpMethod"], event["resource"])(event, None)
    return Reply(result["statusCode"], json.loads(result["body"]), result["headers"])


def call(method: str, path: str, **kwargs) -> Reply:
    return invoke(api_event(method, path, **kwargs))


def checkout(sub: str, key: str, token: str = "tok_visa", **body) -> Reply:
    return call("POST", "/checkout", sub=sub, headers={"Idempotency-Key": key},
                body={"payment_token": token, **body})


def add(sub: str, sku: str, quantity: int = 1) -> Reply:
    return call("POST", "/cart/items", sub=sub, body={"sku": sku, "quantity": quantity})


class CallCounter:
    """Counts DynamoDB API calls made through the runtime's client (botocore event hook)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, model=None, **kwargs) -> None:
        with self._lock:
            self.calls.append(model.name)

    def reset(self) -> None:
        self.calls.clear()


@pytest.fixture
def ddb_calls(table) -> CallCounter:
    counter = CallCounter()
    aws.dynamodb().meta.events.register("before-call.dynamodb.*", counter)
    return counter
