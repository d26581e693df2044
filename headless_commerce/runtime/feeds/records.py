"""What the three feed consumers share: their record schemas and how a redelivery is known."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from headless_commerce.runtime.common.validation import compiled
from headless_commerce.runtime.feeds.msk import KafkaRecord

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"


@cache
def schema(name: str) -> dict:
    return json.loads((SCHEMAS_DIR / f"{name}.json").read_text(encoding="utf-8"))


@cache
def validator(name: str) -> Callable[[object], tuple[str | None, str] | None]:
    """The schema `name` compiled once per process (on first use, not at import)."""
    return compiled(schema(name))


def delivered_before(stored: dict | None, record: KafkaRecord) -> bool:
    """True when the item was last written by this record or a later one of its partition: a
    redelivery (a retried batch, a crash mid-batch), already applied or superseded."""
    return bool(stored) and stored.get("stream") == record.stream and record.offset <= stored.get("offset", -1)
