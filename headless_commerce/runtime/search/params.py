"""What a search or suggest request asks for, validated; and the opaque page cursor.

Validation lives here (not in a provider) so both providers see only well-formed requests
and a client gets the same 400 whichever engine answers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field

from headless_commerce.runtime.common.domain_errors import InvalidSearch, InvalidSearchCursor

MAX_QUERY_LENGTH = 200
MAX_FILTER_VALUES = 20
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
SUGGEST_SIZE = 8
MAX_PRICE = 100_000_000
SORTS = ("relevance", "price_asc", "price_desc", "newest")
# Price facet bands in minor units: [from, to) like OpenSearch's range aggregation.
PRICE_BANDS: tuple[tuple[int, int | None], ...] = (
    (0, 2500), (2500, 5000), (5000, 10000), (10000, 20000), (20000, None))
# ASCII digits only: str.isdigit() also accepts "²" and "٣", which int() rejects or misreads.
_DIGITS = re.compile(r"[0-9]{1,9}")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_BRAND_MAX = 200
_MAX_CURSOR = 512


def band_key(low: int, high: int | None) -> str:
    return f"{low}-{high}" if high is not None else f"{low}-"


@dataclass(frozen=True)
class SearchQuery:
    text: str
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool | None = None
    sort: str = "relevance"
    size: int = DEFAULT_PAGE_SIZE
    # Where the previous page ended: sort values chosen by the provider that made the page.
    after: tuple = field(default=())

    def fingerprint(self) -> str:
        """What a cursor is bound to: the same query, filters and sort (not the page)."""
        data = [self.text, self.categories, self.brands, self.min_price, self.max_price,
                self.in_stock, self.sort]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:12]


def _text(raw: str | None, field_name: str) -> str:
    text = " ".join((raw or "").split())
    if not text:
        raise InvalidSearch(field_name, f"{field_name} must not be empty")
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidSearch(field_name, f"{field_name} must be at most {MAX_QUERY_LENGTH} characters")
    return text


def _list(raw: str | None, field_name: str, pattern: re.Pattern | None, limit: int) -> tuple[str, ...]:
    """Comma-separated filter values (`brand=Sonique,Volt Labs`)."""
    if raw is None:
        return ()
    values = tuple(dict.fromkeys(v.strip() for v in raw.split(",") if v.strip()))
    if not values:
        raise InvalidSearch(field_name, f"{field_name} must name at least one value")
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidSearch(field_name, f"{field_name} accepts at most {MAX_FILTER_VALUES} values")
    for value in values:
        if (pattern is not None and not pattern.match(value)) or len(value) > limit:
            raise InvalidSearch(field_name, f"{field_name} has an invalid value")
    return values


def _price(raw: str | None, field_name: str) -> int | None:
    if raw is None:
        return None
    if not _DIGITS.fullmatch(raw) or int(raw) > MAX_PRICE:
        raise InvalidSearch(field_name, f"{field_name} must be an integer amount in minor units, "
                                        f"0..{MAX_PRICE}")
    return int(raw)


def _bool(raw: str | None, field_name: str) -> bool | None:
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise InvalidSearch(field_name, f"{field_name} must be true or false")
    return raw == "true"


def _size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidSearch("limit", f"limit must be an integer 1..{MAX_PAGE_SIZE}")
    return int(raw)


def encode_cursor(query: SearchQuery, after: list | tuple | None) -> str | None:
    if not after:
        return None
    raw = json.dumps({"f": query.fingerprint(), "a": list(after)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, query: SearchQuery) -> tuple:
    invalid = InvalidSearchCursor()
    if len(cursor) > _MAX_CURSOR:
        raise invalid
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(plain, dict) or plain.get("f") != query.fingerprint():
        raise invalid
    after = plain.get("a")
    # Sort values are numbers or ids; bool is an int subclass and never one of them.
    if (not isinstance(after, list) or not 1 <= len(after) <= 3
            or not all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in after)
            or any(isinstance(v, str) and len(v) > 128 for v in after)):
        raise invalid
    return tuple(after)


def parse_search(params: dict[str, str]) -> SearchQuery:
    """`GET /search` query parameters -> SearchQuery, or InvalidSearch naming the field."""
    query = SearchQuery(
        text=_text(params.get("q"), "q"),
        categories=_list(params.get("category"), "category", _ID, 64),
        brands=_list(params.get("brand"), "brand", None, _BRAND_MAX),
        min_price=_price(params.get("min_price"), "min_price"),
        max_price=_price(params.get("max_price"), "max_price"),
        in_stock=_bool(params.get("in_stock"), "in_stock"),
        sort=params.get("sort") or "relevance",
        size=_size(params.get("limit")),
    )
    if query.sort not in SORTS:
        raise InvalidSearch("sort", f"sort must be one of {', '.join(SORTS)}")
    if query.min_price is not None and query.max_price is not None and query.min_price > query.max_price:
        raise InvalidSearch("min_price", "min_price must not be greater than max_price")
    cursor = params.get("cursor")
    if cursor is not None:
        query = SearchQuery(**{**query.__dict__, "after": _decode_cursor(cursor, query)})
    return query


def parse_suggest(params: dict[str, str]) -> str:
    """`GET /search/suggest` -> the prefix to complete."""
    return _text(params.get("q"), "q")
