"""A bounded in-process LRU with per-entry expiry: the storefront's cache when there is no
Valkey (CACHE_URL unset), shared with the invalidation handler in the same process."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from headless_commerce.runtime.cache.keys import generation

MEMORY_MAX_ENTRIES = 5000


class MemoryCache:
    """The in-process cache (no CACHE_URL): a bounded LRU with per-entry expiry."""

    kind = "in-process"

    def __init__(self, max_entries: int = MEMORY_MAX_ENTRIES) -> None:
        self._entries: OrderedDict[str, tuple[float | None, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def _get(self, key: str) -> object | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            expires, value = found
            if expires is not None and expires <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def _set(self, key: str, value: object, ttl: float | None) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + ttl if ttl else None, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    async def get(self, key: str) -> object | None:
        return self._get(key)

    async def set(self, key: str, value: object, ttl: float) -> None:
        self._set(key, value, ttl)

    async def generation(self, key: str) -> int:
        return generation(self._get(key))

    def bump(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                _expires, value = self._entries.get(key, (None, 0))
                self._entries[key] = (None, generation(value) + 1)

    async def close(self) -> None:
        pass


# Local mode runs the invalidation handler in the storefront's process: without CACHE_URL both
# share this one in-process cache, so invalidation really happens there too.
PROCESS_CACHE = MemoryCache()
