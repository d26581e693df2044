"""The fallback ranking, from our own order events: products bought together with the one
being looked at, then the most ordered in the last days, then the catalog's own order, so a
known catalog always fills the slot."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from headless_commerce.runtime import settings
from headless_commerce.runtime.catalog import repository as catalog
from headless_commerce.runtime.recommendations import signals_repository as signals

DEFAULT_WINDOW_DAYS = 7
# Day counters are kept this long (their TTL), so any window up to it can be configured.
MAX_WINDOW_DAYS = 30
# Each partition read returns at most this many candidates: the read cost of a request is
# bounded by (1 + window days) Queries of this size, whatever the order history.
CANDIDATES = 50


def window_days() -> int:
    raw = settings.popular_window_days()
    if raw is None:
        return DEFAULT_WINDOW_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"POPULAR_WINDOW_DAYS must be an integer 1..{MAX_WINDOW_DAYS}, got {raw!r}") from None
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValueError(f"POPULAR_WINDOW_DAYS must be 1..{MAX_WINDOW_DAYS}, got {days}")
    return days


def recent_days(today: date, days: int) -> list[str]:
    """ISO dates of the last `days` days, today included (UTC, as orders' occurred_at)."""
    return [(today - timedelta(days=n)).isoformat() for n in range(days)]


def candidates(product_id: str | None, today: date) -> list[str]:
    """Product ids, best first, without duplicates and without `product_id` itself."""
    ranked: list[str] = []
    if product_id is not None:
        ranked += [p for p, _ in signals.top_bought_with(product_id, CANDIDATES)]
    ranked += [p for p, _ in signals.top_popular(recent_days(today, window_days()), CANDIDATES)]
    return _unique(ranked, exclude={product_id} if product_id else set())


def fill(chosen: list[dict], limit: int, exclude: set[str]) -> list[dict]:
    """Top `chosen` (product items) up to `limit` from the catalog listing: a shop with no
    orders yet still shows products. Reads one page of at most 2 * limit + excluded."""
    if len(chosen) >= limit:
        return chosen[:limit]
    taken = exclude | {item["product_id"] for item in chosen}
    page, _ = catalog.list_products(None, min(100, 2 * limit + len(taken)), None)
    for item in page:
        if len(chosen) >= limit:
            break
        if item["product_id"] not in taken:
            chosen.append(item)
            taken.add(item["product_id"])
    return chosen


def _unique(ids: Iterable[str], exclude: set[str]) -> list[str]:
    seen = set(exclude)
    out = []
    for product_id in ids:
        if product_id not in seen:
            seen.add(product_id)
            out.append(product_id)
    return out
