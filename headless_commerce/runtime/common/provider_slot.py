"""One process-wide provider of an optional dependency (search, location, chat, ...).

Local mode and tests install theirs with `set`; a deployed function builds the AWS one from its
environment on first use, once, under a lock (warm Lambda invocations and the Fargate
container's threads share it). Each capability's `provider` module keeps its interface (a
Protocol) and says how to build the deployed provider; the slot is the same everywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ProviderSlot(Generic[T]):
    def __init__(self, build: Callable[[], T]) -> None:
        """`build` makes the provider when none is installed; it raises when it cannot."""
        self._build = build
        self._lock = threading.Lock()
        self._provider: T | None = None

    def set(self, provider: T | None) -> None:
        """Install `provider`; None forgets it (the next `get` builds again)."""
        with self._lock:
            self._provider = provider

    def get(self) -> T:
        with self._lock:
            if self._provider is None:
                self._provider = self._build()
            return self._provider

    def installed(self) -> bool:
        with self._lock:
            return self._provider is not None
