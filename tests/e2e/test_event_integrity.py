"""An event exists if and only if its transaction committed: shoppers race for the last units
of SKUs, most checkouts are cancelled by DynamoDB, and afterwards every order the example OMS
accepted exists, and every placed order reached the OMS."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from boto3.dynamodb.types import TypeDeserializer

from headless_commerce import model
from tests.e2e.conftest import sign_up
from tests.e2e.test_shopper_journey import wait_for

SHOPPERS = 6
OMS_TIMEOUT_S = 30


def scarce_skus(local, count: int) -> list[tuple[str, int]]:
    """SKUs with 1..3 units left: fewer than the shoppers racing for them."""
    found = []
    for index in range(1, 200):
        for sku in local.call("GET", f"/products/p-{index:04d}").body["skus"]:
            if 1 <= sku["available"] <= 3:
                found.append((sku["sku"], sku["available"]))
                if len(found) == count:
                    return found
    raise AssertionError("the demo catalog has no scarce SKU")


def acceptances(local) -> list[str]:
    dynamodb = local.client("dynamodb")
    decode = TypeDeserializer().deserialize
    items, start = [], None
    while True:
        page = dynamodb.scan(TableName="hc-local-commerce",
                             FilterExpression="begins_with(pk, :p) AND sk = :s",
                             ExpressionAttributeValues={":p": {"S": "OMS#"}, ":s": {"S": "ACCEPTANCE"}},
                             **({"ExclusiveStartKey": start} if start else {}))
        items += [decode(i["pk"]).removeprefix("OMS#") for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def order_exists(local, order_id: str) -> bool:
    key = {k: {"S": v} for k, v in model.order_key(order_id).items()}
    return "Item" in local.client("dynamodb").get_item(TableName="hc-local-commerce", Key=key)


def test_only_committed_checkouts_reach_the_oms(local):
    shoppers = [sign_up(local) for _ in range(SHOPPERS)]
    placed, refused = [], 0
    for round_number, (sku, available) in enumerate(scarce_skus(local, 3)):
        for shopper in shoppers:
            added = local.call("POST", "/cart/items", body={"sku": sku, "quantity": 1},
                               token=shopper.token)
            assert added.status == 200, added.body

        def checkout(shopper, round_number=round_number):
            return local.call("POST", "/checkout", body={"payment_token": "tok_visa"},
                              headers={"Idempotency-Key": f"race-{round_number}-{shopper.sub}"},
                              token=shopper.token)

        with ThreadPoolExecutor(SHOPPERS) as pool:
            replies = list(pool.map(checkout, shoppers))
        won = [r.body["order_id"] for r in replies if r.status == 201]
        lost = [r for r in replies if r.status == 409]
        assert len(won) == available and len(lost) == SHOPPERS - available, \
            [(r.status, r.body) for r in replies]
        assert all(r.body["error"]["code"] == "out_of_stock" for r in lost)
        placed += won
        refused += len(lost)
        for shopper in shoppers:       # losers still hold the sold-out line
            local.call("DELETE", f"/cart/items/{sku}", token=shopper.token)
    assert refused >= 6

    accepted = wait_for(lambda: (lambda got: got if set(placed) <= set(got) else None)(
        acceptances(local)), OMS_TIMEOUT_S)
    assert accepted, "not every placed order reached the OMS"
    phantoms = [order_id for order_id in accepted if not order_exists(local, order_id)]
    assert not phantoms, f"the OMS accepted orders that do not exist: {phantoms}"
