from __future__ import annotations

import base64
import json

from tests.runtime.conftest import add, call, checkout


def place(sub: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        add(sub, "tee-s", 1)
        reply = checkout(sub, f"order-key-{sub}-{i:03d}")
        assert reply.status == 201
        ids.append(reply.body["order_id"])
    return ids


def test_list_orders_newest_first_with_pagination(catalog, sandbox):
    ids = place("alice", 5)
    place("bob", 1)
    seen, cursor = [], None
    while True:
        reply = call("GET", "/orders", sub="alice",
                     query={"limit": "2"} | ({"cursor": cursor} if cursor else {}))
        assert reply.status == 200 and len(reply.body["items"]) <= 2
        seen += [o["order_id"] for o in reply.body["items"]]
        cursor = reply.body["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    first = call("GET", "/orders", sub="alice", query={"limit": "1"}).body["items"][0]
    assert first["total"] == {"amount": 1999, "currency": "USD"} and first["item_count"] == 1


def test_get_order_and_idor(catalog, sandbox):
    (order_id,) = place("alice", 1)
    mine = call("GET", "/orders/{order_id}", sub="alice", path_params={"order_id": order_id})
    assert mine.status == 200 and mine.body["order_id"] == order_id
    theirs = call("GET", "/orders/{order_id}", sub="bob", path_params={"order_id": order_id})
    assert theirs.status == 404
    missing = call("GET", "/orders/{order_id}", sub="alice", path_params={"order_id": "0" * 32})
    assert theirs.body == missing.body  # indistinguishable from a missing order
    assert call("GET", "/orders", sub="bob").body["items"] == []
    assert call("GET", "/orders/{order_id}", path_params={"order_id": order_id}).status == 401


def test_crafted_cursor_cannot_reach_another_customers_orders(catalog, sandbox):
    place("alice", 3)
    cursor = call("GET", "/orders", sub="alice", query={"limit": "1"}).body["next_cursor"]
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert call("GET", "/orders", sub="bob", query={"cursor": cursor}).status == 400
    decoded["gsi1pk"] = "CUSTOMER#bob"
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).decode()
    reply = call("GET", "/orders", sub="bob", query={"cursor": forged})
    assert reply.status == 200 and reply.body["items"] == []
    decoded["extra"] = "x"
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).decode()
    assert call("GET", "/orders", sub="bob", query={"cursor": forged}).status == 400
