"""Which table-stream records the search indexer receives: pure data, so the CDK side (the event
source mapping's filter) imports it without the runtime's dependencies (Powertools, boto3)."""

from __future__ import annotations

from headless_commerce import model

FUNCTION_NAME = "search_indexer"
INDEXED_ENTITIES = (model.Entity.PRODUCT, model.Entity.INVENTORY)
# The event source mapping's filter: any insert, update or delete of an indexed item.
STREAM_FILTERS: tuple[dict, ...] = (
    {"dynamodb": {"NewImage": {model.ENTITY_ATTRIBUTE: {"S": list(INDEXED_ENTITIES)}}}},
    {"dynamodb": {"OldImage": {model.ENTITY_ATTRIBUTE: {"S": list(INDEXED_ENTITIES)}}}},
)
