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
# "false" when a feed consumer's event source mapping runs on-demand pollers, which ignore
# partial batch responses: the consumer then fails the whole batch instead (default "true").
FEED_PARTIAL_BATCH = "FEED_PARTIAL_BATCH"
# Whole minutes a PENDING_PAYMENT order waits before the sweeper settles it (default 15).
PENDING_ORDER_TIMEOUT_MINUTES = "PENDING_ORDER_TIMEOUT_MINUTES"
# The consent fan-out consumers' own tables.
CONSENT_LEDGER_TABLE_NAME = "CONSENT_LEDGER_TABLE_NAME"
AUDIENCE_TABLE_NAME = "AUDIENCE_TABLE_NAME"

# Marketing (runtime/marketing/): its own table (suppressions, at-most-once delivery records).
MARKETING_TABLE_NAME = "MARKETING_TABLE_NAME"
# "ses" (default: SES email, End User Messaging SMS, SNS push) or "outbox" (local mode: one
# JSON file per message under MARKETING_OUTBOX_DIR, nothing leaves the machine).
MARKETING_TRANSPORT = "MARKETING_TRANSPORT"
MARKETING_OUTBOX_DIR = "MARKETING_OUTBOX_DIR"
# SES: the verified sender address and the configuration set whose events feed suppression.
MARKETING_EMAIL_FROM = "MARKETING_EMAIL_FROM"
MARKETING_SES_CONFIGURATION_SET = "MARKETING_SES_CONFIGURATION_SET"
# End User Messaging SMS: origination identity (phone number id/ARN, pool, sender id) and its
# configuration set; unset: SMS is not sent.
MARKETING_SMS_ORIGINATION_IDENTITY = "MARKETING_SMS_ORIGINATION_IDENTITY"
MARKETING_SMS_CONFIGURATION_SET = "MARKETING_SMS_CONFIGURATION_SET"
# Secrets Manager secret (a plain string) that signs one-click unsubscribe tokens; local mode
# may give the key itself in MARKETING_UNSUBSCRIBE_KEY instead.
MARKETING_UNSUBSCRIBE_SECRET_ARN = "MARKETING_UNSUBSCRIBE_SECRET_ARN"
MARKETING_UNSUBSCRIBE_KEY = "MARKETING_UNSUBSCRIBE_KEY"
# Base URL of the public API (no trailing slash): unsubscribe links point at {base}/unsubscribe.
MARKETING_API_URL = "MARKETING_API_URL"
# The queue of audience jobs (campaign pages, the abandoned-cart check) the job worker reads
# and puts each next page on.
MARKETING_JOBS_QUEUE_URL = "MARKETING_JOBS_QUEUE_URL"
# Whole hours a cart must sit untouched before the abandoned-cart reminder (default 24).
MARKETING_ABANDONED_CART_HOURS = "MARKETING_ABANDONED_CART_HOURS"
# SNS mobile push: JSON {platform: platform application ARN} (platform APNS, APNS_SANDBOX or
# GCM) that PUT /me/push-device creates device endpoints under; unset: push is not configured.
PUSH_PLATFORM_APPLICATIONS = "PUSH_PLATFORM_APPLICATIONS"

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
# Role ARNs (comma-separated) the query functions run as, mapped to a read-only OpenSearch role.
SEARCH_READER_ROLE_ARN = "SEARCH_READER_ROLE_ARN"

# Recommendations (runtime/recommendations/, deployed by Personalization).
# The fallback ranking's counters table (model.signals_table_kwargs).
RECOMMENDATION_SIGNALS_TABLE_NAME = "RECOMMENDATION_SIGNALS_TABLE_NAME"
# JSON {kind: SSM parameter name}; each parameter holds a recommender ARN once it is ACTIVE,
# "NONE" before. Unset (local mode, no recommenders): the fallback ranking serves every request.
RECOMMENDER_PARAMETERS = "RECOMMENDER_PARAMETERS"
# The filter excluding what the signed-in customer already bought.
PERSONALIZE_FILTER_ARN = "PERSONALIZE_FILTER_ARN"
# How long a request waits for Personalize before serving the fallback (default 300 ms).
PERSONALIZE_TIMEOUT_MS = "PERSONALIZE_TIMEOUT_MS"
# Days of orders the "popular" fallback ranks by (default 7, at most 30).
POPULAR_WINDOW_DAYS = "POPULAR_WINDOW_DAYS"
# The event tracker real-time interactions go to, and the items dataset the catalog export fills.
PERSONALIZE_TRACKING_ID = "PERSONALIZE_TRACKING_ID"
PERSONALIZE_ITEMS_DATASET_ARN = "PERSONALIZE_ITEMS_DATASET_ARN"
# The users dataset CustomerProfileChanged fills (locale and country only).
PERSONALIZE_USERS_DATASET_ARN = "PERSONALIZE_USERS_DATASET_ARN"

