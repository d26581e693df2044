"""Who consumes which event: one table read by the CDK constructs, the local mode and the
bench, so a consumer is declared once. Pure data; no AWS imports."""

from __future__ import annotations

from dataclasses import dataclass

from headless_commerce.model import ENTITY_ATTRIBUTE, Entity, EventName, EventSource

RELAY_HANDLER = "headless_commerce.runtime.events.relay.handler"

# Deliveries of one message before its queue dead-letters it (deployed and local queues).
MAX_RECEIVE_COUNT = 5

# The outbox relay pipe's stream filter: TTL expiry and later updates of outbox items are
# REMOVE/MODIFY records and are never relayed.
OUTBOX_FILTER = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {ENTITY_ATTRIBUTE: {"S": [Entity.OUTBOX]}}}}

# The OMS hand-off pipe (buffer queue -> FIFO): JSON paths over the buffer's SQS record.
OMS_GROUP_ID_PATH = "$.body.detail.detail.order_id"
OMS_DEDUPLICATION_ID_PATH = "$.body.detail.id"
OMS_INPUT_PATH = "$.body.detail"


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: str
    detail_types: tuple[str, ...]
    sources: tuple[str, ...]


# Reads the OMS FIFO hand-off queue (OrderPlaced, group = order id), not a rule of its own.
OMS_CONSUMER = Consumer("oms_consumer", "headless_commerce.runtime.oms.consumer.handler",
                        (EventName.ORDER_PLACED,), (EventSource.ORDERS,))
# Only the OMS's status changes: the orders service applies its own at the source.
ORDER_STATUS = Consumer("order_status", "headless_commerce.runtime.orders.status_events.handler",
                        (EventName.ORDER_STATUS_CHANGED,), (EventSource.OMS,))
CONSENT_LEDGER = Consumer("consent_ledger", "headless_commerce.runtime.consents.ledger.handler",
                          (EventName.CUSTOMER_CONSENT_CHANGED,), (EventSource.CUSTOMERS,))
MARKETING_AUDIENCE = Consumer("marketing_audience", "headless_commerce.runtime.marketing.audience.handler",
                              (EventName.CUSTOMER_CONSENT_CHANGED,), (EventSource.CUSTOMERS,))

# Marketing lifecycle messages (welcome, order confirmation): the Marketing construct deploys
# it with its own rule when the marketing capability is on, so it is not among RULE_CONSUMERS.
MARKETING_LIFECYCLE = Consumer("marketing_lifecycle", "headless_commerce.runtime.marketing.lifecycle.handler",
                               (EventName.CUSTOMER_CONSENT_CHANGED, EventName.ORDER_PLACED),
                               (EventSource.CUSTOMERS, EventSource.ORDERS))

# The storefront's cache invalidation: WebTier deploys it (in the VPC, beside Valkey) with its
# own rule, so it is not among the commerce stack's RULE_CONSUMERS; local mode runs it too.
STOREFRONT_CACHE = Consumer("storefront_cache",
                            "headless_commerce.runtime.cache.invalidation.handler",
                            (EventName.PRODUCT_MODIFIED, EventName.INVENTORY_CHANGED),
                            (EventSource.CATALOG,))

# Personalization's (deployed only with the `personalization` toggle): order counts for the
# fallback ranking (local mode runs it too), and interactions to the Personalize event tracker.
RECOMMENDATION_SIGNALS = Consumer("recommendation_signals",
                                  "headless_commerce.runtime.recommendations.signals.handler",
                                  (EventName.ORDER_PLACED,), (EventSource.ORDERS,))
PERSONALIZE_EVENTS = Consumer("personalize_events", "headless_commerce.runtime.recommendations.tracker.handler",
                              (EventName.PRODUCT_VIEWED, EventName.CART_ITEM_ADDED, EventName.ORDER_PLACED),
                              (EventSource.STOREFRONT, EventSource.ORDERS))
# Profile changes to the Personalize users dataset (locale and country only).
PERSONALIZE_USERS = Consumer("personalize_users", "headless_commerce.runtime.recommendations.users.handler",
                             (EventName.CUSTOMER_PROFILE_CHANGED,), (EventSource.CUSTOMERS,))

# Consumers fed by an EventBridge rule -> their own queue.
RULE_CONSUMERS: tuple[Consumer, ...] = (ORDER_STATUS, CONSENT_LEDGER, MARKETING_AUDIENCE)
ALL_HANDLERS: tuple[str, ...] = (RELAY_HANDLER, OMS_CONSUMER.handler, *(c.handler for c in RULE_CONSUMERS))
