"""Settle orders stuck in PENDING_PAYMENT, so their stock does not stay reserved forever.

Checkout places an order PENDING_PAYMENT (stock reserved) and then settles it from the payment
provider's answer. If that invocation dies, or the provider call fails, and the client never
retries with its Idempotency-Key, nothing else would ever settle the order. This scheduled
function does:

- It finds pending orders through the sparse pending-order index (GSI2, one partition per
  shard: model.pending_order_index_keys), never a scan: only orders still PENDING_PAYMENT carry
  the index keys, because the settling transaction removes them.
- For each order older than the timeout (oldest first, at most MAX_ORDERS_PER_RUN per run) it
  asks the provider what became of the order's authorization, read-only
  (PaymentProvider.find_authorization: no new charge), and settles through the same transition
  checkout and the webhook use (transitions.settle_if_pending): authorized -> CONFIRMED, no or a
  declined authorization -> PAYMENT_FAILED with the reserved stock released, with the same
  outbox events. The transition is conditioned on the order still being PENDING_PAYMENT, so a
  racing checkout retry or webhook settles it at most once between them (the stock release is
  inside that transaction); the loser changes nothing.
- A checkout retry that authorizes while the sweeper fails the order voids its authorization
  (checkout._pay), so a failed order never keeps a hold on the card.

The timeout must outlast checkout's resume window (model.CHECKOUT_RESUME_AFTER_S, which the
checkout function's Lambda timeout stays below), otherwise the sweeper could fail an order whose
first checkout is still talking to the provider.

Environment: TABLE_NAME, PAYMENT_PROVIDER, PAYMENT_SECRET_ARN (Stripe), and
PENDING_ORDER_TIMEOUT_MINUTES (whole minutes, default 15).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from headless_commerce import model
from headless_commerce.runtime import settings
from headless_commerce.runtime.common.clock import to_iso
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.orders import repository, transitions
from headless_commerce.runtime.payments.provider import (
    Authorization,
    PaymentProvider,
    get_provider,
)

DEFAULT_TIMEOUT_MINUTES = 15
MAX_ORDERS_PER_RUN = 100
# The payment record's decline code of an order the provider never authorized.
NO_AUTHORIZATION = "payment_timeout"
# Stop starting new orders when less than this is left of the invocation: one provider call
# (with its own retries) and one settle must still fit.
RESERVE_MS = 20_000


def _check_timeout(older_than: timedelta) -> None:
    if older_than.total_seconds() <= model.CHECKOUT_RESUME_AFTER_S:
        raise ValueError(
            f"pending-order timeout {older_than} must be longer than a checkout's "
            f"{model.CHECKOUT_RESUME_AFTER_S} s resume window, or the sweeper would race "
            "checkouts in flight")


def timeout_from_env() -> timedelta:
    """PENDING_ORDER_TIMEOUT_MINUTES as a timedelta; ValueError naming the variable if bad."""
    raw = settings.pending_order_timeout_minutes()
    if raw is None:
        return timedelta(minutes=DEFAULT_TIMEOUT_MINUTES)
    try:
        minutes = int(raw.strip())
    except ValueError:
        minutes = 0
    if minutes < 1:
        raise ValueError(f"{settings.PENDING_ORDER_TIMEOUT_MINUTES} must be a whole number of minutes >= 1 "
                         f"(default {DEFAULT_TIMEOUT_MINUTES}); got {raw!r}")
    older_than = timedelta(minutes=minutes)
    _check_timeout(older_than)
    return older_than


def _settle(order: dict, provider: PaymentProvider) -> str:
    order_id = order["order_id"]
    auth = provider.find_authorization(order_id)
    if auth is None:
        auth = Authorization(id="", order_id=order_id, approved=False, amount=order["total"],
                             currency=order["currency"], provider=provider.name,
                             decline_code=NO_AUTHORIZATION)
    settled, applied = transitions.settle_if_pending(order, auth)
    if not applied:
        return "already_settled"
    return "confirmed" if settled["status"] == model.OrderStatus.CONFIRMED.value else "failed"


def sweep(now: datetime, older_than: timedelta, *, limit: int = MAX_ORDERS_PER_RUN,
          provider: PaymentProvider | None = None,
          time_left_ms: Callable[[], int] | None = None) -> dict:
    """Settle up to `limit` orders pending since before `now - older_than`; return counts:
    found, confirmed, failed, already_settled (someone else settled it first), deferred (the
    provider could not answer: left for the next run), and more (work left for the next run)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    _check_timeout(older_than)
    provider = provider or get_provider()
    cutoff = to_iso(now - older_than)
    orders, more = repository.pending_before(cutoff, limit)
    counts = {"found": len(orders), "confirmed": 0, "failed": 0, "already_settled": 0,
              "deferred": 0, "more": more}
    for position, order in enumerate(orders):
        if time_left_ms is not None and time_left_ms() < RESERVE_MS:
            counts["more"] = True
            logger.warning("sweep stopped before the invocation timeout",
                           extra={"left_unprocessed": len(orders) - position})
            break
        context = {"order_id": order["order_id"], "created_at": order["created_at"]}
        try:
            outcome = _settle(order, provider)
        except Exception:
            logger.exception("could not settle a stuck order; retried next run", extra=context)
            counts["deferred"] += 1
            continue
        counts[outcome] += 1
        logger.info("stuck order swept", extra={**context, "outcome": outcome})
    return counts


def handler(event: object, context: object = None) -> dict:
    """EventBridge schedule. Reads PENDING_ORDER_TIMEOUT_MINUTES before touching any order."""
    older_than = timeout_from_env()
    time_left = getattr(context, "get_remaining_time_in_millis", None)
    counts = sweep(datetime.now(UTC), older_than, time_left_ms=time_left)
    settled = counts["confirmed"] + counts["failed"] + counts["already_settled"]
    if counts["deferred"] and not settled:
        # Nothing could be settled: the provider is down or misconfigured (key, secret). Fail
        # the invocation so it is retried and, if it persists, reaches the dead-letter queue.
        logger.error("order sweep settled nothing", extra=counts)
        raise RuntimeError(f"order sweep could not settle any of {counts['deferred']} stuck "
                           "orders: the payment provider failed for each")
    logger.info("order sweep finished", extra=counts)
    return counts
