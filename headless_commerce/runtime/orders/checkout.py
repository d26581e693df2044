"""OrderMx checkout: cart -> order, stock reserved, paid; one order per cart, exactly once
per Idempotency-Key.

DynamoDB calls on the first attempt: BatchGetItem (cart + idempotency record), BatchGetItem
(current SKU prices), TransactWriteItems placing the order (order + stock decrements +
idempotency record + OrderPlaced + the cart consumed), then after the payment provider one
TransactWriteItems settling the order (orders/transitions.py). An order whose invocation died
and whose client never retried is settled later by the sweeper (orders/sweeper.py).

One cart, one order: the placing transaction is conditioned on the cart version the order was
priced from and replaces the cart with an empty tombstone naming the order. Of concurrent
checkouts of one cart with different keys (a double click, two tabs) exactly one places an
order; the others get CartAlreadyCheckedOut with its id. A declined payment puts the lines
back in the cart, so the shopper can pay another way with a new key.

Fraud: before anything is reserved the order is screened (runtime/fraud/; the risk scorer
unless FRAUD_SCREEN=off). Approve: placed and paid as above. Review: placed ON_HOLD in the same
transaction shape (stock reserved, cart consumed, OrderHeldForReview instead of OrderPlaced)
and not charged until a reviewer releases it (runtime/fraud/review.py). Deny: nothing is
written but the decision record, and the client gets the generic OrderRejected. The decision
record (score, reasons) commits in the order's transaction. A screen that raises holds the
order for review; it never fails the checkout and never approves.

Idempotency: the key binds the request body and the cart it consumed. A retry with the same
key and body returns the same order and status without charging again; a different body, or
a different non-empty cart, is refused (IdempotencyKeyReused). Hand-written rather than
Powertools idempotency: the record must commit in the order's own transaction.
"""

from __future__ import annotations

import time
import uuid

from headless_commerce import model
from headless_commerce.runtime.catalog import repository as catalog
from headless_commerce.runtime.common import domain_errors as errors
from headless_commerce.runtime.common.clock import age_seconds, now_iso
from headless_commerce.runtime.common.http import Response
from headless_commerce.runtime.common.idempotency import fingerprint
from headless_commerce.runtime.common.logging import count, logger
from headless_commerce.runtime.common.transaction import TransactionCancelled
from headless_commerce.runtime.fraud import repository as fraud_repository
from headless_commerce.runtime.fraud import scorer
from headless_commerce.runtime.fraud.screen import FraudContext, FraudDecision, FraudScreen, Outcome
from headless_commerce.runtime.orders import repository as orders
from headless_commerce.runtime.orders import transitions
from headless_commerce.runtime.orders.views import order_view
from headless_commerce.runtime.payments.provider import (
    PaymentProvider,
    get_provider,
    release_orphaned_authorization,
)
from headless_commerce.runtime.routes import IDEMPOTENCY_HEADER

_PENDING = model.OrderStatus.PENDING_PAYMENT.value
_HELD = model.OrderStatus.ON_HOLD.value
# One metric per fraud outcome (the dashboard's fraud widget).
FRAUD_METRICS = {Outcome.APPROVE: "FraudApproved", Outcome.REVIEW: "FraudReview", Outcome.DENY: "FraudDenied"}
# A pending order older than this has lost its checkout invocation (timeout, crash); a retry
# then resumes it. The provider's per-order idempotency keeps that from charging twice.
RESUME_AFTER_S = model.CHECKOUT_RESUME_AFTER_S
_POLL_DELAYS_S = (0.05, 0.1, 0.2, 0.4, 0.8)


def _cart_hash(lines: dict) -> str:
    return fingerprint({sku: line["quantity"] for sku, line in lines.items()})


def _outcome(order: dict) -> Response:
    """The answer for an order's state; a replay gives the same answer."""
    if order["status"] == _PENDING:
        raise errors.CheckoutInProgress(order_view(order))
    if order["status"] == model.OrderStatus.PAYMENT_FAILED.value:
        raise errors.PaymentDeclined(order_view(order))
    return Response(201, order_view(order))


def _pay(order: dict, token: str, provider: PaymentProvider) -> Response:
    try:
        auth = provider.authorize(order_id=order["order_id"], amount=order["total"],
                                  currency=order["currency"], token=token)
    except Exception:
        # The order stays PENDING_PAYMENT with stock reserved; a retry with the same key
        # resumes it after RESUME_AFTER_S, and without a retry the sweeper settles it.
        logger.exception("payment provider failed", extra={"order_id": order["order_id"]})
        raise errors.PaymentUnavailable(RESUME_AFTER_S) from None
    settled, applied = transitions.settle_if_pending(order, auth)
    if applied and not auth.approved:
        count("PaymentDeclines")
    if auth.approved and settled["status"] == model.OrderStatus.PAYMENT_FAILED.value:
        # The sweeper (or a failure webhook) failed the order and released its stock while this
        # resumed call was authorizing: release the now orphaned hold on the card.
        release_orphaned_authorization(provider, auth)
    return _outcome(settled)


def _replay(record: dict, request_hash: str, cart: dict | None, token: str,
            provider: PaymentProvider) -> Response:
    if record["request_hash"] != request_hash:
        raise errors.IdempotencyKeyReused(IDEMPOTENCY_HEADER)
    lines = (cart or {}).get("lines") or {}
    if lines and _cart_hash(lines) != record["cart_hash"]:
        raise errors.IdempotencyKeyReused(IDEMPOTENCY_HEADER)
    order = orders.get(record["order_id"])
    for delay in _POLL_DELAYS_S:
        if order["status"] != _PENDING:
            break
        if age_seconds(order["created_at"]) > RESUME_AFTER_S:
            return _pay(order, token, provider)
        time.sleep(delay)
        order = orders.get(record["order_id"])
    return _outcome(order)