# Location (runtime/location/, deployed by the Location construct).
# Its own table: stores (geohash index), deliveries and what each courier carries.
LOCATION_TABLE_NAME = "LOCATION_TABLE_NAME"
# "aws" (default: geo-places, geo-routes and the tracker through the function's role) or
# "local" (local mode and tests install a gazetteer and straight-line ETAs).
LOCATION_PROVIDER = "LOCATION_PROVIDER"
# The tracker couriers' positions go to, and the geofence collection of stores and addresses.
LOCATION_TRACKER_NAME = "LOCATION_TRACKER_NAME"
LOCATION_GEOFENCE_COLLECTION = "LOCATION_GEOFENCE_COLLECTION"
# How long a request waits for Amazon Location before answering 503 (default 2000 ms).
LOCATION_TIMEOUT_MS = "LOCATION_TIMEOUT_MS"

# Fraud screening in checkout (runtime/fraud/). "rules" (default: the transaction risk scorer)
# or "off" (an explicit pass-through, what `-c fraud=false` deploys).
FRAUD_SCREEN = "FRAUD_SCREEN"
# JSON overrides of the scorer's weights, limits and thresholds (runtime/fraud/config.py),
# validated at cold start; unset: the defaults in code.
FRAUD_CONFIG = "FRAUD_CONFIG"
# Optional SageMaker endpoint consulted per checkout, and how long to wait for it (default 300).
FRAUD_MODEL_ENDPOINT = "FRAUD_MODEL_ENDPOINT"
FRAUD_MODEL_TIMEOUT_MS = "FRAUD_MODEL_TIMEOUT_MS"
# Chatbot (runtime/chatbot/, deployed by Chatbot): "lex" (default: Amazon Lex V2 RecognizeText)
# or "local" (local mode: the intent matcher over the same intent definitions).
CHAT_PROVIDER = "CHAT_PROVIDER"
# The bot, its alias (the one whose code hook is the fulfillment function) and the locale.
LEX_BOT_ID = "LEX_BOT_ID"
LEX_BOT_ALIAS_ID = "LEX_BOT_ALIAS_ID"
LEX_LOCALE_ID = "LEX_LOCALE_ID"
# Secrets Manager secret (a plain string, >= 32 characters) signing anonymous chat session ids;
# local mode may give the key itself in CHAT_SESSION_KEY instead.
CHAT_SESSION_SECRET_ARN = "CHAT_SESSION_SECRET_ARN"
CHAT_SESSION_KEY = "CHAT_SESSION_KEY"
# How long a chat turn waits for Lex before answering 503 (default 5000 ms).
LEX_TIMEOUT_MS = "LEX_TIMEOUT_MS"

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


def feed_partial_batch() -> bool:
    return (_optional(FEED_PARTIAL_BATCH) or "true").lower() != "false"


def pending_order_timeout_minutes() -> str | None:
    """The raw value; orders/sweeper.py validates it against the business timings."""
    return os.environ.get(PENDING_ORDER_TIMEOUT_MINUTES)


def consent_ledger_table_name() -> str:
    return os.environ[CONSENT_LEDGER_TABLE_NAME]


def audience_table_name() -> str:
    return os.environ[AUDIENCE_TABLE_NAME]


def marketing_table_name() -> str:
    return os.environ[MARKETING_TABLE_NAME]


def marketing_transport() -> str:
    return os.environ.get(MARKETING_TRANSPORT) or "ses"


def marketing_outbox_dir() -> str | None:
    return _optional(MARKETING_OUTBOX_DIR)


def marketing_email_from() -> str | None:
    return _optional(MARKETING_EMAIL_FROM)


def marketing_ses_configuration_set() -> str | None:
    return _optional(MARKETING_SES_CONFIGURATION_SET)


def marketing_sms_origination_identity() -> str | None:
    return _optional(MARKETING_SMS_ORIGINATION_IDENTITY)


def marketing_sms_configuration_set() -> str | None:
    return _optional(MARKETING_SMS_CONFIGURATION_SET)


def marketing_unsubscribe_secret_arn() -> str | None:
    return _optional(MARKETING_UNSUBSCRIBE_SECRET_ARN)


def marketing_unsubscribe_key() -> str | None:
    return _optional(MARKETING_UNSUBSCRIBE_KEY)


def marketing_api_url() -> str | None:
    url = _optional(MARKETING_API_URL)
    return url.rstrip("/") if url else None


def marketing_jobs_queue_url() -> str:
    return os.environ[MARKETING_JOBS_QUEUE_URL]


def marketing_abandoned_cart_hours() -> str | None:
    """The raw value; marketing/abandoned_cart.py validates it."""
    return _optional(MARKETING_ABANDONED_CART_HOURS)


