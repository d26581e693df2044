"""Orders aggregate: the only code that builds order keys and their DynamoDB requests.

What an order's life writes goes through here: the order item, the stock it reserves and
releases, the checkout idempotency record, its outbox events, its payment record, and the cart
it consumes. The order-placing transaction consumes the cart (the cart item becomes an empty
tombstone pointing at the order, conditioned on the cart version the order was priced from),
so one cart version yields at most one order however many checkouts race for it.

Transaction labels (TransactionCancelled.failed): "order", "stock:<sku>", "idempotency",
"cart", "payment", "event:<type>".
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime.common import dynamo, outbox
from headless_commerce.runtime.common.clock import epoch, now_iso
from headless_commerce.runtime.common.transaction import Transaction, TransactionCancelled

_PENDING = model.OrderStatus.PENDING_PAYMENT.value
_PENDING_INDEX = (model.GSI2.partition_key, model.GSI2.sort_key)
CHECKED_OUT = "checked_out_order_id"   # the cart tombstone's pointer to the order it became


def get(order_id: str) -> dict | None:
    return dynamo.get(model.order_key(order_id))


def checkout_state(sub: str, key: str) -> tuple[dict | None, dict | None]:
    """(cart, idempotency record) in one BatchGetItem, strongly consistent."""
    found = dynamo.batch_get([model.cart_key(sub), model.idempotency_key(sub, key)])
    cart = next((i for i in found if i.get(model.ENTITY_ATTRIBUTE) == model.Entity.CART), None)
    record = next((i for i in found
                   if i.get(model.ENTITY_ATTRIBUTE) == model.Entity.IDEMPOTENCY), None)
    return cart, record


def idempotency_record(sub: str, key: str) -> dict | None:
    return dynamo.get(model.idempotency_key(sub, key))


def get_cart(sub: str) -> dict | None:
    return dynamo.get(model.cart_key(sub))


def place(order: dict, *, key: str, request_hash: str, cart_hash: str,
          placed_event: dict, decision: dict | None = None) -> None:
    """One transaction: the order (PENDING_PAYMENT, in the pending-order index), one stock
    decrement per line (never below zero), the idempotency record, OrderPlaced in the outbox,
    and the cart consumed; with `decision`, the fraud decision record too. An ON_HOLD order
    (held for fraud review) goes to the held-order index instead and its event is
    OrderHeldForReview: OrderPlaced follows when a reviewer releases it. Raises
    TransactionCancelled naming what failed."""
    order_id, sub, now = order["order_id"], order["customer_id"], order["created_at"]
    held = order["status"] == model.OrderStatus.ON_HOLD.value
    tx = Transaction()
    # Consumed: the next change to the cart (a new line) starts a fresh one without the pointer.
    tx.put("cart", {**model.cart_key(sub), model.ENTITY_ATTRIBUTE: model.Entity.CART,
                    "customer_id": sub, "lines": {}, "version": order["cart_version"] + 1,
                    CHECKED_OUT: order_id, "updated_at": now},
           condition="version = :v", vals={"v": order["cart_version"]})
    tx.put("order", {**order, **model.order_key(order_id),
                     **model.order_index_keys(sub, now, order_id),
                     # The sweeper's work list until the order is settled; the reviewers'
                     # while it is held (never swept: a held order waits for a person).
                     **(model.held_order_index_keys(now, order_id) if held
                        else model.pending_order_index_keys(now, order_id)),
                     model.ENTITY_ATTRIBUTE: model.Entity.ORDER},
           condition="attribute_not_exists(pk)")
    for line in order["lines"]:
        # `reserved` counts what unpaid orders hold, so a supply-chain feed that resets stock
        # keeps it back (runtime/feeds/inventory.py); settlement gives it up.
        tx.update(f"stock:{line['sku']}", model.inventory_key(line["sku"]),
                  "SET stock = stock - :qty ADD reserved :qty", condition="stock >= :qty",
                  vals={"qty": line["quantity"]})
    tx.put("idempotency", {
        **model.idempotency_key(sub, key), model.ENTITY_ATTRIBUTE: model.Entity.IDEMPOTENCY,
        "order_id": order_id, "request_hash": request_hash, "cart_hash": cart_hash,
        "created_at": now, model.TTL_ATTRIBUTE: epoch() + model.IDEMPOTENCY_TTL_SECONDS,
    }, condition="attribute_not_exists(pk)")
    event = model.EventName.ORDER_HELD_FOR_REVIEW if held else model.EventName.ORDER_PLACED
    tx.put(f"event:{event}", outbox.item(event, placed_event), condition="attribute_not_exists(pk)")
    if decision is not None:
        tx.put("decision", decision, condition="attribute_not_exists(pk)")
    tx.write()


def release_hold(order: dict, *, now: str, placed_event: dict, status_event: dict) -> dict:
    """ON_HOLD -> PENDING_PAYMENT in one transaction conditioned on the order still being held:
    it joins the pending-order index (so the sweeper settles it if payment never completes,
    timed from now) and OrderPlaced and OrderStatusChanged go to the outbox. The stock stays
    reserved. Returns the order as written; raises TransactionCancelled ("order")."""
    order_id = order["order_id"]
    pending = model.pending_order_index_keys(now, order_id)
    tx = Transaction()
    tx.update("order", model.order_key(order_id),
              "SET #status = :pending, updated_at = :now, #ipk = :ipk, #isk = :isk REMOVE payment_token",
              condition="#status = :held",
              names={"#status": "status", "#ipk": _PENDING_INDEX[0], "#isk": _PENDING_INDEX[1]},
              vals={"pending": _PENDING, "now": now, "held": model.OrderStatus.ON_HOLD.value,
                    "ipk": pending[_PENDING_INDEX[0]], "isk": pending[_PENDING_INDEX[1]]})
    tx.put(f"event:{model.EventName.ORDER_PLACED}", outbox.item(model.EventName.ORDER_PLACED, placed_event),
           condition="attribute_not_exists(pk)")
    tx.put(f"event:{model.EventName.ORDER_STATUS_CHANGED}",
           outbox.item(model.EventName.ORDER_STATUS_CHANGED, status_event), condition="attribute_not_exists(pk)")
    tx.write()
    kept = {k: v for k, v in order.items() if k != "payment_token"}
    return {**kept, **pending, "status": _PENDING, "updated_at": now}


def cancel_hold(order: dict, *, now: str, status_event: dict) -> dict:
    """ON_HOLD -> CANCELLED in one transaction conditioned on the order still being held: the
    reserved stock goes back and OrderStatusChanged goes to the outbox. Nothing was charged.
    Returns the order as written; raises TransactionCancelled ("order")."""
    order_id = order["order_id"]
    cancelled = model.OrderStatus.CANCELLED.value
    tx = Transaction()
    tx.update("order", model.order_key(order_id),
              "SET #status = :cancelled, updated_at = :now REMOVE #ipk, #isk, payment_token",
              condition="#status = :held",
              names={"#status": "status", "#ipk": _PENDING_INDEX[0], "#isk": _PENDING_INDEX[1]},
              vals={"cancelled": cancelled, "now": now, "held": model.OrderStatus.ON_HOLD.value})
    for line in order["lines"]:
        tx.update(f"stock:{line['sku']}", model.inventory_key(line["sku"]), "ADD stock :qty, reserved :held",
                  vals={"qty": line["quantity"], "held": -line["quantity"]})
    tx.put(f"event:{model.EventName.ORDER_STATUS_CHANGED}",
           outbox.item(model.EventName.ORDER_STATUS_CHANGED, status_event), condition="attribute_not_exists(pk)")
    tx.write()
    kept = {k: v for k, v in order.items() if k not in (*_PENDING_INDEX, "payment_token")}
    return {**kept, "status": cancelled, "updated_at": now}


def held_orders(limit: int) -> list[dict]:
    """Orders held for fraud review, oldest first (the held-order index; eventually
    consistent, so a just-reviewed order may still show with its new status)."""
    items, _ = dynamo.query(
        IndexName=model.GSI2.name,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": model.GSI2.partition_key},
        ExpressionAttributeValues=dynamo.values(pk=model.HELD_ORDERS_PARTITION), Limit=limit)
    return [o for o in items if o.get(model.ENTITY_ATTRIBUTE) == model.Entity.ORDER
            and o.get("status") == model.OrderStatus.ON_HOLD.value]


def settle(order: dict, *, status: str, payment: dict, events: list[tuple[str, dict]],
           release_stock: bool, restore_cart: bool) -> dict:
    """Move a PENDING_PAYMENT order to `status` with its payment record and events, in one
    transaction conditioned on it still being pending. `release_stock` gives back what the
    order reserved; `restore_cart` puts its lines back in the cart if the cart is still this
    order's tombstone. Returns the settled order; raises TransactionCancelled."""
    order_id, customer_id, now = order["order_id"], order["customer_id"], payment["updated_at"]
    tx = Transaction()
    # REMOVE: the order leaves the sparse pending-order index as it leaves PENDING_PAYMENT.
    tx.update("order", model.order_key(order_id),
              "SET #status = :new, updated_at = :now, payment = :payment REMOVE #ipk, #isk",
              condition="#status = :pending",
              names={"#status": "status", "#ipk": _PENDING_INDEX[0], "#isk": _PENDING_INDEX[1]},
              vals={"new": status, "now": now, "payment": payment, "pending": _PENDING})
    if restore_cart:
        tx.put("cart", {**model.cart_key(customer_id), model.ENTITY_ATTRIBUTE: model.Entity.CART,
                        "customer_id": customer_id,
                        "lines": {line["sku"]: {"product_id": line["product_id"],
                                                "name": line["name"],
                                                "quantity": line["quantity"],
                                                "unit_price": line["unit_price"]}
                                  for line in order["lines"]},
                        # The tombstone this replaces is version cart_version + 1.
                        "version": order["cart_version"] + 2, "updated_at": now},
               condition="#pointer = :order", names={"#pointer": CHECKED_OUT},
               vals={"order": order_id})
    tx.put("payment", {**model.payment_key(order_id), model.ENTITY_ATTRIBUTE: model.Entity.PAYMENT,
                       "order_id": order_id, **payment})
    for line in order["lines"]:
        # ADD: relative changes, exactly what the order reserved. Paid or not, the order no
        # longer holds a reservation; a failed one also gives its units back to stock.
        tx.update(f"stock:{line['sku']}", model.inventory_key(line["sku"]),
                  "ADD stock :qty, reserved :held" if release_stock else "ADD reserved :held",
                  vals={"held": -line["quantity"], **({"qty": line["quantity"]} if release_stock else {})})
    for detail_type, detail in events:
        tx.put(f"event:{detail_type}", outbox.item(detail_type, detail),
               condition="attribute_not_exists(pk)")
    tx.write()
    kept = {k: v for k, v in order.items() if k not in _PENDING_INDEX}
    return {**kept, "status": status, "updated_at": now, "payment": payment}


