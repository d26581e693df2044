"""Over HTTP against local mode: a shopper double-clicks "place order" in four tabs, each
request with its own Idempotency-Key. One cart makes one order, one authorization, one stock
decrement per line and one message to the OMS; the other tabs are told which order it became."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from boto3.dynamodb.types import TypeDeserializer

from headless_commerce import model
from tests.e2e.test_shopper_journey import ORDER_ACCEPTED_TIMEOUT_S, in_stock_sku, wait_for

TABLE = "hc-local-commerce"
TABS = 4


def _items_of(local, sub: str, entity: str) -> list[dict]:
    """Every item of `entity` that concerns the customer (scan: a test's view of the table)."""
    decode = TypeDeserializer().deserialize
    dynamodb = local.client("dynamodb")
    found, start = [], None
    while True:
        kwargs = {"TableName": TABLE, "FilterExpression": "entity = :e",
                  "ExpressionAttributeValues": {":e": {"S": entity}}}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = dynamodb.scan(**kwargs)
        found += [{k: decode(v) for k, v in item.items()} for item in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return [i for i in found
            if sub in (i.get("customer_id"), (i.get("detail") or {}).get("customer_id"))]


def test_concurrent_checkouts_of_one_cart_make_one_order(local, shopper):
    sku, _, available = in_stock_sku(local, minimum=2)
    added = local.call("POST", "/cart/items", body={"sku": sku, "quantity": 2},
                       token=shopper.token)
    assert added.status == 200, added.body
    start = threading.Barrier(TABS)

    def place(tab: int):
        start.wait()
        return local.call("POST", "/checkout", body={"payment_token": "tok_visa"},
                          headers={"Idempotency-Key": f"tab-{tab}-{shopper.sub}"},
                          token=shopper.token)

    with ThreadPoolExecutor(TABS) as pool:
        replies = list(pool.map(place, range(TABS)))
    placed = [r for r in replies if r.status == 201]
    assert len(placed) == 1, [(r.status, r.body) for r in replies]
    order_id = placed[0].body["order_id"]
    for loser in (r for r in replies if r.status != 201):
        assert loser.status == 409, loser.body
        assert loser.body["error"]["code"] == "cart_already_checked_out"
        assert loser.body["order_id"] == order_id

    orders = local.call("GET", "/orders", token=shopper.token).body["items"]
    assert [o["order_id"] for o in orders] == [order_id]
    product_id = sku.rsplit("-", 1)[0]
    skus = local.call("GET", f"/products/{product_id}").body["skus"]
    assert next(s for s in skus if s["sku"] == sku)["available"] == available - 2

    def accepted():
        order = local.call("GET", f"/orders/{order_id}", token=shopper.token).body
        return order["status"] == model.OrderStatus.ACCEPTED_BY_OMS.value

    assert wait_for(accepted, ORDER_ACCEPTED_TIMEOUT_S), "the order did not reach the OMS"
    payments = _items_of(local, shopper.sub, model.Entity.OUTBOX)
    assert [e["detail"]["order_id"] for e in payments
            if e["detail_type"] == model.EventName.PAYMENT_AUTHORIZED] == [order_id]
    assert [e["detail"]["order_id"] for e in payments
            if e["detail_type"] == model.EventName.ORDER_PLACED] == [order_id]
    assert [a["order_id"] for a in _items_of(local, shopper.sub,
                                             model.Entity.OMS_ACCEPTANCE)] == [order_id]
