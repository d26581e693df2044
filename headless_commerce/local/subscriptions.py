"""The deployed event wiring, as local mode needs it: everything comes from the table the
CDK constructs read too (runtime/events/subscriptions.py)."""

from __future__ import annotations

from dataclasses import dataclass

from headless_commerce.runtime.events.subscriptions import (
    MARKETING_LIFECYCLE,
    OMS_CONSUMER,
    OMS_DEDUPLICATION_ID_PATH,
    OMS_GROUP_ID_PATH,
    OMS_INPUT_PATH,
    OUTBOX_FILTER,
    RECOMMENDATION_SIGNALS,
    RELAY_HANDLER,
    RULE_CONSUMERS,
    STOREFRONT_CACHE,
    Consumer,
)

# Every rule -> queue -> handler subscription local mode runs: the commerce stack's, the
# marketing lifecycle messages, the web tier's (the storefront cache invalidation) and the fallback
# ranking's order counts.
LOCAL_RULE_CONSUMERS: tuple[Consumer, ...] = (*RULE_CONSUMERS, MARKETING_LIFECYCLE, STOREFRONT_CACHE,
                                              RECOMMENDATION_SIGNALS)

__all__ = [
    "LOCAL_RULE_CONSUMERS",
    "OMS_CONSUMER",
    "OMS_HANDOFF",
    "OUTBOX_FILTER",
    "RELAY_HANDLER",
    "RULE_CONSUMERS",
    "Consumer",
    "event_pattern",
    "matches",
]


def event_pattern(consumer: Consumer) -> dict:
    """The EventBridge rule pattern of a consumer (EventSubscription's)."""
    pattern: dict = {"detail-type": list(consumer.detail_types)}
    if consumer.sources:
        pattern["source"] = list(consumer.sources)
    return pattern


@dataclass(frozen=True)
class OmsHandoff:
    """OrderPlaced rule -> buffer queue -> pipe -> FIFO queue -> OMS consumer."""

    consumer: Consumer = OMS_CONSUMER
    # The pipe's target parameters (JSON paths over the buffer's SQS record) and input template.
    group_id_path: str = OMS_GROUP_ID_PATH
    deduplication_id_path: str = OMS_DEDUPLICATION_ID_PATH
    input_path: str = OMS_INPUT_PATH

    @property
    def handler(self) -> str:
        return self.consumer.handler

    def event_pattern(self) -> dict:
        return event_pattern(self.consumer)


OMS_HANDOFF = OmsHandoff()


def matches(pattern: dict, record: object) -> bool:
    """An EventBridge-style pattern of exact values (lists of allowed values, nested objects)."""
    if not isinstance(record, dict):
        return False
    for name, expected in pattern.items():
        value = record.get(name)
        if isinstance(expected, dict):
            if not matches(expected, value):
                return False
        elif value not in expected:
            return False
    return True