def list_for_customer(sub: str, limit: int, start_key: dict | None
                      ) -> tuple[list[dict], dict | None]:
    kwargs: dict = {
        "IndexName": model.GSI1.name,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
        "ExpressionAttributeNames": {"#pk": model.GSI1.partition_key, "#sk": model.GSI1.sort_key},
        "ExpressionAttributeValues": dynamo.values(pk=model.customer_orders_partition(sub),
                                                   prefix="ORDER#"),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start_key:
        kwargs["ExclusiveStartKey"] = start_key
    return dynamo.query(**kwargs)


def page_key(sub: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """(attributes, fixed values) of an order-page cursor for pagination.decode_cursor."""
    attributes = (model.PARTITION_KEY, model.SORT_KEY, model.GSI1.partition_key,
                  model.GSI1.sort_key)
    return attributes, {model.GSI1.partition_key: model.customer_orders_partition(sub)}


def _pending_in_shard(partition: str, cutoff: str, limit: int) -> tuple[list[dict], bool]:
    """Up to `limit` of one shard's pending orders created before `cutoff`, oldest first;
    and whether the shard has more."""
    index = model.GSI2
    found: list[dict] = []
    start = None
    while len(found) < limit:
        kwargs: dict = {
            "IndexName": index.name,
            # created_at#order_id < created_at: strictly older than the cutoff.
            "KeyConditionExpression": "#pk = :pk AND #sk < :cutoff",
            "ExpressionAttributeNames": {"#pk": index.partition_key, "#sk": index.sort_key},
            "ExpressionAttributeValues": dynamo.values(pk=partition, cutoff=cutoff),
            "Limit": limit - len(found),
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page, start = dynamo.query(**kwargs)
        found += page
        if not start:
            return found, False
    return found, True


def pending_before(cutoff: str, limit: int) -> tuple[list[dict], bool]:
    """The oldest `limit` orders still PENDING_PAYMENT created before `cutoff` (ISO time),
    across all shards of the pending-order index; and whether more are waiting."""
    candidates: list[dict] = []
    more = False
    for partition in model.pending_order_partitions():
        found, truncated = _pending_in_shard(partition, cutoff, limit)
        candidates += found
        more = more or truncated
    # The index is eventually consistent: a just-settled order may still show. Settling is
    # conditional on PENDING_PAYMENT, so such an order costs one provider read, never a change.
    candidates = [o for o in candidates if o.get(model.ENTITY_ATTRIBUTE) == model.Entity.ORDER
                  and o.get("status") == _PENDING]
    candidates.sort(key=lambda o: o[model.GSI2.sort_key])
    return candidates[:limit], more or len(candidates) > limit


def set_status_if(order_id: str, current: str, *, to: str, at: str, event_id: str,
                  event: dict | None = None, extra: dict | None = None) -> bool:
    """Compare-and-set the status from a fulfilment update; False when the order changed since
    read. With `event` (an OrderStatusChanged detail) the outbox item commits with it; `extra`
    attributes are set alongside."""
    names = {"#status": "status", **{f"#x{i}": k for i, k in enumerate(extra or {})}}
    vals = {"to": to, "now": now_iso(), "at": at, "id": event_id, "current": current,
            **{f"x{i}": v for i, v in enumerate((extra or {}).values())}}
    expression = ("SET #status = :to, updated_at = :now, status_changed_at = :at, status_event_id = :id"
                  + "".join(f", #x{i} = :x{i}" for i in range(len(extra or {}))))
    if event is not None:
        tx = Transaction()
        tx.update("order", model.order_key(order_id), expression, condition="#status = :current",
                  names=names, vals=vals)
        tx.put(f"event:{model.EventName.ORDER_STATUS_CHANGED}",
               outbox.item(model.EventName.ORDER_STATUS_CHANGED, event), condition="attribute_not_exists(pk)")
        try:
            tx.write()
        except TransactionCancelled as cancelled:
            if "order" in cancelled.failed:
                return False
            raise
        return True
    try:
        dynamo.dynamodb().update_item(
            TableName=dynamo.table_name(), Key=dynamo.to_item(model.order_key(order_id)),
            UpdateExpression=expression, ConditionExpression="#status = :current",
            ExpressionAttributeNames=names, ExpressionAttributeValues=dynamo.values(**vals))
    except ClientError as error:
        if dynamo.is_condition_failure(error):
            return False
        raise
    return True


def get_many(order_ids: list[str]) -> dict[str, dict]:
    """Orders by id in one BatchGetItem (strongly consistent); missing ones are absent."""
    found = dynamo.batch_get([model.order_key(o) for o in order_ids])
    return {item["order_id"]: item for item in found if item.get(model.ENTITY_ATTRIBUTE) == model.Entity.ORDER}
