"""Feature flags from a DynamoDB configuration table, read with a short cache.

Flags table (WebTier creates it; `FLAGS_TABLE_NAME`): partition key `flag` (S), attribute
`enabled` (BOOL). Setting `{"flag": "search", "enabled": false}` hides search within
`REFRESH_S` on every task, with no deploy. A flag missing from the table takes its default
(`DEFAULTS`); an unreadable table keeps the last values read (or the defaults).
"""

from __future__ import annotations

import logging
import threading
import time

from headless_commerce.model import FLAGS_ENABLED_ATTRIBUTE, FLAGS_PARTITION_KEY
from headless_commerce.runtime.storefront import aws

log = logging.getLogger("headless_commerce.storefront")

REFRESH_S = 10.0
DEFAULTS: dict[str, bool] = {"search": True, "recommendations": True, "chat": True,
                             "store_locator": True}


class Flags:
    def __init__(self, table_name: str | None, *, refresh_s: float = REFRESH_S) -> None:
        self._table_name = table_name
        self._refresh_s = refresh_s
        self._values = dict(DEFAULTS)
        self._read_at = float("-inf")
        self._lock = threading.Lock()
        self._table = None

    def _scan(self) -> dict[str, bool]:
        if self._table is None:
            self._table = aws.table(self._table_name)
        values = dict(DEFAULTS)
        kwargs: dict = {"ProjectionExpression": "#f, #e", "ExpressionAttributeNames": {
            "#f": FLAGS_PARTITION_KEY, "#e": FLAGS_ENABLED_ATTRIBUTE}}
        while True:
            page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                name, enabled = item.get(FLAGS_PARTITION_KEY), item.get(FLAGS_ENABLED_ATTRIBUTE)
                if isinstance(name, str) and isinstance(enabled, bool):
                    values[name] = enabled
            if "LastEvaluatedKey" not in page:
                return values
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def current(self) -> dict[str, bool]:
        """All flags; re-reads the table at most every `refresh_s` (blocking: call it from a
        worker thread)."""
        if not self._table_name:
            return dict(self._values)
        with self._lock:
            if time.monotonic() - self._read_at >= self._refresh_s:
                try:
                    self._values = self._scan()
                except Exception as error:   # keep serving with what we had
                    log.warning("reading feature flags failed (%s); keeping the last values",
                                type(error).__name__)
                self._read_at = time.monotonic()
            return dict(self._values)
