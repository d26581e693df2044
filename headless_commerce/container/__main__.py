"""`python -m headless_commerce.container`: serve one commerce function's routes over HTTP.

The same handler code as the Lambda, behind the same adapter local mode uses
(local/http_adapter.py): an HTTP request becomes the API Gateway proxy event the handler
already understands. API Gateway reaches the container through a VPC link and an internal
NLB (HTTP_PROXY integration); it has already checked Cognito tokens on `user` routes, and the
container checks them again against the pool's keys, so nothing that reaches the NLB some
other way is trusted on its word.

Env: SERVED_FUNCTION (a name in routes.FUNCTIONS), USER_POOL_ID (ID tokens of any of its app
clients are accepted, as API Gateway's authorizer does), AWS_REGION (set by ECS), PORT
(default 8080), and the function's own environment (TABLE_NAME, ...). GET /healthz answers
without touching any dependency, for the load balancer and the container health check.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.request

from headless_commerce.local.auth import TokenVerifier
from headless_commerce.local.http_adapter import LocalApi, Router, make_server
from headless_commerce.runtime import settings
from headless_commerce.runtime.routes import FUNCTIONS, ROUTES

HEALTH_PATH = settings.HEALTH_PATH
JWKS_ATTEMPTS = 5
log = logging.getLogger("headless_commerce.container")


def issuer(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def fetch_jwks(url: str, attempts: int = JWKS_ATTEMPTS) -> dict:
    """The pool's public keys; retried, because a task may start before its NAT route is warm."""
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                return json.loads(reply.read())
        except (OSError, ValueError) as error:
            if attempt == attempts - 1:
                raise
            log.warning("fetching %s failed (%s); retrying", url, error)
            time.sleep(2 ** attempt)
    raise AssertionError("unreachable")


def build_api(function: str, verifier: TokenVerifier) -> LocalApi:
    if function not in FUNCTIONS:
        raise SystemExit(f"SERVED_FUNCTION must be one of {', '.join(sorted(FUNCTIONS))}, got {function!r}")
    return LocalApi(verifier=verifier, documents={HEALTH_PATH: lambda: {"status": "ok"}},
                    router=Router(r for r in ROUTES if r.function == function),
                    allowed_origin=settings.allowed_origin() or "*", post_confirmation=False)


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), stream=sys.stderr)
    function = os.environ[settings.SERVED_FUNCTION]
    region = os.environ["AWS_REGION"]
    pool = os.environ[settings.USER_POOL_ID]
    pool_issuer = issuer(region, pool)
    verifier = TokenVerifier(fetch_jwks(f"{pool_issuer}/.well-known/jwks.json"), issuer=pool_issuer,
                             client_id=None)
    server = make_server("0.0.0.0", settings.container_port())
    server.api = build_api(function, verifier)

    def stop(*_: object) -> None:
        # ECS sends SIGTERM after deregistering the task from the NLB: finish what is in flight.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("serving %s on port %s", function, server.server_address[1])
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
