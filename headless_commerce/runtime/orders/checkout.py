"""OrderMx checkout: cart -> order, stock reserved, paid, exactly once per Idempotency-Key.

DynamoDB calls on the first attempt: BatchGetItem (cart + idempotency record), BatchGetItem
(current SKU prices), TransactWriteItems (order + stock decrements + idempotency record +
OrderPlaced), then after the payment provider one TransactWriteItems settling the order.
An order whose invocation died and whose client never retried is settled later by the sweeper
(orders/sweeper.py), found through the sparse pending-order index set on the order here.

Idempotency: the key binds the request body and the cart it consumed. A retry with the same
key and body returns the same order and status code without charging again; a different
body, or a different non-empty cart, is refused with 422 idempotency_key_reused. (The cart
is emptied by a successful checkout, so an empty cart on retry is the normal case.)
"""

from __future__ import annotations

import random
import time
import uuid

from botocore.exceptions import ClientError

from headless_commerce import model
from headless_commerce.runtime.common import dynamo, idempotency, outbox, repositories
from headless_commerce.runtime.common.clock import age_seconds, now_iso
from headless_commerce.runtime.common.errors import ApiError, conflict
from headless_commerce.runtime.common.http import Response
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.fraud.screen import FraudContext, FraudScreen, allow_all
from headless_commerce.runtime.orders import transitions
from headless_commerce.runtime.orders.views import order_view
from headless_commerce.runtime.payments.provider import (
    PaymentProvider,
    get_provider,
    release_orphaned_authorization,
)
from headless_commerce.runtime.routes import FUNCTIONS, IDEMPOTENCY_HEADER

_PENDING = model.OrderStatus.PENDING_PAYMENT.value
# A pending order older than one checkout invocation can live has lost its invocation
# (timeout, crash); a retry then resumes it. The provider's per-order idempotency keeps
# that from charging twice.
RESUME_AFTER_S = FUNCTIONS["checkout"].timeout_s
_POLL_DELAYS_S = (0.05, 0.1, 0.2, 0.4, 0.8)
_CONFLICT_RETRIES = 4


def _cart_hash(lines: dict) -> str:
    return idempotency.fingerprint({sku: line["quantity"] for sku, line in lines.items()})


def _outcome(order: dict) -> Response:
    """The response for an order's state; a replay renders the same thing."""
    view = order_view(order)
    if order["status"] == _PENDING:
        return Response(409, {"error": {"code": "checkout_in_progress",
                                        "message": "This checkout is still being processed",
                                        "field": None}, "order": view}, {"Retry-After": "1"})
    if order["status"] == model.OrderStatus.PAYMENT_FAILED.value:
        return Response(402, {"error": {"code": "payment_declined",
                                        "message": "The payment was declined",
                                        "field": "payment_token"}, "order": view})
    return Response(201, view)


def _pay(order: dict, token: str, provider: PaymentProvider, cart_version: int | None) -> Response:
    try:
        auth = provider.authorize(order_id=order["order_id"], amount=order["total"],
                                  currency=order["currency"], token=token)
    except Exception:
        # The order stays PENDING_PAYMENT with stock reserved; a retry with the same key
        # resumes it after RESUME_AFTER_S, and without a retry the sweeper settles it.
        logger.exception("payment provider failed", extra={"order_id": order["order_id"]})
        return Response(503, {"error": {"code": "payment_unavailable",
                                        "message": "Payment could not be processed; retry",
                                        "field": None}}, {"Retry-After": str(RESUME_AFTER_S)})
    settled = transitions.settle(order, auth, cart_version)
    if auth.approved and settled["status"] == model.OrderStatus.PAYMENT_FAILED.value:
        # The sweeper (or a failure webhook) failed the order and released its stock while this
        # resumed call was authorizing: release the now orphaned hold on the card.
        release_orphaned_authorization(provider, auth)
    return _outcome(settled)


def _reused() -> ApiError:
    return ApiError(422, "idempotency_key_reused",
                    f"This {IDEMPOTENCY_HEADER} was already used for a different request",
                    IDEMPOTENCY_HEADER)


def _replay(record: dict, request_hash: str, cart: dict | None, token: str,
            provider: PaymentProvider) -> Response:
    if record["request_hash"] != request_hash:
        raise _reused()
    lines = (cart or {}).get("lines") or {}
    if lines and _cart_hash(lines) != record["cart_hash"]:
        raise _reused()
    order = repositories.get_order(record["order_id"])
    for delay in _POLL_DELAYS_S:
        if order["status"] != _PENDING:
            break
        if age_seconds(order["created_at"]) > RESUME_AFTER_S:
            return _pay(order, token, provider, order.get("cart_version"))
        time.sleep(delay)
        order = repositories.get_order(record["order_id"])
    return _outcome(order)


