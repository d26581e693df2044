"""Transactional outbox: an event is a table item written in the same transaction as the
change it describes; DynamoDB Streams -> EventBridge Pipes (filtered on entity=OUTBOX and
INSERT) publish it, so an event is never lost and never published for a rolled-back write."""

from __future__ import annotations

import uuid

from headless_commerce import model
from headless_commerce.runtime.common.clock import epoch, now_iso


def event(detail_type: str, detail: dict) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "version": model.EVENT_VERSION,
        "occurred_at": now_iso(),
        "source": model.EVENT_SOURCES[detail_type],
        "detail_type": detail_type,
        "detail": detail,
    }


def item(detail_type: str, detail: dict) -> dict:
    """The outbox item recording the event; repositories put it in the transaction of the
    change it describes."""
    body = event(detail_type, detail)
    return {
        **model.outbox_key(body["id"]),
        model.ENTITY_ATTRIBUTE: model.Entity.OUTBOX,
        model.TTL_ATTRIBUTE: epoch() + model.OUTBOX_TTL_SECONDS,
        **body,
    }
