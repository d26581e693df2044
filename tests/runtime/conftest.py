"""Fixtures for runtime tests: a moto DynamoDB table built from model.table_definition_kwargs(),
API Gateway REST proxy events, a seeded catalog, the sandbox provider and a call counter."""

from __future__ import annotations

import base64
import importlib
import json
import os
import threading
import uuid
from dataclasses import dataclass

import pytest

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    "TABLE_NAME": "commerce-test", "PAYMENT_PROVIDER": "sandbox",
    "POWERTOOLS_SERVICE_NAME": "commerce-test", "ALLOWED_ORIGIN": "https://shop.example",
    # The recommendations function's counters table (created beside the commerce table).
    "RECOMMENDATION_SIGNALS_TABLE_NAME": "recommendation-signals-test",
    # The chatbot answers with local mode's bot (tests/runtime/test_chatbot.py stubs Lex itself).
    "CHAT_PROVIDER": "local", "CHAT_SESSION_KEY": "chat-session-test-key-of-at-least-32-chars",
})
os.environ.pop("DAX_ENDPOINT", None)
os.environ.pop("PAYMENT_SECRET_ARN", None)

from aws_lambda_powertools.utilities.parameters import clear_caches as clear_parameter_caches
from moto import mock_aws

from headless_commerce import model
from headless_commerce.local import moto_patches
from headless_commerce.runtime import routes
from headless_commerce.runtime.catalog import repository as catalog_repository
from headless_commerce.runtime.common import aws, dynamo
from headless_commerce.runtime.payments import provider as payment_provider
from headless_commerce.runtime.payments.sandbox import SandboxProvider