def _price(lines: dict) -> list[dict]:
    current = repositories.get_skus(list(lines))
    missing = sorted(s for s in lines if s not in current)
    if missing:
        raise conflict("sku_unavailable", "No longer sold: " + ", ".join(missing), "sku",
                       {"skus": missing})
    return [{"sku": sku, "product_id": current[sku]["product_id"], "name": current[sku]["name"],
             "quantity": line["quantity"], "unit_price": current[sku]["price_amount"]}
            for sku, line in sorted(lines.items())]


def _place_items(order: dict, sub: str, key: str, request_hash: str, cart_hash: str) -> list[dict]:
    items = [{"Put": {"Item": dynamo.to_item(order),
                      "ConditionExpression": "attribute_not_exists(pk)"}}]
    for line in order["lines"]:
        items.append({"Update": {
            "Key": dynamo.to_item(model.inventory_key(line["sku"])),
            "UpdateExpression": "SET stock = stock - :qty",
            "ConditionExpression": "stock >= :qty",
            "ExpressionAttributeValues": dynamo.values(qty=line["quantity"]),
        }})
    items.append(idempotency.record_put(sub, key, order_id=order["order_id"],
                                        request_hash=request_hash, cart_hash=cart_hash))
    items.append(outbox.outbox_put(model.EventName.ORDER_PLACED, {
        "order_id": order["order_id"], "customer_id": sub, "status": _PENDING,
        "total": order["total"], "currency": order["currency"],
        "lines": [{"sku": l["sku"], "quantity": l["quantity"], "unit_price": l["unit_price"]}
                  for l in order["lines"]]}))
    return items


def checkout(sub: str, email: str | None, key: str, body: dict, *,
             provider: PaymentProvider | None = None, screen: FraudScreen = allow_all) -> Response:
    provider = provider or get_provider()
    request_hash = idempotency.fingerprint(body)
    found = dynamo.batch_get([model.cart_key(sub), model.idempotency_key(sub, key)])
    cart = next((i for i in found if i.get("entity") == model.Entity.CART), None)
    record = next((i for i in found if i.get("entity") == model.Entity.IDEMPOTENCY), None)
    if record is not None:
        return _replay(record, request_hash, cart, body["payment_token"], provider)

    lines = (cart or {}).get("lines") or {}
    if not lines:
        raise conflict("cart_empty", "The cart is empty")
    order_lines = _price(lines)
    currency = model.CURRENCY
    total = sum(l["unit_price"] * l["quantity"] for l in order_lines)
    address = body.get("shipping_address")
    decision = screen(FraudContext(customer_id=sub, email=email, amount=total, currency=currency,
                                   lines=tuple(order_lines), shipping_address=address))
    if not decision.allow:
        logger.info("order rejected by fraud screen", extra={"reason": decision.reason})
        raise ApiError(422, "order_rejected", "The order could not be accepted")

    now = now_iso()
    order_id = uuid.uuid4().hex
    cart_version = cart["version"]
    order = {
        **model.order_key(order_id), **model.order_index_keys(sub, now, order_id),
        # In the sparse pending-order index until settled (the sweeper's work list).
        **model.pending_order_index_keys(now, order_id),
        model.ENTITY_ATTRIBUTE: model.Entity.ORDER,
        "order_id": order_id, "customer_id": sub, "status": _PENDING, "lines": order_lines,
        "total": total, "currency": currency, "shipping_address": address,
        # Whoever settles the order (this call, a resumed retry, the sweeper) clears the cart
        # only if it is still this one.
        "cart_version": cart_version,
        "created_at": now, "updated_at": now,
    }
    items = _place_items(order, sub, key, request_hash, _cart_hash(lines))
    for attempt in range(_CONFLICT_RETRIES):
        try:
            dynamo.transact(items)
            break
        except ClientError as error:
            codes = dynamo.cancellation_codes(error)
            if codes is None:
                raise
            if codes[-2:-1] == ["ConditionalCheckFailed"]:
                # A concurrent request with the same key won; answer as its replay.
                record = dynamo.get(model.idempotency_key(sub, key))
                return _replay(record, request_hash, cart, body["payment_token"], provider)
            short = [l["sku"] for l, code in zip(order["lines"], codes[1:]) if code == "ConditionalCheckFailed"]
            if short:
                raise conflict("out_of_stock", "Not enough stock for: " + ", ".join(short),
                               "sku", {"skus": short}) from None
            if "TransactionConflict" not in codes or attempt == _CONFLICT_RETRIES - 1:
                raise
            time.sleep(random.uniform(0, 0.05 * 2 ** attempt))
    return _pay(order, body["payment_token"], provider, cart_version)
