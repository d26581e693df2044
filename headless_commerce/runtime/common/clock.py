"""Time in the two shapes items use: ISO-8601 for humans and sort keys, epoch for TTL."""

from __future__ import annotations

import time
from datetime import UTC, datetime

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_iso(moment: datetime) -> str:
    """A timezone-aware moment in UTC, as items store it. Microseconds keep sort keys of orders
    placed in the same second in order."""
    return moment.astimezone(UTC).strftime(ISO_FORMAT)


def now_iso() -> str:
    return to_iso(datetime.now(UTC))


def epoch() -> int:
    return int(time.time())


def age_seconds(iso: str) -> float:
    then = datetime.strptime(iso, ISO_FORMAT).replace(tzinfo=UTC)
    return (datetime.now(UTC) - then).total_seconds()
