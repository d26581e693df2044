"""The event contracts (JSON Schema draft 4, one file per event under common/contracts/),
checked at run time with the project's own validator (jsonschema is not shipped to Lambda).

The same files feed the EventBridge schema registry (constructs/event_bus.py), so the file
name is the event name and the files stay plain JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache, lru_cache
from pathlib import Path

from headless_commerce.runtime.common.validation import first_error

CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "common" / "contracts"


class ContractError(ValueError):
    """An event does not match its contract; `reason` names the offending field."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


@lru_cache(maxsize=1)
def _names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in CONTRACTS_DIR.glob("*.json")))


@cache
def _load(name: str) -> dict:
    return json.loads((CONTRACTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


class _Contracts(Mapping):
    """name -> schema; a file is read the first time its event is validated, so a function
    pays only for the contracts of the events it handles. Only names listed in the directory
    are looked up: `detail_type` comes from the message and must never become a path."""

    def __getitem__(self, name: str) -> dict:
        if name not in _names():
            raise KeyError(name)
        return _load(name)

    def __iter__(self) -> Iterator[str]:
        return iter(_names())

    def __len__(self) -> int:
        return len(_names())


CONTRACTS: Mapping[str, dict] = _Contracts()


def validate_event(envelope: object) -> None:
    """Raise ContractError unless `envelope` is a valid event of a known type."""
    if not isinstance(envelope, dict):
        raise ContractError("event must be a JSON object")
    name = envelope.get("detail_type")
    if not isinstance(name, str) or name not in CONTRACTS:
        raise ContractError(f"detail_type {name!r} has no contract", "detail_type")
    error = first_error(CONTRACTS[name], envelope)
    if error:
        field, message = error
        raise ContractError(f"{field or 'event'} {message}", field)
