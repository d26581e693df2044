"""The commerce container's entrypoint: one function's routes over real HTTP, through the same
adapter local mode uses, with Cognito tokens checked against the pool's keys."""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from headless_commerce.container.__main__ import HEALTH_PATH, build_api, fetch_jwks, issuer
from headless_commerce.local.auth import TokenVerifier
from headless_commerce.local.http_adapter import make_server
from tests.dockerfiles import PACKAGE, PINNED, assert_staged_image_runs, instructions, pinned_requirements

POOL = "us-east-1_Pool"
ISSUER = issuer("us-east-1", POOL)


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"})


def _token(key: RSAKey, **overrides) -> str:
    claims = {"sub": "alice", "email": "alice@example.com", "token_use": "id", "aud": "storefront-client",
              "iss": ISSUER, "exp": int(time.time()) + 600, "iat": int(time.time()), **overrides}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _serve(function: str, key: RSAKey):
    verifier = TokenVerifier(KeySet([key]).as_dict(private=False), issuer=ISSUER, client_id=None)
    server = make_server("127.0.0.1", 0)
    server.api = build_api(function, verifier)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_catalog_container_serves_its_routes_and_only_those(catalog, key):
    server = _serve("catalog", key)
    try:
        status, body = _get(f"{server.url}/products/p-mug")
        assert status == 200 and body["product_id"] == "p-mug"
        assert _get(f"{server.url}/products?limit=2")[1]["items"]
        assert _get(f"{server.url}{HEALTH_PATH}") == (200, {"status": "ok"})
        # Another function's route is not served here, whatever API Gateway's table says.
        assert _get(f"{server.url}/cart", _token(key))[0] == 404
        assert _get(f"{server.url}/products/bad%20id")[0] == 400
    finally:
        server.shutdown()


def test_user_routes_check_the_token_again_and_accept_any_client_of_the_pool(catalog, key):
    server = _serve("cart", key)
    try:
        assert _get(f"{server.url}/cart")[0] == 401
        assert _get(f"{server.url}/cart", _token(key, iss=issuer("us-east-1", "other")))[0] == 401
        assert _get(f"{server.url}/cart", _token(key, exp=int(time.time()) - 5))[0] == 401
        forged = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        assert _get(f"{server.url}/cart", _token(forged))[0] == 401
        for client in ("storefront-client", "mobile-client"):
            status, body = _get(f"{server.url}/cart", _token(key, aud=client))
            assert status == 200 and body["lines"] == []
    finally:
        server.shutdown()


def test_an_unknown_function_stops_the_container():
    with pytest.raises(SystemExit, match="SERVED_FUNCTION must be one of"):
        build_api("nope", None)


def test_keys_are_fetched_with_retries():
    keys = {"keys": [{"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}]}
    calls = []

    class Flaky(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            calls.append(self.path)
            if len(calls) == 1:
                self.send_error(503)
                return
            body = json.dumps(keys).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
        assert fetch_jwks(url, attempts=3) == keys and len(calls) == 2
    finally:
        server.shutdown()


# ---- the image (no Docker engine here: what can be checked without building) ------------------

DOCKERFILE = PACKAGE / "container" / "Dockerfile"


def test_image_is_slim_non_root_with_a_health_check_and_pinned_requirements():
    steps = instructions(DOCKERFILE)
    assert steps[0][0] == "FROM" and steps[0][1].startswith("python:3.14-slim")
    assert [arg for op, arg in steps if op == "USER"][-1].strip() not in ("root", "0")
    assert any(op == "HEALTHCHECK" and HEALTH_PATH in arg for op, arg in steps)
    lines = pinned_requirements(PACKAGE / "container" / "requirements.txt")
    assert lines and all(PINNED.fullmatch(line) for line in lines)
    # The same versions the tests run against.
    dev = set(pinned_requirements(PACKAGE.parent / "requirements-dev.txt"))
    assert {line for line in lines if line.split("==")[0] in ("boto3", "aws-lambda-powertools", "joserfc")} <= dev


def test_the_copied_files_are_enough_to_serve(tmp_path):
    assert_staged_image_runs(DOCKERFILE, tmp_path, (
        "import headless_commerce; from headless_commerce.container.__main__ import build_api;"
        "from headless_commerce.runtime.routes import FUNCTIONS;"
        "[build_api(name, None) for name in FUNCTIONS]; print(headless_commerce.__file__)"))
