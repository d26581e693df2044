"""Local mode end to end: one `headless-commerce local --port 0` subprocess for the session,
driven over HTTP (urllib) and, for Cognito, boto3 against the embedded AWS it advertises."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"^\s+API\s+(http://\S+)", re.MULTILINE)
START_TIMEOUT_S = 180     # a guard against hangs: a shared CI machine can be slow
PASSWORD = "Local-Mode-Passw0rd!"


@dataclass
class Running:
    process: subprocess.Popen
    output: Path

    def text(self) -> str:
        return self.output.read_text(errors="replace")


def start_local(*args: str, wait: bool = True) -> tuple[Running, str | None]:
    """Start local mode; with `wait`, until it prints its API URL (returned)."""
    output = Path(tempfile.mkstemp(prefix="hc-local-", suffix=".log")[1])
    # Nothing of the test process's AWS/handler settings (tests/runtime sets some) leaks in.
    handler_vars = {"TABLE_NAME", "DAX_ENDPOINT", "ALLOWED_ORIGIN", "EVENT_BUS_NAME",
                    "CONSENT_LEDGER_TABLE_NAME", "AUDIENCE_TABLE_NAME", "DEAD_LETTER_QUEUE_URL"}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PAYMENT_", "POWERTOOLS_")) and k not in handler_vars}
    env["PYTHONUNBUFFERED"] = "1"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "headless_commerce.cli", "local", *args],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    running = Running(process, output)
    if not wait:
        return running, None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        found = READY.search(running.text())
        if found:
            return running, found.group(1)
        if process.poll() is not None:
            raise AssertionError(f"local mode exited {process.returncode}:\n{running.text()}")
        time.sleep(0.1)
    stop_local(running)
    raise AssertionError(f"local mode did not start in {START_TIMEOUT_S} s:\n{running.text()}")


def stop_local(running: Running, timeout: float = 60) -> int:
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGTERM)
        try:
            running.process.wait(timeout)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait(5)
    return running.process.returncode


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: object
    raw: bytes


def request(method: str, url: str, *, body: object = None, raw: bytes | None = None,
            headers: dict[str, str] | None = None, token: str | None = None) -> Reply:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    all_headers = dict(headers or {})
    if data is not None:
        all_headers.setdefault("Content-Type", "application/json")
    if token:
        all_headers["Authorization"] = token
    req = urllib.request.Request(url, method=method, data=data, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            status, got, payload = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, got, payload = error.code, dict(error.headers), error.read()
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = None
    return Reply(status, got, parsed, payload)


@dataclass
class Local:
    running: Running
    api: str
    well_known: dict

    def call(self, method: str, path: str, **kwargs) -> Reply:
        return request(method, self.api + path, **kwargs)

    def client(self, service: str):
        import boto3

        return boto3.session.Session().client(
            service, endpoint_url=self.well_known["aws_endpoint_url"],
            region_name=self.well_known["region"],
            aws_access_key_id="local", aws_secret_access_key="local")


@contextlib.contextmanager
def running_local(*args: str):
    """A local mode for a fixture's scope; afterwards it must have stopped cleanly, with no
    handler crash in its log, whatever the tests sent it."""
    running, api = start_local("--port", "0", *args)
    try:
        well_known = request("GET", f"{api}/.well-known/headless-commerce.json").body
        yield Local(running, api, well_known)
    finally:
        code = stop_local(running)
        log = running.text()
        running.output.unlink(missing_ok=True)
    assert code == 0, log
    assert "unhandled error" not in log and "Traceback" not in log, log


@pytest.fixture(scope="session")
def local() -> Local:
    with running_local() as store:
        yield store


@dataclass
class Shopper:
    email: str
    sub: str
    token: str


def sign_up(local: Local) -> Shopper:
    """Sign up, confirm (moto accepts any code) and sign in against the embedded Cognito."""
    cognito = local.client("cognito-idp")
    client_id = local.well_known["user_pool_client_id"]
    email = f"shopper-{uuid.uuid4().hex[:10]}@example.com"
    sub = cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD,
                          UserAttributes=[{"Name": "email", "Value": email}])["UserSub"]
    cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode="000000")
    tokens = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
                                   )["AuthenticationResult"]
    return Shopper(email, sub, tokens["IdToken"])


@pytest.fixture
def shopper(local: Local) -> Shopper:
    return sign_up(local)