def fraud_screen() -> str:
    return os.environ.get(FRAUD_SCREEN) or "rules"


def fraud_config() -> str | None:
    """The raw JSON; runtime/fraud/config.py validates it."""
    return _optional(FRAUD_CONFIG)


def fraud_model_endpoint() -> str | None:
    return _optional(FRAUD_MODEL_ENDPOINT)


def fraud_model_timeout_ms() -> str | None:
    return _optional(FRAUD_MODEL_TIMEOUT_MS)


def push_platform_applications() -> str | None:
    """The raw JSON; marketing/devices.py reads it."""
    return _optional(PUSH_PLATFORM_APPLICATIONS)


def metrics_namespace() -> str:
    return os.environ.get(POWERTOOLS_METRICS_NAMESPACE) or "HeadlessCommerce"


COUNT_LOG_LINES = "COUNT_LOG_LINES"


def count_log_lines() -> bool:
    """Also log each business count as a line of its own (`{"count": name, "value": n}`): set on
    Fargate, where CloudWatch does not read embedded-metric-format lines from the awslogs driver
    and metric filters on these lines publish the counts instead."""
    return os.environ.get(COUNT_LOG_LINES) == "1"


def commerce_table_name() -> str | None:
    """TABLE_NAME where it is optional (the audience consumer reads contact details if set)."""
    return _optional(TABLE_NAME)


def search_provider() -> str:
    return os.environ.get(SEARCH_PROVIDER, "opensearch")


def search_endpoint() -> str:
    """The endpoint host (an https:// prefix, as a serverless collection reports it, dropped)."""
    return os.environ[SEARCH_ENDPOINT].removeprefix("https://")


def search_endpoint_configured() -> bool:
    return _optional(SEARCH_ENDPOINT) is not None


def search_signing_service() -> str:
    return os.environ.get(SEARCH_SIGNING_SERVICE, "es")


def search_alias() -> str:
    return os.environ.get(SEARCH_ALIAS, SEARCH_DEFAULT_ALIAS)


def search_replicas() -> int:
    return int(os.environ.get(SEARCH_REPLICAS, "0"))


def search_reader_role_arn() -> str | None:
    return _optional(SEARCH_READER_ROLE_ARN)


def recommendation_signals_table_name() -> str:
    return os.environ[RECOMMENDATION_SIGNALS_TABLE_NAME]


def recommender_parameters() -> str | None:
    """The raw JSON; runtime/recommendations/personalize.py reads it."""
    return _optional(RECOMMENDER_PARAMETERS)


def personalize_filter_arn() -> str | None:
    return _optional(PERSONALIZE_FILTER_ARN)


def personalize_timeout_ms() -> str | None:
    return _optional(PERSONALIZE_TIMEOUT_MS)


def popular_window_days() -> str | None:
    return _optional(POPULAR_WINDOW_DAYS)


def personalize_tracking_id() -> str:
    return os.environ[PERSONALIZE_TRACKING_ID]


def personalize_items_dataset_arn() -> str:
    return os.environ[PERSONALIZE_ITEMS_DATASET_ARN]


def personalize_users_dataset_arn() -> str:
    return os.environ[PERSONALIZE_USERS_DATASET_ARN]


def chat_provider() -> str:
    return os.environ.get(CHAT_PROVIDER) or "lex"


def lex_bot_id() -> str:
    return os.environ[LEX_BOT_ID]


def lex_bot_alias_id() -> str:
    return os.environ[LEX_BOT_ALIAS_ID]


def lex_locale_id() -> str | None:
    return _optional(LEX_LOCALE_ID)


def chat_session_secret_arn() -> str | None:
    return _optional(CHAT_SESSION_SECRET_ARN)


def chat_session_key() -> str | None:
    return _optional(CHAT_SESSION_KEY)


def lex_timeout_ms() -> str | None:
    return _optional(LEX_TIMEOUT_MS)

def location_table_name() -> str:
    return os.environ[LOCATION_TABLE_NAME]


def location_provider() -> str:
    return os.environ.get(LOCATION_PROVIDER) or "aws"


def location_tracker_name() -> str | None:
    return _optional(LOCATION_TRACKER_NAME)


def location_geofence_collection() -> str | None:
    return _optional(LOCATION_GEOFENCE_COLLECTION)


def location_timeout_ms() -> str | None:
    """The raw value; runtime/location/aws_provider.py validates it."""
    return _optional(LOCATION_TIMEOUT_MS)


