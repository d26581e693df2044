"""Shared rules for construct props: `existing_<thing>` versus `<thing>_props`, and merging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def check_exclusive(owner: str, **props: Any) -> None:
    """Raise one ValueError naming every `existing_<thing>` that was passed with `<thing>_props`.

    Reusing a resource and configuring a new one are contradictory requests; silently picking
    one would deploy something the caller did not ask for.
    """
    conflicts = [
        f"existing_{name[len('existing_'):]} and {name[len('existing_'):]}_props"
        for name, value in props.items()
        if name.startswith("existing_")
        and value is not None
        and props.get(f"{name[len('existing_'):]}_props") is not None
    ]
    if conflicts:
        raise ValueError(
            f"{owner}: pass either an existing resource or props for a new one, not both: "
            + "; ".join(conflicts)
        )


def merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None, *,
          locked: Mapping[str, str] | None = None, owner: str = "", props_name: str = "props") -> dict[str, Any]:
    """defaults < caller's props < props the construct requires (Solutions Constructs'
    `consolidateProps` order).

    `locked` maps each prop the runtime depends on to why; passing one in `overrides` raises
    one ValueError naming every such prop, instead of silently deploying something the code
    cannot work with (a table without its stream, a queue that is no longer FIFO).
    """
    refused = sorted(set(overrides or {}) & set(locked or {}))
    if refused:
        reasons = "; ".join(f"{name} ({(locked or {})[name]})" for name in refused)
        raise ValueError(f"{owner}: {props_name} cannot change {', '.join(refused)}: the runtime depends on "
                         f"them: {reasons}")
    return {**defaults, **(overrides or {})}


def check_choice(owner: str, name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(choices)}, got {value!r}")


def refuse(owner: str, conflicts: list[str]) -> None:
    """One ValueError naming every contradictory or missing prop, so a caller fixes them all at once."""
    if conflicts:
        raise ValueError(f"{owner}: " + "; ".join(conflicts))
