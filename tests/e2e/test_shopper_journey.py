"""A shopper over HTTP against `headless-commerce local`: browse, cart, checkout, the order's
events through the embedded bus and queues to the OMS and back, consents to the ledger."""

from __future__ import annotations

import json
import time

from boto3.dynamodb.types import TypeDeserializer

from headless_commerce import model
from tests.e2e.conftest import request

ORDER_ACCEPTED_TIMEOUT_S = 10


def wait_for(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def in_stock_sku(local, minimum: int = 2) -> tuple[str, int, int]:
    """(sku, its price, available) of the first product with enough stock."""
    for index in range(1, 40):
        product = local.call("GET", f"/products/p-{index:04d}").body
        for sku in product["skus"]:
            if sku["available"] >= minimum:
                return sku["sku"], sku["price"]["amount"], sku["available"]
    raise AssertionError("the demo catalog has no SKU in stock")


def test_well_known_and_openapi(local):
    doc = local.well_known
    assert doc["api_url"] == local.api
    # The storefront local mode serves beside the API answers its health check.
    assert doc["storefront_url"].startswith("http://127.0.0.1:")
    assert request("GET", doc["storefront_url"] + "/healthz").body == {"status": "ok"}
    assert doc["aws_endpoint_url"].startswith("http://127.0.0.1:")
    assert doc["region"] == "us-east-1"
    assert doc["user_pool_id"].startswith("us-east-1_") and doc["user_pool_client_id"]
    openapi = local.call("GET", "/openapi.json").body
    assert openapi["servers"] == [{"url": local.api, "description": "local mode"}]
    assert "/products/{product_id}" in openapi["paths"]
    assert openapi["paths"]["/checkout"]["post"]["security"] == [{"cognito": []}]


def test_browse_catalog_with_pagination(local):
    seen, cursor, pages = [], None, 0
    while True:
        reply = local.call("GET", "/products?limit=50" + (f"&cursor={cursor}" if cursor else ""))
        assert reply.status == 200, reply.body
        assert len(reply.body["items"]) <= 50
        seen += [item["product_id"] for item in reply.body["items"]]
        cursor, pages = reply.body["next_cursor"], pages + 1
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 200
    assert pages >= 5

    tree = local.call("GET", "/categories").body["items"]
    leaves = [child for root in tree for child in root["children"]]
    assert len(tree) + len(leaves) >= 8 and len(leaves) >= 8
    leaf = leaves[0]["category_id"]
    in_leaf = local.call("GET", f"/products?category={leaf}&limit=100").body["items"]
    assert in_leaf and all(p["category_id"] == leaf for p in in_leaf)

    product = local.call("GET", f"/products/{seen[0]}").body
    assert isinstance(product["available"], int)
    assert product["price"]["currency"] == "USD" and isinstance(product["price"]["amount"], int)
    image = local.call("GET", product["images"][0])
    assert image.status == 200 and image.headers["Content-Type"] == "image/svg+xml"


def test_checkout_flows_to_oms_and_back(local, shopper):
    sku, price, available = in_stock_sku(local)
    assert local.call("GET", "/me", token=shopper.token).body["email"] == shopper.email
    added = local.call("POST", "/cart/items", body={"sku": sku, "quantity": 2}, token=shopper.token)
    assert added.status == 200, added.body
    assert local.call("GET", "/cart", token=shopper.token).body["subtotal"]["amount"] == 2 * price

    key = {"Idempotency-Key": f"e2e-{shopper.sub}"}
    placed = local.call("POST", "/checkout", body={"payment_token": "tok_visa"}, headers=key,
                        token=shopper.token)
    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    assert placed.body["total"] == {"amount": 2 * price, "currency": "USD"}
    again = local.call("POST", "/checkout", body={"payment_token": "tok_visa"}, headers=key,
                       token=shopper.token)
    assert again.status == 201 and again.body["order_id"] == order_id

    # OrderPlaced: outbox -> stream -> relay -> bus -> buffer -> pipe -> FIFO -> OMS consumer,
    # whose OrderStatusChanged goes bus -> queue -> status applier -> the order.
    def accepted():
        order = local.call("GET", f"/orders/{order_id}", token=shopper.token).body
        return order if order["status"] == model.OrderStatus.ACCEPTED_BY_OMS.value else None

    order = wait_for(accepted, ORDER_ACCEPTED_TIMEOUT_S)
    assert order, "the order did not reach ACCEPTED_BY_OMS"
    product_id = sku.rsplit("-", 1)[0]
    skus = local.call("GET", f"/products/{product_id}").body["skus"]
    assert next(s for s in skus if s["sku"] == sku)["available"] == available - 2
    orders = local.call("GET", "/orders", token=shopper.token).body["items"]
    assert [o["order_id"] for o in orders] == [order_id]   # the retry made no second order

    dynamodb = local.client("dynamodb")
    acceptance = dynamodb.get_item(TableName="hc-local-commerce",
                                   Key={"pk": {"S": f"OMS#{order_id}"}, "sk": {"S": "ACCEPTANCE"}})
    assert acceptance["Item"]["published"] == {"BOOL": True}
    sqs = local.client("sqs")
    for name in ("hc-local-oms.fifo", "hc-local-oms-buffer", "hc-local-order-status"):
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0", name   # consumed and deleted
    dead = sqs.get_queue_url(QueueName="hc-local-oms-dlq.fifo")["QueueUrl"]
    assert not sqs.receive_message(QueueUrl=dead).get("Messages")


def test_consents_reach_the_ledger_and_audience(local, shopper):
    reply = local.call("PUT", "/me/consents", body={"email": True, "sms": False, "push": True},
                       token=shopper.token)
    assert reply.status == 200, reply.body
    dynamodb = local.client("dynamodb")
    decode = TypeDeserializer().deserialize

    def ledger():
        items = dynamodb.query(
            TableName="hc-local-consent-ledger", KeyConditionExpression="customer_id = :c",
            ExpressionAttributeValues={":c": {"S": shopper.sub}})["Items"]
        return [{k: decode(v) for k, v in item.items()} for item in items]

    entries = wait_for(ledger, 10)
    assert len(entries) == 1
    assert entries[0]["consents"] == {"email": True, "sms": False, "push": True}
    assert entries[0]["source"] == model.EventSource.CUSTOMERS

    def audience():
        item = dynamodb.get_item(TableName="hc-local-audience",
                                 Key={"channel": {"S": "email"}, "customer_id": {"S": shopper.sub}})
        return item.get("Item")

    member = wait_for(audience, 10)
    assert member and decode(member["opted_in"]) is True


def test_declined_payment_is_not_sent_to_the_oms(local, shopper):
    sku, _, _ = in_stock_sku(local, minimum=1)
    local.call("POST", "/cart/items", body={"sku": sku, "quantity": 1}, token=shopper.token)
    reply = local.call("POST", "/checkout", body={"payment_token": "tok_chargeDeclined"},
                       headers={"Idempotency-Key": f"declined-{shopper.sub}"}, token=shopper.token)
    assert 400 <= reply.status < 500, reply.body
    orders = local.call("GET", "/orders", token=shopper.token).body["items"]
    assert [o["status"] for o in orders] == [model.OrderStatus.PAYMENT_FAILED.value]
    time.sleep(1.5)   # OrderPlaced flows, but the applier never moves a failed order
    order = local.call("GET", f"/orders/{orders[0]['order_id']}", token=shopper.token).body
    assert order["status"] == model.OrderStatus.PAYMENT_FAILED.value


def test_customers_only_see_their_own_orders(local):
    first, second = _two_shoppers(local)
    sku, _, _ = in_stock_sku(local, minimum=1)
    local.call("POST", "/cart/items", body={"sku": sku, "quantity": 1}, token=first.token)
    order_id = local.call("POST", "/checkout", body={"payment_token": "tok_visa"},
                          headers={"Idempotency-Key": f"own-{first.sub}"},
                          token=first.token).body["order_id"]
    assert local.call("GET", f"/orders/{order_id}", token=second.token).status == 404
    assert local.call("GET", "/orders", token=second.token).body["items"] == []


def _two_shoppers(local):
    from tests.e2e.conftest import sign_up

    return sign_up(local), sign_up(local)


def test_cors_preflight(local):
    reply = local.call("OPTIONS", "/cart/items/sku-1",
                       headers={"Origin": "http://localhost:3000",
                                "Access-Control-Request-Method": "PATCH"})
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert set(reply.headers["Access-Control-Allow-Methods"].split(",")) == {"PATCH", "DELETE", "OPTIONS"}
    assert "Idempotency-Key" in reply.headers["Access-Control-Allow-Headers"]
    assert json.loads(b"null") is None and reply.raw == b""
