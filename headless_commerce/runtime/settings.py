"""Every environment variable the runtime reads, in one place.

The names are constants that the CDK constructs and local mode import to set them, so a name
is typed once. The accessors read the environment at call time (not import time): tests and
local mode change values between invocations, and a Lambda's environment never changes within
a sandbox anyway. Pure standard library, so CDK imports it without boto3.

Business timings are not here: they are rules of the business (model.py), not deployment
settings, and Lambda timeouts are sized from them, never the other way round.
"""

from __future__ import annotations

import os

# The commerce table (every function that touches it).
TABLE_NAME = "TABLE_NAME"
# Optional: catalog reads go through DAX when set and the `amazondax` client imports (layer).
DAX_ENDPOINT = "DAX_ENDPOINT"
# "sandbox" (default) | "stripe".
PAYMENT_PROVIDER = "PAYMENT_PROVIDER"
# Secrets Manager secret, JSON {"api_key", "webhook_secret"}.
PAYMENT_SECRET_ARN = "PAYMENT_SECRET_ARN"
# CORS: "*", one origin, or a comma-separated list whose entry matching the caller's Origin
# is echoed (common/http.py cors_headers); no header when unset.
ALLOWED_ORIGIN = "ALLOWED_ORIGIN"
# Structured logs' service name and the metrics dimension (Powertools reads them itself).
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
# The bus the example OMS publishes OrderStatusChanged to.
EVENT_BUS_NAME = "EVENT_BUS_NAME"
# An event consumer's dead-letter queue for unreadable or contract-breaking messages.
DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
# Whole minutes a PENDING_PAYMENT order waits before the sweeper settles it (default 15).
PENDING_ORDER_TIMEOUT_MINUTES = "PENDING_ORDER_TIMEOUT_MINUTES"
# The consent fan-out consumers' own tables.
CONSENT_LEDGER_TABLE_NAME = "CONSENT_LEDGER_TABLE_NAME"
AUDIENCE_TABLE_NAME = "AUDIENCE_TABLE_NAME"

# Search: "opensearch" (a managed domain or a serverless collection) or "local" (tantivy).
SEARCH_PROVIDER = "SEARCH_PROVIDER"
# HTTPS endpoint host of the domain or collection, without the scheme.
SEARCH_ENDPOINT = "SEARCH_ENDPOINT"
# SigV4 service name: "es" for a managed domain, "aoss" for a serverless collection.
SEARCH_SIGNING_SERVICE = "SEARCH_SIGNING_SERVICE"
# The alias that queries and the indexer use; reindexing swaps it to a new physical index.
SEARCH_ALIAS = "SEARCH_ALIAS"
SEARCH_DEFAULT_ALIAS = "products"
# Replicas per shard of a new index: 0 on one node (dev), 2 across three AZs (prod).
SEARCH_REPLICAS = "SEARCH_REPLICAS"
# Role ARN the search (query) function runs as, mapped to a read-only OpenSearch role.
SEARCH_READER_ROLE_ARN = "SEARCH_READER_ROLE_ARN"

# What an API function's environment may carry (CDK sets a subset per function).
API_ENVIRONMENT: tuple[str, ...] = (
    TABLE_NAME, DAX_ENDPOINT, PAYMENT_PROVIDER, PAYMENT_SECRET_ARN, ALLOWED_ORIGIN,
    POWERTOOLS_SERVICE_NAME,
)


def _optional(name: str) -> str | None:
    return os.environ.get(name) or None


def table_name() -> str:
    return os.environ[TABLE_NAME]


def dax_endpoint() -> str | None:
    return _optional(DAX_ENDPOINT)


def payment_provider() -> str:
    return os.environ.get(PAYMENT_PROVIDER, "sandbox")


def payment_secret_arn() -> str | None:
    return _optional(PAYMENT_SECRET_ARN)


def allowed_origin() -> str | None:
    return _optional(ALLOWED_ORIGIN)


def event_bus_name() -> str:
    return os.environ[EVENT_BUS_NAME]


def dead_letter_queue_url() -> str | None:
    return _optional(DEAD_LETTER_QUEUE_URL)


def pending_order_timeout_minutes() -> str | None:
    """The raw value; orders/sweeper.py validates it against the business timings."""
    return os.environ.get(PENDING_ORDER_TIMEOUT_MINUTES)


def consent_ledger_table_name() -> str:
    return os.environ[CONSENT_LEDGER_TABLE_NAME]


def audience_table_name() -> str:
    return os.environ[AUDIENCE_TABLE_NAME]


def metrics_namespace() -> str:
    return os.environ.get(POWERTOOLS_METRICS_NAMESPACE) or "HeadlessCommerce"


def commerce_table_name() -> str | None:
    """TABLE_NAME where it is optional (the audience consumer reads contact details if set)."""
    return _optional(TABLE_NAME)


def search_provider() -> str:
    return os.environ.get(SEARCH_PROVIDER, "opensearch")


def search_endpoint() -> str:
    """The endpoint host (an https:// prefix, as a serverless collection reports it, dropped)."""
    return os.environ[SEARCH_ENDPOINT].removeprefix("https://")


def search_signing_service() -> str:
    return os.environ.get(SEARCH_SIGNING_SERVICE, "es")


def search_alias() -> str:
    return os.environ.get(SEARCH_ALIAS, SEARCH_DEFAULT_ALIAS)


def search_replicas() -> int:
    return int(os.environ.get(SEARCH_REPLICAS, "0"))


def search_reader_role_arn() -> str | None:
    return _optional(SEARCH_READER_ROLE_ARN)