# --- The storefront container (runtime/storefront/, deployed by WebTier) ---------------------
# Auth flow: the storefront signs shoppers in server-side with USER_PASSWORD_AUTH (InitiateAuth
# from the BFF over TLS; no client secret, so USER_POOL_CLIENT_ID is a public client that must
# allow ALLOW_USER_PASSWORD_AUTH and ALLOW_REFRESH_TOKEN_AUTH), and signs them up with SignUp.
# Port uvicorn listens on inside the container (default 8080).
PORT = "PORT"
STOREFRONT_DEFAULT_PORT = 8080
# Liveness path of every container (storefront and commerce functions): answers without I/O.
HEALTH_PATH = "/healthz"
# Base URL of the commerce REST API (API Gateway stage URL or CloudFront `/api`), no trailing /.
STOREFRONT_API_URL = "STOREFRONT_API_URL"
# DynamoDB session table: partition key `session_id` (S), TTL attribute `expires_at` (epoch s).
SESSION_TABLE_NAME = "SESSION_TABLE_NAME"
# DynamoDB feature-flag table: partition key `flag` (S), attribute `enabled` (BOOL).
FLAGS_TABLE_NAME = "FLAGS_TABLE_NAME"
# redis:// or rediss:// URL of the Valkey cache; unset → an in-process cache per container.
CACHE_URL = "CACHE_URL"
# Local mode's name for the same thing (`headless-commerce local` maps it onto CACHE_URL).
REDIS_URL = "REDIS_URL"
# Optional Secrets Manager secret holding the Valkey AUTH password (a plain string).
CACHE_AUTH_SECRET_ARN = "CACHE_AUTH_SECRET_ARN"
# Secrets Manager secret holding the session-cookie signing key (a plain string, ≥ 32 chars).
SESSION_SECRET_ARN = "SESSION_SECRET_ARN"
# Cognito user pool and the public storefront app client (see the auth flow above).
USER_POOL_ID = "USER_POOL_ID"
USER_POOL_CLIENT_ID = "USER_POOL_CLIENT_ID"
# EFS mount with shared templates/ and config/ (the `/web` access point); packaged ones otherwise.
SHARED_CONFIG_DIR = "SHARED_CONFIG_DIR"
SHARED_CONFIG_DEFAULT_DIR = "/mnt/web"

# The storefront publishes shopper interactions (ProductViewed, CartItemAdded) to the commerce
# bus named EVENT_BUS_NAME; unset: it publishes nothing.

# What the storefront container's environment may carry (WebTier sets these).
STOREFRONT_ENVIRONMENT: tuple[str, ...] = (
    PORT, STOREFRONT_API_URL, SESSION_TABLE_NAME, FLAGS_TABLE_NAME, CACHE_URL,
    CACHE_AUTH_SECRET_ARN, SESSION_SECRET_ARN, USER_POOL_ID, USER_POOL_CLIENT_ID,
    SHARED_CONFIG_DIR, EVENT_BUS_NAME,
)
# The cache-invalidation Lambda (runtime/cache/invalidation.py) needs CACHE_URL and,
# when the cache requires AUTH, CACHE_AUTH_SECRET_ARN.
INVALIDATION_ENVIRONMENT: tuple[str, ...] = (CACHE_URL, CACHE_AUTH_SECRET_ARN)


def storefront_event_bus_name() -> str | None:
    return _optional(EVENT_BUS_NAME)


def storefront_port() -> int:
    return container_port()


# --- A commerce function served from a container (container/, AppTier compute=FARGATE) -------
# Which function's routes the container serves (a name in routes.FUNCTIONS); it accepts ID
# tokens of any app client of USER_POOL_ID, as API Gateway's authorizer does.
SERVED_FUNCTION = "SERVED_FUNCTION"


def container_port() -> int:
    """The port a container listens on (PORT, default 8080): the storefront's and the commerce
    functions' alike."""
    return int(os.environ.get(PORT) or STOREFRONT_DEFAULT_PORT)


def storefront_api_url() -> str:
    return os.environ[STOREFRONT_API_URL].rstrip("/")


def session_table_name() -> str | None:
    return _optional(SESSION_TABLE_NAME)


def flags_table_name() -> str | None:
    return _optional(FLAGS_TABLE_NAME)


def cache_url() -> str | None:
    """CACHE_URL, else local mode's REDIS_URL; None → the in-process cache."""
    return _optional(CACHE_URL) or _optional(REDIS_URL)


def cache_auth_secret_arn() -> str | None:
    return _optional(CACHE_AUTH_SECRET_ARN)


def session_secret_arn() -> str | None:
    return _optional(SESSION_SECRET_ARN)


def user_pool_id() -> str | None:
    return _optional(USER_POOL_ID)


def user_pool_client_id() -> str | None:
    return _optional(USER_POOL_CLIENT_ID)


def shared_config_dir() -> str:
    return os.environ.get(SHARED_CONFIG_DIR) or SHARED_CONFIG_DEFAULT_DIR
