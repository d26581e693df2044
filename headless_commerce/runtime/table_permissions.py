"""Which DynamoDB actions each function performs on the commerce table: the one list the CDK
grants are built from and the runtime tests check the code against (tests/runtime/
test_table_permissions.py records every call a function makes on moto and fails when one is
missing here). Pure data; no AWS imports.

IAM authorizes a TransactWriteItems per item (PutItem, UpdateItem, DeleteItem,
ConditionCheckItem), so transactions appear here as the actions of their items. No function
scans the table.
"""

from __future__ import annotations

GET = "dynamodb:GetItem"
BATCH_GET = "dynamodb:BatchGetItem"
QUERY = "dynamodb:Query"
PUT = "dynamodb:PutItem"
UPDATE = "dynamodb:UpdateItem"
DELETE = "dynamodb:DeleteItem"
CONDITION_CHECK = "dynamodb:ConditionCheckItem"

READ_ACTIONS = frozenset({GET, BATCH_GET, QUERY, CONDITION_CHECK})
WRITE_ACTIONS = frozenset({PUT, UPDATE, DELETE})

# The post-confirmation trigger may only create customer items: its grant carries a
# `dynamodb:LeadingKeys` condition on this partition-key prefix.
CUSTOMER_KEY_PREFIX = "CUSTOMER#"

TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "catalog": (QUERY,),
    "cart": (GET, BATCH_GET, PUT, DELETE),
    # The fraud scorer reads the profile (Get) and order history (Query) and counts attempts (Update).
    "checkout": (GET, BATCH_GET, QUERY, PUT, UPDATE),
    # Lists held orders, releases (then settles) or rejects one, records the verdict.
    "fraud_review": (GET, QUERY, PUT, UPDATE),
    "orders": (GET, QUERY),
    "customers": (GET, PUT, UPDATE),
    "payments_webhook": (GET, PUT, UPDATE),
    "post_confirmation": (PUT,),
    "order_sweeper": (GET, QUERY, PUT, UPDATE),
    "oms_consumer": (GET, PUT, UPDATE),
    "order_status": (GET, PUT, UPDATE),
    # Copies contact details from the customer profile.
    "marketing_audience": (GET,),
    # Marketing senders re-read the profile (consent, contact) at send time; the job worker a
    # page of profiles and carts at once. Both remove a push endpoint SNS disabled from its
    # profile (UpdateItem, confined to customer items). Unsubscribe withdraws consent like
    # PUT /me/consents.
    "marketing_lifecycle": (GET, UPDATE),
    "marketing_jobs": (BATCH_GET, UPDATE),
    "unsubscribe": (GET, PUT, UPDATE),
    # Reads a changed product and its SKUs (consistent Get/BatchGet); a reindex pages the
    # catalog index (Query).
    "search_indexer": (GET, BATCH_GET, QUERY),
    # Queries the search index, never the table.
    "search": (),
    # Recommendations: the product check and hydration (BatchGet), the catalog top-up (Query);
    # the OrderPlaced consumer maps SKUs to products. Their own signals table is granted apart.
    "recommendations": (BATCH_GET, QUERY),
    "recommendation_signals": (BATCH_GET,),
    # The chat API asks Lex only; the bot's fulfillment reads one order (the owner check).
    "chat": (),
    "chat_fulfillment": (GET,),
    "personalize_events": (BATCH_GET,),
    # The store locator reads only the location table (granted by the Location construct);
    # tracking reads the order to check its owner. The geofence consumer moves order statuses
    # (a transaction with the outbox item); the couriers' function reads the order it assigns.
    "location": (GET,),
    "location_geofences": (GET, PUT, UPDATE),
    "location_couriers": (GET,),
    # Reads the changed profile for the users dataset.
    "personalize_users": (GET,),
    # Pages the catalog index for the scheduled export to the items dataset.
    "personalize_catalog_export": (QUERY,),
    # Integration feeds: one BatchGetItem per batch, then one conditional write (a transaction
    # with the outbox item when an event is emitted) per record; GetItem re-reads after a race.
    "catalog_feed": (GET, BATCH_GET, PUT, UPDATE),
    "inventory_feed": (GET, BATCH_GET, PUT, UPDATE),
    "order_status_feed": (GET, BATCH_GET, PUT, UPDATE),
}

# Functions whose writes are confined to one partition-key prefix.
LEADING_KEY_PREFIXES: dict[str, str] = {"post_confirmation": CUSTOMER_KEY_PREFIX}


def actions_for(function: str) -> tuple[str, ...]:
    try:
        return TABLE_ACTIONS[function]
    except KeyError:
        raise KeyError(f"no commerce-table actions declared for function {function!r}") from None


def writes(function: str) -> bool:
    return bool(WRITE_ACTIONS & set(actions_for(function)))
