"""Payment outcome -> order status, exactly once.

Every transition is one transaction conditioned on the order still being PENDING_PAYMENT, so
checkout, a retried checkout and a payment webhook can all race to settle an order and only
one of them changes it (and, on failure, releases the reserved stock). The same transaction
removes the order's pending-order index entry (model.pending_order_index_keys), so the sweeper
only ever finds orders that are still pending.
"""

from __future__ import annotations

import random
import time

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime.common import dynamo, outbox, repositories
from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.payments.provider import Authorization

_PENDING = model.OrderStatus.PENDING_PAYMENT.value
_CONFLICT_RETRIES = 5


def _payment_record(order: dict, auth: Authorization, now: str) -> dict:
    return {"provider": auth.provider, "reference": auth.id,
            "status": "authorized" if auth.approved else "declined",
            "decline_code": auth.decline_code, "amount": auth.amount, "currency": auth.currency,
            "updated_at": now}


_PENDING_INDEX = (model.GSI2.partition_key, model.GSI2.sort_key)


def _settled(order: dict, auth: Authorization) -> dict:
    now = now_iso()
    new_status = (model.OrderStatus.CONFIRMED if auth.approved
                  else model.OrderStatus.PAYMENT_FAILED).value
    kept = {k: v for k, v in order.items() if k not in _PENDING_INDEX}
    return {**kept, "status": new_status, "updated_at": now,
            "payment": _payment_record(order, auth, now)}


def _items(order: dict, settled: dict, auth: Authorization, cart_version: int | None
           ) -> list[dict]:
    now, new_status, payment = settled["updated_at"], settled["status"], settled["payment"]
    order_id, customer_id = order["order_id"], order["customer_id"]
    items: list[dict] = [{"Update": {
        "Key": dynamo.to_item(model.order_key(order_id)),
        # REMOVE: the order leaves the sparse pending-order index as it leaves PENDING_PAYMENT.
        "UpdateExpression": ("SET #status = :new, updated_at = :now, payment = :payment "
                             "REMOVE #ipk, #isk"),
        "ConditionExpression": "#status = :pending",
        "ExpressionAttributeNames": {"#status": "status", "#ipk": _PENDING_INDEX[0],
                                     "#isk": _PENDING_INDEX[1]},
        "ExpressionAttributeValues": dynamo.values(new=new_status, now=now, payment=payment,
                                                   pending=_PENDING),
    }}, {"Put": {"Item": dynamo.to_item({
        **model.payment_key(order_id), model.ENTITY_ATTRIBUTE: model.Entity.PAYMENT,
        "order_id": order_id, **payment})}}]
    payment_event = model.EventName.PAYMENT_AUTHORIZED if auth.approved else model.EventName.PAYMENT_FAILED
    items.append(outbox.outbox_put(payment_event, {
        "order_id": order_id, "customer_id": customer_id, "amount": auth.amount,
        "currency": auth.currency, "provider": auth.provider, "decline_code": auth.decline_code}))
    items.append(outbox.outbox_put(model.EventName.ORDER_STATUS_CHANGED, {
        "order_id": order_id, "customer_id": customer_id, "from": _PENDING, "to": new_status}))
    if not auth.approved:
        # Release exactly what the order reserved; ADD, because it is a relative change.
        for line in order["lines"]:
            items.append({"Update": {
                "Key": dynamo.to_item(model.inventory_key(line["sku"])),
                "UpdateExpression": "ADD stock :qty",
                "ExpressionAttributeValues": dynamo.values(qty=line["quantity"]),
            }})
    elif cart_version is not None:
        # Clear the cart only if it is still the one that was checked out.
        items.append({"Delete": {
            "Key": dynamo.to_item(model.cart_key(customer_id)),
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": dynamo.values(v=cart_version),
        }})
    return items


def settle(order: dict, auth: Authorization, cart_version: int | None = None) -> dict:
    """Apply the authorization outcome if the order is still pending; return the order."""
    return settle_if_pending(order, auth, cart_version)[0]


def settle_if_pending(order: dict, auth: Authorization, cart_version: int | None = None
                      ) -> tuple[dict, bool]:
    """settle(), also telling whether this call applied it (False: someone settled it first,
    and the order returned is theirs)."""
    for attempt in range(_CONFLICT_RETRIES):
        settled = _settled(order, auth)
        try:
            dynamo.transact(_items(order, settled, auth, cart_version))
            return settled, True
        except ClientError as error:
            codes = dynamo.cancellation_codes(error)
            if codes is None:
                raise
            if codes and codes[0] == "ConditionalCheckFailed":
                return repositories.get_order(order["order_id"]), False  # someone settled it first
            if auth.approved and codes and codes[-1] == "ConditionalCheckFailed":
                cart_version = None  # the shopper changed the cart meanwhile: keep it
                continue
            if "TransactionConflict" not in codes:
                raise
            time.sleep(random.uniform(0, 0.05 * 2 ** attempt))
    raise RuntimeError("could not settle order after repeated transaction conflicts")
