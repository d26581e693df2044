"""GET /recommendations: Personalize when its recommender for the slot is active, otherwise
(and whenever Personalize fails or is slow) the fallback ranking. Never empty for a known
catalog; the response names the source that served it."""

from __future__ import annotations

from datetime import UTC, datetime

from headless_commerce.runtime.catalog import repository as catalog
from headless_commerce.runtime.catalog.service import product_summary
from headless_commerce.runtime.common.domain_errors import NotFound
from headless_commerce.runtime.common.logging import count, logger
from headless_commerce.runtime.recommendations import params, personalize, ranking


def recommend(query: dict[str, str], customer_id: str | None = None) -> dict:
    request = params.parse(query)
    product_id, limit, kind = request.product_id, request.limit, request.kind
    if product_id is not None and not catalog.get_products([product_id]):
        raise NotFound("Product", "product_id")
    user_id = customer_id or request.visitor_id
    exclude = {product_id} if product_id else set()
    items = _from_personalize(kind, product_id, user_id, limit, exclude)
    source = "personalize" if items else "fallback"
    if len(items) < limit:
        # A short answer from Personalize is topped up the same way an absent one is replaced.
        have = exclude | {item["product_id"] for item in items}
        ids = [i for i in ranking.candidates(product_id, datetime.now(UTC).date()) if i not in have]
        items += _known(ids[:limit * 2], have)
    items = ranking.fill(items[:limit], limit, exclude)
    count(f"RecommendationsFrom{source.capitalize()}")
    return {"items": [product_summary(i) for i in items], "source": source, "kind": kind}


def _from_personalize(kind: str, product_id: str | None, user_id: str | None, limit: int,
                      exclude: set[str]) -> list[dict]:
    """Products from the slot's recommender; [] when there is none, it cannot be asked (a
    personal slot without a shopper) or it fails: the caller falls back."""
    if kind == "for_you" and user_id is None:
        return []
    try:
        arn = personalize.recommender_arn(kind)
        if arn is None:
            return []
        ids = personalize.recommend(arn, limit=limit, item_id=product_id, user_id=user_id)
    except personalize.PersonalizeUnavailable as error:
        logger.warning("personalize unavailable; serving the fallback", extra={"kind": kind, "reason": str(error)})
        count("PersonalizeFallbacks")
        return []
    # Items Personalize still knows but the catalog no longer has are dropped.
    return _known(ids, exclude)


def _known(ids: list[str], exclude: set[str]) -> list[dict]:
    wanted = [i for i in ids if i not in exclude]
    found = catalog.get_products(wanted)
    return [found[i] for i in wanted if i in found]
