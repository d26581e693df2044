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


def merge(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Caller's props win over the secure defaults, key by key."""
    return {**defaults, **(overrides or {})}
