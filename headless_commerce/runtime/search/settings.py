"""Environment variables of the search functions, shared by CDK (which sets them) and runtime."""

from __future__ import annotations

# "opensearch" (a managed domain or a serverless collection) or "local" (tantivy, local mode).
ENV_SEARCH_PROVIDER = "SEARCH_PROVIDER"
# HTTPS endpoint host of the domain or collection, without the scheme.
ENV_SEARCH_ENDPOINT = "SEARCH_ENDPOINT"
# SigV4 service name: "es" for a managed domain, "aoss" for a serverless collection.
ENV_SEARCH_SIGNING_SERVICE = "SEARCH_SIGNING_SERVICE"
# The alias that queries and the indexer use; reindexing swaps it to a new physical index.
ENV_SEARCH_ALIAS = "SEARCH_ALIAS"
# Replicas per shard of a new index: 0 on one node (dev), 2 across three AZs (prod).
ENV_SEARCH_REPLICAS = "SEARCH_REPLICAS"
# Role ARN that the search (query) function runs as, mapped to a read-only OpenSearch role.
ENV_SEARCH_READER_ROLE_ARN = "SEARCH_READER_ROLE_ARN"

DEFAULT_ALIAS = "products"
ENVIRONMENT_VARIABLES: tuple[str, ...] = (
    ENV_SEARCH_PROVIDER, ENV_SEARCH_ENDPOINT, ENV_SEARCH_SIGNING_SERVICE, ENV_SEARCH_ALIAS,
    ENV_SEARCH_REPLICAS, ENV_SEARCH_READER_ROLE_ARN,
)
