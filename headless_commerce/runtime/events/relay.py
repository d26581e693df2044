"""Outbox relay: the EventBridge Pipes enrichment between the table's stream and the bus.

Pipes hands over a batch (a list) of DynamoDB stream records; each outbox INSERT becomes one
`{"source", "detail_type", "detail"}` entry, and the pipe's target maps `$.source`,
`$.detail_type` and `<$.detail>` onto PutEvents. The `detail` is the whole envelope, so
consumers see its id, version and occurred_at.

The pipe's filter already keeps only outbox INSERTs; anything else is skipped here too, so a
widened filter cannot republish orders or carts. An outbox item that breaks its contract is a
producer bug: raising fails the batch, the pipe retries (bisecting the batch) and finally
dead-letters it, instead of publishing an event every consumer would reject.
"""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.common.dynamo import from_item
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.events.contracts import ContractError, validate_event

ENVELOPE_FIELDS = ("id", "version", "occurred_at", "source", "detail_type", "detail")


def to_envelope(record: dict) -> dict | None:
    """The event an outbox INSERT record carries; None for any other record."""
    if not isinstance(record, dict) or record.get("eventName") != "INSERT":
        return None
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    item = from_item(image)
    if item.get(model.ENTITY_ATTRIBUTE) != model.Entity.OUTBOX:
        return None
    # Keep only the envelope: keys, entity and TTL are storage details of the outbox item.
    envelope = {name: item[name] for name in ENVELOPE_FIELDS if name in item}
    try:
        validate_event(envelope)
    except ContractError as error:
        logger.error("outbox item breaks its contract",
                     extra={"event_id": envelope.get("id"), "reason": error.reason})
        raise
    return envelope


def relay(records: list) -> list[dict]:
    entries = []
    for record in records:
        envelope = to_envelope(record)
        if envelope is not None:
            entries.append({"source": envelope["source"], "detail_type": envelope["detail_type"],
                            "detail": envelope})
    return entries


def handler(event: object, context: object = None) -> list[dict]:
    # Pipes passes a list; a direct stream trigger ({"Records": [...]}) is accepted too.
    records = event.get("Records", []) if isinstance(event, dict) else event
    return relay(records or [])
