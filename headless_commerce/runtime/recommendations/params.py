"""GET /recommendations query parameters: their limits (also openapi.py's) and parsing.
Standard library and the route table only, so the OpenAPI builder imports it cheaply."""

from __future__ import annotations

import re
from dataclasses import dataclass

from headless_commerce.runtime.common.errors import bad_request
from headless_commerce.runtime.routes import PATH_PARAM_PATTERN

DEFAULT_LIMIT = 8
MAX_LIMIT = 20
# The slot a request fills, one recommender each: home ("for_you", a shopper), product page
# ("also_viewed") and cart ("bought_together"), the last two about `product_id`.
KINDS = ("for_you", "also_viewed", "bought_together")
# An opaque shopper id (the storefront sends a hash of its session): Personalize's user for an
# anonymous "recommended for you", the same id the storefront's events carry.
VISITOR_PATTERN = r"[A-Za-z0-9_-]{16,64}"

_ID = re.compile(PATH_PARAM_PATTERN)
_LIMIT = re.compile(r"[0-9]{1,3}")
_VISITOR = re.compile(VISITOR_PATTERN)


@dataclass(frozen=True)
class RecommendationQuery:
    product_id: str | None
    limit: int
    kind: str
    visitor_id: str | None


def parse(query: dict[str, str]) -> RecommendationQuery:
    product_id = query.get("product_id")
    if product_id is not None and not _ID.fullmatch(product_id):
        raise bad_request("invalid_parameter", "product_id has an invalid format", "product_id")
    raw_limit = query.get("limit")
    if raw_limit is None:
        limit = DEFAULT_LIMIT
    elif not _LIMIT.fullmatch(raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise bad_request("invalid_parameter", f"limit must be an integer 1..{MAX_LIMIT}", "limit")
    else:
        limit = int(raw_limit)
    kind = query.get("kind") or ("also_viewed" if product_id else "for_you")
    if kind not in KINDS:
        raise bad_request("invalid_parameter", f"kind must be one of {', '.join(KINDS)}", "kind")
    if kind != "for_you" and product_id is None:
        raise bad_request("invalid_parameter", f"kind {kind} needs a product_id", "product_id")
    visitor = query.get("visitor_id")
    if visitor is not None and not _VISITOR.fullmatch(visitor):
        raise bad_request("invalid_parameter", "visitor_id has an invalid format", "visitor_id")
    return RecommendationQuery(product_id, limit, kind, visitor)