def _price(lines: dict) -> list[dict]:
    """Order lines at today's catalog prices (never the cart's snapshot)."""
    current = catalog.get_skus(list(lines))
    missing = sorted(s for s in lines if s not in current)
    if missing:
        raise errors.SkuUnavailable(missing)
    return [{"sku": sku, "product_id": current[sku]["product_id"], "name": current[sku]["name"],
             "quantity": line["quantity"], "unit_price": current[sku]["price_amount"]}
            for sku, line in sorted(lines.items())]


def _already_checked_out(cart: dict | None) -> errors.DomainError:
    """Why the cart could not be consumed: another checkout took it, or the shopper changed it."""
    count("CheckoutConflicts")
    order_id = (cart or {}).get(orders.CHECKED_OUT)
    return errors.CartAlreadyCheckedOut(order_id) if order_id else errors.CartChanged()


def _screen(screen: FraudScreen, context: FraudContext) -> FraudDecision:
    try:
        return screen(context)
    except Exception:
        # Fail safe: an order nobody could screen waits for a person, it is never approved.
        logger.exception("fraud screen failed; holding the order for review")
        return FraudDecision(outcome=Outcome.REVIEW, reasons=("error:screen",))


def _deny(audit: dict, decision: FraudDecision) -> errors.DomainError:
    try:
        fraud_repository.put_decision(audit)
    except Exception:
        logger.exception("could not store a fraud denial", extra={"attempt_id": audit["attempt_id"]})
    # The reasons go to the audit record and the log, never to the client.
    logger.info("order denied by the fraud screen",
                extra={"attempt_id": audit["attempt_id"], "score": decision.score, "reasons": decision.reasons})
    return errors.OrderRejected()


def checkout(sub: str, email: str | None, key: str, body: dict, *,
             provider: PaymentProvider | None = None, screen: FraudScreen | None = None,
             source_ip: str | None = None) -> Response:
    provider = provider or get_provider()
    screen = screen or scorer.from_environment()
    request_hash = fingerprint(body)
    cart, record = orders.checkout_state(sub, key)
    if record is not None:
        return _replay(record, request_hash, cart, body["payment_token"], provider)

    lines = (cart or {}).get("lines") or {}
    if not lines:
        if cart and cart.get(orders.CHECKED_OUT):
            raise _already_checked_out(cart)
        raise errors.CartEmpty()
    order_lines = _price(lines)
    currency = model.CURRENCY
    total = sum(line["unit_price"] * line["quantity"] for line in order_lines)
    address = body.get("shipping_address")
    order_id = uuid.uuid4().hex
    decision = _screen(screen, FraudContext(
        customer_id=sub, email=email, amount=total, currency=currency, lines=tuple(order_lines),
        shipping_address=address, billing_address=body.get("billing_address"), source_ip=source_ip,
        payment_token=body["payment_token"], attempt_key=f"{sub}:{key}"))
    count(FRAUD_METRICS[decision.outcome])
    now = now_iso()
    audit = fraud_repository.decision_item(
        order_id, customer_id=sub, order_id=order_id, decided_at=now, outcome=decision.outcome.value,
        score=decision.score, reasons=decision.reasons, details=decision.details, screen=decision.screen,
        amount=total, currency=currency)
    if decision.outcome is Outcome.DENY:
        raise _deny({**audit, "order_id": None}, decision)
    held = decision.outcome is Outcome.REVIEW
    status = _HELD if held else _PENDING

    order = {
        "order_id": order_id, "customer_id": sub, "status": status,
        "lines": order_lines, "total": total, "currency": currency, "shipping_address": address,
        "billing_address": body.get("billing_address"),
        # The cart version this order consumed (a declined payment restores the cart from it).
        "cart_version": cart["version"], "created_at": now, "updated_at": now,
        # A held order is paid when a reviewer releases it, with the token the shopper gave
        # (a provider token, never card data); removed on release or rejection.
        "payment_token": body["payment_token"] if held else None,
    }
    placed = {"order_id": order["order_id"], "customer_id": sub, "status": status,
              "total": total, "currency": currency,
              "lines": [{"sku": line["sku"], "quantity": line["quantity"],
                         "unit_price": line["unit_price"]} for line in order_lines]}
    try:
        orders.place(order, key=key, request_hash=request_hash, cart_hash=_cart_hash(lines),
                     placed_event=placed, decision=audit)
    except TransactionCancelled as cancelled:
        if "idempotency" in cancelled.failed:
            # A concurrent request with the same key won; answer as its replay.
            count("CheckoutConflicts")
            return _replay(orders.idempotency_record(sub, key), request_hash, cart,
                           body["payment_token"], provider)
        if "cart" in cancelled.failed:
            # Checked before stock: the winner's own decrement may be what ran out.
            raise _already_checked_out(orders.get_cart(sub)) from None
        short = cancelled.any("stock:")
        if short:
            count("OutOfStock")
            raise errors.OutOfStock(short) from None
        raise
    if held:
        count("OrdersHeld")
        return Response(201, order_view(order))
    count("OrdersPlaced")
    return _pay(order, body["payment_token"], provider)