# Real DynamoDB applies each request atomically and rolls a cancelled transaction back.
moto_patches.apply()

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def table():
    with mock_aws():
        aws.reset_clients()
        catalog_repository.catalog_reader.cache_clear()
        payment_provider.set_provider(None)
        clear_parameter_caches()
        aws.dynamodb().create_table(TableName=os.environ["TABLE_NAME"],
                                    **model.table_definition_kwargs())
        aws.dynamodb().create_table(TableName=os.environ["RECOMMENDATION_SIGNALS_TABLE_NAME"],
                                    **model.signals_table_kwargs())
        yield os.environ["TABLE_NAME"]
        aws.reset_clients()
        catalog_repository.catalog_reader.cache_clear()
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
    catalog_repository.put_category("apparel", "Apparel")
    catalog_repository.put_category("tops", "Tops", parent_id="apparel")
    catalog_repository.put_category("kitchen", "Kitchen")
    for product_id, name, category, price, skus in CATALOG:
        catalog_repository.put_product(
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
        # Base64 carries any bytes: a lone surrogate becomes the invalid UTF-8 a client can send.
        raw_body = base64.b64encode(raw_body.encode(errors="surrogatepass")).decode()
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


# ---- events: stream records, SQS events, example envelopes, queues and the bus ------------
# (used by tests/runtime/test_events_*.py)

ACCOUNT = "123456789012"
EVENT_BUS = "commerce-test-bus"


def stream_record(event_name: str, new_image: dict | None, old_image: dict | None = None) -> dict:
    """A DynamoDB stream record as Pipes (and Lambda) deliver it; images in DynamoDB JSON."""
    image = new_image or old_image or {}
    data: dict = {"ApproximateCreationDateTime": 1767225600,
                  "Keys": {k: image[k] for k in ("pk", "sk") if k in image},
                  "SequenceNumber": str(uuid.uuid4().int)[:21], "SizeBytes": 512,
                  "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if new_image is not None:
        data["NewImage"] = new_image
    if old_image is not None:
        data["OldImage"] = old_image
    return {"eventID": uuid.uuid4().hex, "eventName": event_name, "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": data,
            "eventSourceARN": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/commerce-test/stream/x"}


def outbox_stream_records(detail_type: str | None = None) -> list[dict]:
    """The table's outbox items as stream INSERT records. moto's in-process DynamoDB Streams
    API answers "Not yet implemented", so the record is built around the item's real
    DynamoDB JSON (a stream NewImage has exactly that shape)."""
    items = aws.dynamodb().scan(TableName=dynamo.table_name(), FilterExpression="entity = :e",
                                ExpressionAttributeValues=dynamo.values(e="OUTBOX"))["Items"]
    return [stream_record("INSERT", item) for item in items
            if detail_type is None or item["detail_type"]["S"] == detail_type]


def eventbridge_event(envelope: dict) -> dict:
    """What a rule target with the default input delivers: the EventBridge event whose
    `detail` is the whole envelope."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": envelope["detail_type"],
            "source": envelope["source"], "account": ACCOUNT, "time": "2026-01-31T12:00:00Z",
            "region": "us-east-1", "resources": [], "detail": envelope}


def sqs_event(*bodies: object, fifo: bool = False, groups: list[str] | None = None) -> dict:
    """An SQS event source batch; dict bodies are JSON-encoded, strings sent as they are."""
    queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:consumer" + (".fifo" if fifo else "")
    records = []
    for index, body in enumerate(bodies):
        attributes = {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000"}
        if fifo:
            attributes["MessageGroupId"] = (groups or ["g"] * len(bodies))[index]
        records.append({"messageId": f"msg-{index}", "receiptHandle": f"rh-{index}",
                        "body": body if isinstance(body, str) else json.dumps(body),
                        "attributes": attributes, "messageAttributes": {},
                        "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": queue,
                        "awsRegion": "us-east-1"})
    return {"Records": records}


def example_event(name: str, detail: dict | None = None, **envelope: object) -> dict:
    """A schema-valid example of each contract (override detail fields or envelope fields)."""
    at = "2026-01-31T12:00:00.000000Z"
    details = {
        "OrderPlaced": {"order_id": "o-1", "customer_id": "alice", "status": "PENDING_PAYMENT",
                        "total": 2500, "currency": "USD",
                        "lines": [{"sku": "mug-1", "quantity": 2, "unit_price": 1250}]},
        "OrderHeldForReview": {"order_id": "o-1", "customer_id": "alice", "status": "ON_HOLD",
                               "total": 2500, "currency": "USD",
                               "lines": [{"sku": "mug-1", "quantity": 2, "unit_price": 1250}]},
        "OrderStatusChanged": {"order_id": "o-1", "customer_id": "alice", "to": "ACCEPTED_BY_OMS"},
        "PaymentAuthorized": {"order_id": "o-1", "customer_id": "alice", "amount": 2500,
                              "currency": "USD", "provider": "sandbox", "decline_code": None},
        "PaymentFailed": {"order_id": "o-1", "customer_id": "alice", "amount": 2500,
                          "currency": "USD", "provider": "sandbox", "decline_code": "card_declined"},
        "ProductModified": {"product_id": "p-mug", "change": "UPSERTED", "modified_at": at,
                            "name": "Coffee Mug", "category_id": "kitchen", "price_amount": 1250,
                            "currency": "USD", "skus": ["mug-1"]},
        "InventoryChanged": {"sku": "mug-1", "product_id": "p-mug", "available": 8,
                             "changed_at": at, "delta": -2, "reason": "ORDER"},
        "CustomerConsentChanged": {"customer_id": "alice",
                                   "consents": {"email": True, "sms": False, "push": False},
                                   "previous": {"email": False, "sms": False, "push": False},
                                   "changed_at": at},
        "CustomerProfileChanged": {"customer_id": "alice", "fields": ["locale"], "changed_at": at},
        "ProductViewed": {"product_id": "p-mug", "visitor_id": "v" * 32},
        "CartItemAdded": {"product_id": "p-mug", "sku": "mug-1", "quantity": 2, "visitor_id": "v" * 32,
                          "customer_id": "alice"},
    }
    sources = {"OrderStatusChanged": model.EventSource.OMS}
    return {"id": str(uuid.uuid4()), "version": 1, "occurred_at": at,
            "source": sources.get(name, model.EVENT_ALLOWED_SOURCES[name][0]), "detail_type": name,
            "detail": {**details[name], **(detail or {})}, **envelope}


def queue_messages(url: str, limit: int = 10) -> list[dict]:
    """Receive what a queue holds, with attributes; received messages stay in flight
    (invisible), so a second call returns only messages sent since."""
    found: list[dict] = []
    while len(found) < limit:
        batch = aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                          MessageAttributeNames=["All"],
                                          AttributeNames=["All"]).get("Messages", [])
        if not batch:
            return found
        found += batch
    return found


@pytest.fixture
def dead_letters(table, monkeypatch) -> str:
    """A consumer dead-letter queue; its URL is in DEAD_LETTER_QUEUE_URL."""
    url = aws.sqs().create_queue(QueueName="consumer-dlq")["QueueUrl"]
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", url)
    return url


@pytest.fixture
def ledger_table(table, monkeypatch) -> str:
    monkeypatch.setenv("CONSENT_LEDGER_TABLE_NAME", "consent-ledger-test")
    aws.dynamodb().create_table(TableName="consent-ledger-test", **model.consent_ledger_table_kwargs())
    return "consent-ledger-test"


@pytest.fixture
def audience_table(table, monkeypatch) -> str:
    monkeypatch.setenv("AUDIENCE_TABLE_NAME", "audience-test")
    aws.dynamodb().create_table(TableName="audience-test", **model.audience_table_kwargs())
    return "audience-test"


@dataclass
class Bus:
    name: str
    status_queue_url: str   # every event from commerce.oms lands here (a standard queue)


@pytest.fixture
def bus(table, monkeypatch) -> Bus:
    """A moto EventBridge bus (EVENT_BUS_NAME) with a rule capturing the OMS's events."""
    events = aws.eventbridge()
    events.create_event_bus(Name=EVENT_BUS)
    monkeypatch.setenv("EVENT_BUS_NAME", EVENT_BUS)
    url = aws.sqs().create_queue(QueueName="oms-status-capture")["QueueUrl"]
    arn = aws.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="oms-status", EventBusName=EVENT_BUS,
                    EventPattern=json.dumps({"source": [model.EventSource.OMS]}))
    events.put_targets(Rule="oms-status", EventBusName=EVENT_BUS, Targets=[{"Id": "capture", "Arn": arn}])
    return Bus(EVENT_BUS, url)


MARKETING_SENDER = "shop@example.com"
UNSUBSCRIBE_KEY = "k" * 48


@dataclass
class MarketingEnv:
    table: str
    jobs_queue_url: str
    dead_letter_url: str


@pytest.fixture
def marketing(audience_table, monkeypatch) -> MarketingEnv:
    """The marketing table, the jobs queue and its DLQ, a verified SES sender (moto), the
    unsubscribe key and the API URL links point at."""
    aws.dynamodb().create_table(TableName="marketing-test", **model.marketing_table_kwargs())
    jobs = aws.sqs().create_queue(QueueName="marketing-jobs")["QueueUrl"]
    dead_letters = aws.sqs().create_queue(QueueName="marketing-jobs-dlq")["QueueUrl"]
    import boto3

    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=MARKETING_SENDER)
    for name, value in {"MARKETING_TABLE_NAME": "marketing-test", "MARKETING_JOBS_QUEUE_URL": jobs,
                        "DEAD_LETTER_QUEUE_URL": dead_letters, "MARKETING_EMAIL_FROM": MARKETING_SENDER,
                        "MARKETING_SES_CONFIGURATION_SET": "marketing-events",
                        "MARKETING_UNSUBSCRIBE_KEY": UNSUBSCRIBE_KEY,
                        "MARKETING_API_URL": "https://api.shop.example/v1"}.items():
        monkeypatch.setenv(name, value)
    for name in ("MARKETING_TRANSPORT", "MARKETING_OUTBOX_DIR", "MARKETING_SMS_ORIGINATION_IDENTITY",
                 "MARKETING_ABANDONED_CART_HOURS"):
        monkeypatch.delenv(name, raising=False)
    return MarketingEnv("marketing-test", jobs, dead_letters)
