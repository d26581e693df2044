"""Over HTTP against local mode: the same risk scorer screens checkout, its velocity counters in
the embedded DynamoDB. A shopper's sixth order within the hour is held for review (ON_HOLD):
answered 201 with that status, stock kept reserved, nothing charged, never sent to the OMS; then
`headless-commerce fraud review --local` lists it and releases it, and it is paid."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from tests.e2e.test_event_integrity import acceptances
from tests.e2e.test_shopper_journey import in_stock_sku

ORDERS = 6  # the default customer_velocity limit is 5 attempts an hour


def test_a_customers_sixth_order_in_an_hour_is_held(local, shopper):
    sku, _, _ = in_stock_sku(local, minimum=ORDERS)
    statuses = []
    for number in range(ORDERS):
        assert local.call("POST", "/cart/items", body={"sku": sku, "quantity": 1}, token=shopper.token).status == 200
        before = local.call("GET", f"/products/{sku.rsplit('-', 1)[0]}").body
        reply = local.call("POST", "/checkout", body={"payment_token": "tok_visa"},
                           headers={"Idempotency-Key": f"velocity-{number}-{shopper.sub}"}, token=shopper.token)
        assert reply.status == 201, reply.body
        statuses.append(reply.body["status"])
    assert statuses == ["CONFIRMED"] * (ORDERS - 1) + ["ON_HOLD"]
    held = reply.body
    assert "payment" not in held  # not charged
    listed = local.call("GET", f"/orders/{held['order_id']}", token=shopper.token).body
    assert listed["status"] == "ON_HOLD"
    after = local.call("GET", f"/products/{sku.rsplit('-', 1)[0]}").body
    available = {s["sku"]: s["available"] for s in after["skus"]}
    assert available[sku] == {s["sku"]: s["available"] for s in before["skus"]}[sku] - 1  # still reserved
    time.sleep(3)  # the event flow has delivered the confirmed orders by now
    assert held["order_id"] not in acceptances(local)

    def review(*args: str) -> tuple[int, dict]:
        done = subprocess.run([sys.executable, "-m", "headless_commerce.cli", "fraud", "review", "--local", local.api,
                               *args], capture_output=True, text=True, timeout=120)
        return done.returncode, json.loads(done.stdout)

    code, listed = review()
    assert code == 0 and held["order_id"] in [h["order"]["order_id"] for h in listed["held"]]
    [entry] = [h for h in listed["held"] if h["order"]["order_id"] == held["order_id"]]
    assert entry["reasons"] == ["customer_velocity"]
    code, released = review("--release", held["order_id"], "--reviewer", "e2e")
    assert code == 0 and released["order"]["status"] == "CONFIRMED", released
    code, again = review("--reject", held["order_id"], "--reviewer", "e2e")
    assert code == 1 and again == {"error": "the order is not held for review"}
    # Released, it is an ordinary paid order: OrderPlaced reaches the OMS, which accepts it.
    assert local.call("GET", f"/orders/{held['order_id']}", token=shopper.token).body["status"] in (
        "CONFIRMED", "ACCEPTED_BY_OMS")
