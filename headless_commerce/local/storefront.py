"""The storefront in local mode: the same ASGI app the container runs, served by uvicorn on
its own port in a thread, against local mode's API, embedded Cognito and tables.

Cache: a Valkey/Redis server when REDIS_URL (or CACHE_URL) is set, the in-process cache
otherwise; the cache-invalidation handler runs on local mode's event flow either way.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from headless_commerce.runtime import settings

log = logging.getLogger("headless_commerce.local")
START_TIMEOUT_S = 30


def describe_cache(url: str | None) -> str:
    """What the start-up banner says about the cache (never a password)."""
    if not url:
        return "in-process (set REDIS_URL=redis://host:6379 to use a Valkey/Redis server)"
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return f"Valkey/Redis at {urlunsplit((parts.scheme, netloc, parts.path, '', ''))}"


class LocalStorefront:
    def __init__(self, host: str, port: int) -> None:
        # Bound now, so a busy port fails before anything else starts.
        self.socket = socket.create_server((host, port))
        self.server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        from headless_commerce.local.http_adapter import advertised_host

        host, port = self.socket.getsockname()[:2]
        return f"http://{advertised_host(host)}:{port}"

    def start(self, *, api_url: str, session_table: str, flags_table: str,
              user_pool_client_id: str) -> str:
        import uvicorn

        from headless_commerce.runtime.storefront.app import create_app
        from headless_commerce.runtime.storefront.config import StorefrontConfig

        cache_url = settings.cache_url()
        shared = os.environ.get(settings.SHARED_CONFIG_DIR)
        config = StorefrontConfig(
            api_url=api_url, cache_url=cache_url, session_table=session_table,
            flags_table=flags_table, user_pool_client_id=user_pool_client_id,
            shared_dir=Path(shared) if shared else None,
            # Plain HTTP on this machine: Secure cookies would never come back.
            secure_cookies=False, local_mode=True, assets_url=api_url)
        self.server = uvicorn.Server(uvicorn.Config(
            create_app(config), log_level="warning", access_log=False, lifespan="on",
            server_header=False))
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                        name="storefront", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the storefront did not start")
            time.sleep(0.02)
        return describe_cache(cache_url)

    def stop(self) -> None:
        if self.server is not None and self._thread is not None:
            self.server.should_exit = True
            self._thread.join(timeout=10)
        self.socket.close()
