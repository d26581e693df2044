"""Shopper interactions (ProductViewed, CartItemAdded) for recommendations, published from the
storefront straight to the commerce bus.

Off the request path: the page is sent first and the PutEvents call runs afterwards as the
response's background task, in a worker thread (boto3 blocks); a failure is logged and dropped,
never shown to the shopper. The shopper is named by an opaque random `visitor_id` kept in the
session, never by the session id (the cookie's secret) or an e-mail address.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from datetime import UTC, datetime

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from headless_commerce import model
from headless_commerce.runtime.storefront import aws

log = logging.getLogger("headless_commerce.storefront")
VISITOR_KEY = "visitor_id"


def visitor_id(session) -> str:
    """The session's opaque shopper id for recommendations (created on first use)."""
    found = session.get(VISITOR_KEY)
    if not found:
        session[VISITOR_KEY] = found = secrets.token_urlsafe(24)     # 32 URL-safe characters
    return found


def envelope(detail_type: str, detail: dict) -> dict:
    """An event in the contracts' envelope (runtime/common/contracts/; the container ships
    without them, so tests/runtime/test_events_contracts.py checks what this builds)."""
    event = {"id": str(uuid.uuid4()), "version": model.EVENT_VERSION,
             "occurred_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
             "source": model.DIRECT_EVENT_SOURCES[detail_type], "detail_type": detail_type,
             "detail": {k: v for k, v in detail.items() if v is not None}}
    return event


def product_viewed(*, product_id: str, visitor: str, customer_id: str | None) -> dict:
    return envelope(model.EventName.PRODUCT_VIEWED,
                    {"product_id": product_id, "visitor_id": visitor, "customer_id": customer_id})


def cart_item_added(*, product_id: str, sku: str, quantity: int, visitor: str, customer_id: str | None) -> dict:
    return envelope(model.EventName.CART_ITEM_ADDED, {"product_id": product_id, "sku": sku, "quantity": quantity,
                                                      "visitor_id": visitor, "customer_id": customer_id})


class Interactions:
    """Publishes to `bus_name` (None: publishing is off, e.g. a storefront without a bus)."""

    def __init__(self, bus_name: str | None, client=None) -> None:
        self.bus_name = bus_name
        self._client = client

    @property
    def enabled(self) -> bool:
        return bool(self.bus_name)

    def _events(self):
        if self._client is None:
            self._client = aws.client("events")
        return self._client

    def put(self, event: dict) -> None:
        try:
            reply = self._events().put_events(Entries=[{
                "EventBusName": self.bus_name, "Source": event["source"], "DetailType": event["detail_type"],
                "Detail": json.dumps(event)}])
            if reply.get("FailedEntryCount"):
                log.warning("interaction event refused: %s", reply["Entries"][0].get("ErrorCode"))
        except Exception:    # a lost signal must never reach the shopper
            log.exception("publishing a %s event failed", event["detail_type"])

    def after_response(self, event: dict) -> BackgroundTask | None:
        """The background task that publishes `event` once the page has been sent."""
        if not self.enabled:
            return None
        return BackgroundTask(run_in_threadpool, self.put, event)
