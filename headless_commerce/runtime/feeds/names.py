"""The feeds, their default topics and consumers: pure data, so the CDK side, the CLI and local
mode import it without the runtime's dependencies (Powertools, boto3)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Feed:
    name: str
    default_topic: str
    function_name: str
    handler: str
    construct_id: str
    # Partitions of a topic the construct creates: records are keyed by product, SKU or order,
    # so one key's records stay in order on one partition.
    partitions: int


FEEDS: dict[str, Feed] = {f.name: f for f in (
    Feed("catalog", "pim.catalog.v1", "catalog_feed",
         "headless_commerce.runtime.feeds.catalog.handler", "Catalog", 3),
    Feed("inventory", "scm.inventory.v1", "inventory_feed",
         "headless_commerce.runtime.feeds.inventory.handler", "Inventory", 6),
    Feed("order_status", "scm.order-status.v1", "order_status_feed",
         "headless_commerce.runtime.feeds.order_status.handler", "OrderStatus", 3),
)}


def feed_for_topic(topic: str, topics: dict[str, str] | None = None) -> Feed | None:
    """The feed a topic belongs to (`topics`: feed name -> topic, defaults otherwise)."""
    for feed in FEEDS.values():
        if (topics or {}).get(feed.name, feed.default_topic) == topic:
            return feed
    return None
