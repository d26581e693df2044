"""Single-table design shared by the CDK app, the Lambda runtime and the tests.

Pure Python on purpose: the CDK side imports this without boto3 and the runtime imports it
without aws_cdk, so neither side keeps its own copy of the key schema.

Item collections (pk / sk):

    PRODUCT#{product_id}   / PRODUCT              product (price, images, category)
    SKU#{sku}              / SKU                  inventory: stock of one sellable SKU
    CATEGORY               / CATEGORY#{id}        category (parent_id makes the tree)
    CUSTOMER#{sub}         / PROFILE              customer profile + marketing consents
    CUSTOMER#{sub}         / CART                 cart; lines are embedded (see below)
    ORDER#{order_id}       / ORDER                order; lines are embedded
    ORDER#{order_id}       / PAYMENT              payment: provider reference only, never card data
    IDEMPOTENCY#{sub}#{key}/ IDEMPOTENCY          checkout idempotency record (TTL)
    OUTBOX#{event_id}      / OUTBOX               outbox event (TTL), entity="OUTBOX"
    FRAUD#{attempt_id}     / DECISION             fraud decision with its score and reasons (audit)
    VELOCITY#{dim}#{value} / {window_start}       fraud velocity counter: a set of attempts (TTL)
    OMS#{order_id}         / ACCEPTANCE           example OMS: an order it accepted (+ the
                                                  OrderStatusChanged it publishes for it)

Global indexes (overloaded, sparse):

    GSI1  gsi1pk/gsi1sk  CUSTOMER#{sub} -> ORDER#{created_at}#{id}  (orders, newest first)
                         CATALOG        -> PRODUCT#{product_id}      (whole-catalog listing)
                         CUSTOMER#{sub} -> FRAUD#{decided_at}#{id}   (a customer's fraud decisions)
    GSI2  gsi2pk/gsi2sk  CATEGORY#{id}  -> PRODUCT#{product_id}      (products by category)
                         ORDERS#PENDING_PAYMENT#{shard}
                                        -> {created_at}#{order_id}   (orders awaiting payment)
                         ORDERS#ON_HOLD -> {created_at}#{order_id}   (orders held for fraud review)
    GSI3  gsi3pk/gsi3sk  PRODUCT#{id}   -> PRODUCT | SKU#{sku}       (a product with its stock)

Why inventory is keyed by SKU rather than under the product: add-to-cart and checkout address
stock by SKU alone, so a SKU must be a primary key (a GetItem / transactional Update target).
GSI3 gathers a product and its SKUs so "get product" stays one Query.

Why pending orders are in GSI2, sharded: the order sweeper must find orders stuck in
PENDING_PAYMENT without a scan. The order item carries gsi2pk/gsi2sk only while it is pending:
checkout's order Put sets them and the settling transaction REMOVEs them, so the entry costs
no extra call and the index holds only pending orders (sparse). Category partitions are
"CATEGORY#...", so catalog queries never see orders. One partition key value for every order
would make each order two writes (insert, then delete) on a single GSI partition, and a
throttled GSI throttles the base table's writes, i.e. checkout, at peak; the key is therefore
spread over PENDING_ORDER_SHARDS values by a hash of the order id, and the sweeper queries each.

Why cart and order lines are embedded rather than one item per line: a checkout transaction
writes the order, one stock update per line, the idempotency record and an outbox event.
With separate line items 50 lines would need 103 items, above the 100-item transaction limit;
embedded, it is 53. An embedded cart is also updated atomically with one conditional write.
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"
ENTITY_ATTRIBUTE = "entity"


@dataclass(frozen=True)
class GlobalIndex:
    name: str
    partition_key: str
    sort_key: str


GSI1 = GlobalIndex("GSI1", "gsi1pk", "gsi1sk")
GSI2 = GlobalIndex("GSI2", "gsi2pk", "gsi2sk")
GSI3 = GlobalIndex("GSI3", "gsi3pk", "gsi3sk")
GSIS: tuple[GlobalIndex, ...] = (GSI1, GSI2, GSI3)


class Entity:
    """Values of the `entity` attribute; the Streams filter selects `OUTBOX`."""

    PRODUCT = "PRODUCT"
    INVENTORY = "INVENTORY"
    CATEGORY = "CATEGORY"
    CUSTOMER = "CUSTOMER"
    CART = "CART"
    ORDER = "ORDER"
    PAYMENT = "PAYMENT"
    IDEMPOTENCY = "IDEMPOTENCY"
    OUTBOX = "OUTBOX"
    OMS_ACCEPTANCE = "OMS_ACCEPTANCE"
    FRAUD_DECISION = "FRAUD_DECISION"
    FRAUD_VELOCITY = "FRAUD_VELOCITY"


class OrderStatus(enum.StrEnum):
    # Held by the fraud screen: stock reserved, nothing charged, until a reviewer releases it
    # (-> PENDING_PAYMENT, then paid as usual) or rejects it (-> CANCELLED, stock released).
    ON_HOLD = "ON_HOLD"
    PENDING_PAYMENT = "PENDING_PAYMENT"
    CONFIRMED = "CONFIRMED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    ACCEPTED_BY_OMS = "ACCEPTED_BY_OMS"
    PICKED = "PICKED"
    SHIPPED = "SHIPPED"
    # Set from the courier's geofence events (runtime/location/geofences.py): the courier left
    # the store, then came within reach of the delivery address.
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    ARRIVING = "ARRIVING"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class EventSource:
    ORDERS = "commerce.orders"
    CUSTOMERS = "commerce.customers"
    PAYMENTS = "commerce.payments"
    CATALOG = "commerce.catalog"
    # The example Order Management System: it publishes OrderStatusChanged directly (PutEvents),
    # not through the outbox, so it is absent from EVENT_SOURCES (the outbox's source table).
    OMS = "commerce.oms"
    # The storefront's shopper interactions (PutEvents from the storefront, no outbox).
    STOREFRONT = "commerce.storefront"


class EventName:
    ORDER_PLACED = "OrderPlaced"
    ORDER_STATUS_CHANGED = "OrderStatusChanged"
    CUSTOMER_CONSENT_CHANGED = "CustomerConsentChanged"
    CUSTOMER_PROFILE_CHANGED = "CustomerProfileChanged"
    PAYMENT_AUTHORIZED = "PaymentAuthorized"
    PAYMENT_FAILED = "PaymentFailed"
    PRODUCT_MODIFIED = "ProductModified"
    INVENTORY_CHANGED = "InventoryChanged"
    PRODUCT_VIEWED = "ProductViewed"
    CART_ITEM_ADDED = "CartItemAdded"
    ORDER_HELD_FOR_REVIEW = "OrderHeldForReview"


EVENT_SOURCES: dict[str, str] = {
    EventName.ORDER_PLACED: EventSource.ORDERS,
    EventName.ORDER_HELD_FOR_REVIEW: EventSource.ORDERS,
    EventName.ORDER_STATUS_CHANGED: EventSource.ORDERS,
    EventName.CUSTOMER_CONSENT_CHANGED: EventSource.CUSTOMERS,
    EventName.CUSTOMER_PROFILE_CHANGED: EventSource.CUSTOMERS,
    EventName.PAYMENT_AUTHORIZED: EventSource.PAYMENTS,
    EventName.PAYMENT_FAILED: EventSource.PAYMENTS,
    EventName.PRODUCT_MODIFIED: EventSource.CATALOG,
    EventName.INVENTORY_CHANGED: EventSource.CATALOG,
}

# Events published straight to the bus, never through the outbox: what a shopper does in the
# storefront (fire-and-forget signals for recommendations; losing one loses nothing else).
DIRECT_EVENT_SOURCES: dict[str, str] = {
    EventName.PRODUCT_VIEWED: EventSource.STOREFRONT,
    EventName.CART_ITEM_ADDED: EventSource.STOREFRONT,
}

# Every source allowed to publish each event (the contracts' `source` enum): the outbox's own
# source first, plus publishers outside the commerce table.
EVENT_ALLOWED_SOURCES: dict[str, tuple[str, ...]] = {
    **{name: (source, *((EventSource.OMS,) if name == EventName.ORDER_STATUS_CHANGED else ()))
       for name, source in EVENT_SOURCES.items()},
    **{name: (source,) for name, source in DIRECT_EVENT_SOURCES.items()},
}

# Order statuses only move forward along this rank. The two terminal statuses outrank all
# others so nothing moves an order out of them; a later status may skip intermediate ones.
ORDER_STATUS_RANK: dict[str, int] = {
    # Below PENDING_PAYMENT: releasing a held order moves it forward to payment.
    OrderStatus.ON_HOLD.value: -1,
    OrderStatus.PENDING_PAYMENT.value: 0,
    OrderStatus.CONFIRMED.value: 1,
    OrderStatus.ACCEPTED_BY_OMS.value: 2,
    OrderStatus.PICKED.value: 3,
    OrderStatus.SHIPPED.value: 4,
    OrderStatus.OUT_FOR_DELIVERY.value: 5,
    OrderStatus.ARRIVING.value: 6,
    OrderStatus.DELIVERED.value: 7,
    OrderStatus.CANCELLED.value: 100,
    OrderStatus.PAYMENT_FAILED.value: 100,
}
TERMINAL_ORDER_STATUSES: frozenset[str] = frozenset(
    {OrderStatus.CANCELLED.value, OrderStatus.PAYMENT_FAILED.value})

EVENT_VERSION = 1
CATALOG_PARTITION = "CATALOG"
CURRENCY = "USD"
MAX_CART_LINES = 50
MAX_LINE_QUANTITY = 99
CONSENT_CHANNELS: tuple[str, ...] = ("email", "sms", "push")
# Outbox items only need to outlive the stream's 24 h retention plus replay slack.
OUTBOX_TTL_SECONDS = 7 * 24 * 3600
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
# A PENDING_PAYMENT order older than this has lost its checkout invocation: a retry with its
# Idempotency-Key resumes it, and the sweeper may settle it only after longer than this. A
# business timing, so the checkout function's Lambda timeout is sized below it, not vice versa.
CHECKOUT_RESUME_AFTER_S = 30
# Pending orders' GSI2 partition key is spread over this many values (see the docstring).
# Changing it strands pending orders on the dropped shards: only ever raise it together with a
# sweeper that still reads the old ones.
PENDING_ORDER_SHARDS = 8
PENDING_ORDERS_PREFIX = "ORDERS#PENDING_PAYMENT#"
# Held orders (fraud review) in one GSI2 partition, oldest first: few, and read by reviewers only.
HELD_ORDERS_PARTITION = "ORDERS#ON_HOLD"
# A fraud decision is audit data: kept for this long, then expired by TTL.
FRAUD_DECISION_TTL_SECONDS = 400 * 24 * 3600

Key = dict[str, str]


def _key(pk: str, sk: str) -> Key:
    return {PARTITION_KEY: pk, SORT_KEY: sk}


def product_key(product_id: str) -> Key:
    return _key(f"PRODUCT#{product_id}", "PRODUCT")


def inventory_key(sku: str) -> Key:
    return _key(f"SKU#{sku}", "SKU")


def category_key(category_id: str) -> Key:
    return _key("CATEGORY", f"CATEGORY#{category_id}")


def categories_partition() -> str:
    return "CATEGORY"


def customer_key(sub: str) -> Key:
    return _key(f"CUSTOMER#{sub}", "PROFILE")


def cart_key(sub: str) -> Key:
    return _key(f"CUSTOMER#{sub}", "CART")


def order_key(order_id: str) -> Key:
    return _key(f"ORDER#{order_id}", "ORDER")


def payment_key(order_id: str) -> Key:
    return _key(f"ORDER#{order_id}", "PAYMENT")


def idempotency_key(sub: str, key: str) -> Key:
    # Scoped by customer: one customer's key can never replay another customer's order.
    return _key(f"IDEMPOTENCY#{sub}#{key}", "IDEMPOTENCY")


def outbox_key(event_id: str) -> Key:
    return _key(f"OUTBOX#{event_id}", "OUTBOX")


def oms_acceptance_key(order_id: str) -> Key:
    return _key(f"OMS#{order_id}", "ACCEPTANCE")


def fraud_decision_key(attempt_id: str) -> Key:
    return _key(f"FRAUD#{attempt_id}", "DECISION")


def fraud_decision_index_keys(sub: str, decided_at: str, attempt_id: str) -> dict[str, str]:
    # Beside the customer's orders in GSI1; order listings read only the ORDER# range.
    return {GSI1.partition_key: f"CUSTOMER#{sub}", GSI1.sort_key: f"FRAUD#{decided_at}#{attempt_id}"}


def fraud_velocity_key(dimension: str, value: str, window_start: int) -> Key:
    return _key(f"VELOCITY#{dimension}#{value}", str(window_start))


def held_order_index_keys(created_at: str, order_id: str) -> dict[str, str]:
    """GSI2 keys an order carries only while it is ON_HOLD (the reviewers' queue)."""
    return {GSI2.partition_key: HELD_ORDERS_PARTITION, GSI2.sort_key: f"{created_at}#{order_id}"}


def product_index_keys(product_id: str, category_id: str | None) -> dict[str, str]:
    keys = {
        GSI1.partition_key: CATALOG_PARTITION,
        GSI1.sort_key: f"PRODUCT#{product_id}",
        GSI3.partition_key: f"PRODUCT#{product_id}",
        GSI3.sort_key: "PRODUCT",
    }
    if category_id:
        keys[GSI2.partition_key] = f"CATEGORY#{category_id}"
        keys[GSI2.sort_key] = f"PRODUCT#{product_id}"
    return keys


def inventory_index_keys(product_id: str, sku: str) -> dict[str, str]:
    return {GSI3.partition_key: f"PRODUCT#{product_id}", GSI3.sort_key: f"SKU#{sku}"}


def order_index_keys(sub: str, created_at: str, order_id: str) -> dict[str, str]:
    return {
        GSI1.partition_key: f"CUSTOMER#{sub}",
        GSI1.sort_key: f"ORDER#{created_at}#{order_id}",
    }


def pending_order_index_keys(created_at: str, order_id: str) -> dict[str, str]:
    """GSI2 keys an order carries only while it is PENDING_PAYMENT (sorted oldest first)."""
    shard = zlib.crc32(order_id.encode()) % PENDING_ORDER_SHARDS
    return {GSI2.partition_key: f"{PENDING_ORDERS_PREFIX}{shard}",
            GSI2.sort_key: f"{created_at}#{order_id}"}


def pending_order_partitions() -> tuple[str, ...]:
    return tuple(f"{PENDING_ORDERS_PREFIX}{shard}" for shard in range(PENDING_ORDER_SHARDS))


def customer_orders_partition(sub: str) -> str:
    return f"CUSTOMER#{sub}"


def category_products_partition(category_id: str) -> str:
    return f"CATEGORY#{category_id}"


def product_collection_partition(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


def table_definition_kwargs() -> dict:
    """boto3 `create_table` kwargs (without TableName): the one schema definition."""
    attributes = [PARTITION_KEY, SORT_KEY]
    for index in GSIS:
        attributes += [index.partition_key, index.sort_key]
    return {
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in attributes
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in GSIS
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


# ---- consent fan-out tables (one table each, owned by its consumer) ----------------------

# Append-only consent history: one item per CustomerConsentChanged event, newest last.
CONSENT_LEDGER_PARTITION_KEY = "customer_id"
CONSENT_LEDGER_SORT_KEY = "entry"          # "{occurred_at}#{event_id}": time order, unique

# Marketing audience: membership per (channel, customer). An opt-out leaves a tombstone
# (opted_in=false) carrying the version it was applied at, so an older opt-in that arrives
# later (redelivery, archive replay) can never re-add the customer.
AUDIENCE_PARTITION_KEY = "channel"
AUDIENCE_SORT_KEY = "customer_id"


def consent_ledger_key(customer_id: str, occurred_at: str, event_id: str) -> Key:
    return {CONSENT_LEDGER_PARTITION_KEY: customer_id,
            CONSENT_LEDGER_SORT_KEY: f"{occurred_at}#{event_id}"}


def audience_key(channel: str, customer_id: str) -> Key:
    return {AUDIENCE_PARTITION_KEY: channel, AUDIENCE_SORT_KEY: customer_id}


def _simple_table_kwargs(partition_key: str, sort_key: str) -> dict:
    return {
        "AttributeDefinitions": [{"AttributeName": partition_key, "AttributeType": "S"},
                                 {"AttributeName": sort_key, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": partition_key, "KeyType": "HASH"},
                      {"AttributeName": sort_key, "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


def consent_ledger_table_kwargs() -> dict:
    """boto3 `create_table` kwargs (without TableName) of the consent ledger table."""
    return _simple_table_kwargs(CONSENT_LEDGER_PARTITION_KEY, CONSENT_LEDGER_SORT_KEY)


def audience_table_kwargs() -> dict:
    """boto3 `create_table` kwargs (without TableName) of the marketing audience table."""
    return _simple_table_kwargs(AUDIENCE_PARTITION_KEY, AUDIENCE_SORT_KEY)


# ---- marketing table (owned by the Marketing construct) -------------------------------------

# Suppressions: SUPPRESSED#{channel} / {address}: a bounced or complaining address, never
# messaged again. Deliveries: DELIVERY#{customer_id} / {kind}#{ref}: written with
# attribute_not_exists before a message goes out, so each message is sent at most once.
MARKETING_PARTITION_KEY = "pk"
MARKETING_SORT_KEY = "sk"


def suppression_key(channel: str, address: str) -> Key:
    return {MARKETING_PARTITION_KEY: f"SUPPRESSED#{channel}", MARKETING_SORT_KEY: address}


def delivery_key(customer_id: str, kind: str, ref: str) -> Key:
    return {MARKETING_PARTITION_KEY: f"DELIVERY#{customer_id}", MARKETING_SORT_KEY: f"{kind}#{ref}"}


def marketing_table_kwargs() -> dict:
    """boto3 `create_table` kwargs (without TableName) of the marketing table."""
    return _simple_table_kwargs(MARKETING_PARTITION_KEY, MARKETING_SORT_KEY)


# Storefront tables (WebTier): sessions expire through TTL on SESSION_TTL_ATTRIBUTE (epoch
# seconds; runtime/storefront/sessions.py); feature flags `flag` -> `enabled` (BOOL), read with
# a short cache (runtime/storefront/flags.py).
SESSION_PARTITION_KEY = "session_id"
SESSION_TTL_ATTRIBUTE = "expires_at"
FLAGS_PARTITION_KEY = "flag"
FLAGS_ENABLED_ATTRIBUTE = "enabled"


def _hash_only_table_kwargs(partition_key: str) -> dict:
    return {
        "AttributeDefinitions": [{"AttributeName": partition_key, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": partition_key, "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


def session_table_kwargs() -> dict:
    """boto3 `create_table` kwargs (without TableName) of the storefront session table."""
    return _hash_only_table_kwargs(SESSION_PARTITION_KEY)


def flags_table_kwargs() -> dict:
    """boto3 `create_table` kwargs (without TableName) of the storefront feature-flag table."""
    return _hash_only_table_kwargs(FLAGS_PARTITION_KEY)


# ---- recommendation signals (Personalization's own table) ---------------------------------
# Counters the fallback ranking reads, written by the OrderPlaced consumer
# (runtime/recommendations/signals.py), so a request reads a bounded number of items instead of
# orders:
#
#     POPULAR#{yyyy-mm-dd}    / {product_id}   orders containing the product that day (TTL)
#     BOUGHT_WITH#{product_id}/ {other_id}     orders containing both products
#     EVENT#{event_id}        / EVENT          an OrderPlaced already counted (TTL)
#
# The local index SIGNALS_BY_SCORE sorts a partition by its numeric `score`, so "top N" is one
# Query with Limit=N, and an increment (ADD score) re-sorts the item in the same write.
SIGNALS_PARTITION_KEY = "pk"
SIGNALS_SORT_KEY = "sk"
SIGNALS_SCORE = "score"
SIGNALS_BY_SCORE = "ByScore"
SIGNALS_TTL_ATTRIBUTE = "expires_at"


def popular_partition(day: str) -> str:
    return f"POPULAR#{day}"


def bought_with_partition(product_id: str) -> str:
    return f"BOUGHT_WITH#{product_id}"


def signal_key(partition: str, product_id: str) -> Key:
    return {SIGNALS_PARTITION_KEY: partition, SIGNALS_SORT_KEY: product_id}


def counted_event_key(event_id: str) -> Key:
    return {SIGNALS_PARTITION_KEY: f"EVENT#{event_id}", SIGNALS_SORT_KEY: "EVENT"}


def signals_table_kwargs() -> dict:
    """boto3 `create_table` kwargs (without TableName) of the recommendation signals table."""
    kwargs = _simple_table_kwargs(SIGNALS_PARTITION_KEY, SIGNALS_SORT_KEY)
    kwargs["AttributeDefinitions"].append({"AttributeName": SIGNALS_SCORE, "AttributeType": "N"})
    kwargs["LocalSecondaryIndexes"] = [{
        "IndexName": SIGNALS_BY_SCORE,
        "KeySchema": [{"AttributeName": SIGNALS_PARTITION_KEY, "KeyType": "HASH"},
                      {"AttributeName": SIGNALS_SCORE, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }]
    return kwargs


# ---- location table (owned by the Location construct) --------------------------------------
#
#     STORE#{store_id}         / STORE              a store: name, address, lat, lon, geohash
#     DELIVERY#{order_id}      / DELIVERY           a delivery: courier, store, destination, the
#                                                   courier's last position
#     COURIER#{courier_id}     / ORDER#{order_id}   an order the courier carries (geofence events
#                                                   name the courier, not the order)
#
# The sparse index STORES_BY_CELL finds stores near a point without a scan: its partition key
# is the store's geohash cut to GEO_CELL_PRECISION characters (cells of 11.25° x 5.6°), its sort
# key the full geohash, so a finer cell is one Query with begins_with (runtime/location/geo.py
# picks the cells covering a search circle, neighbours and antimeridian wrap-around included).
LOCATION_PARTITION_KEY = "pk"
LOCATION_SORT_KEY = "sk"
STORES_BY_CELL = GlobalIndex("ByCell", "geo_cell", "geohash")
GEO_CELL_PRECISION = 2
GEOHASH_PRECISION = 9


def store_key(store_id: str) -> Key:
    return {LOCATION_PARTITION_KEY: f"STORE#{store_id}", LOCATION_SORT_KEY: "STORE"}


def delivery_tracking_key(order_id: str) -> Key:
    return {LOCATION_PARTITION_KEY: f"DELIVERY#{order_id}", LOCATION_SORT_KEY: "DELIVERY"}


def courier_order_key(courier_id: str, order_id: str) -> Key:
    return {LOCATION_PARTITION_KEY: f"COURIER#{courier_id}", LOCATION_SORT_KEY: f"ORDER#{order_id}"}


def courier_partition(courier_id: str) -> str:
    return f"COURIER#{courier_id}"


def location_table_kwargs() -> dict:
    """boto3 `create_table` kwargs (without TableName) of the location table."""
    kwargs = _simple_table_kwargs(LOCATION_PARTITION_KEY, LOCATION_SORT_KEY)
    kwargs["AttributeDefinitions"] += [{"AttributeName": STORES_BY_CELL.partition_key, "AttributeType": "S"},
                                       {"AttributeName": STORES_BY_CELL.sort_key, "AttributeType": "S"}]
    kwargs["GlobalSecondaryIndexes"] = [{
        "IndexName": STORES_BY_CELL.name,
        "KeySchema": [{"AttributeName": STORES_BY_CELL.partition_key, "KeyType": "HASH"},
                      {"AttributeName": STORES_BY_CELL.sort_key, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"},
    }]
    return kwargs


# The business counts on each stack's dashboard (runtime/common/logging.count), by KPI group.
BUSINESS_KPIS: dict[str, tuple[str, ...]] = {
    "orders": ("OrdersPlaced", "PaymentDeclines", "FraudApproved", "FraudReview", "FraudDenied"),
    "search": ("Searches", "SearchZeroResults"),
}
