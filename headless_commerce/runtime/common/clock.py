"""Time in the two shapes items use: ISO-8601 for humans and sort keys, epoch for TTL."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_iso() -> str:
    # Microseconds keep sort keys of orders placed in the same second in order.
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def epoch() -> int:
    return int(time.time())


def age_seconds(iso: str) -> float:
    then = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (datetime.now(UTC) - then).total_seconds()
