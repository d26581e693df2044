"""schemathesis over local mode: every operation of the served openapi.json, generated valid and
invalid requests, signed in with a Cognito ID token from the embedded user pool. Every response
must be < 500 and match the status code, content type and schema the document gives for it."""

from __future__ import annotations

import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from headless_commerce.runtime.openapi import openapi_document
from tests.e2e.conftest import Local, request, sign_up

# Bounded: 14 operations x EXAMPLES requests (a few hundred in all, well under two minutes).
EXAMPLES = 15
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance]


@pytest.fixture(scope="module")
def id_token(local: Local) -> str:
    return sign_up(local).token


class Counter:
    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.requests += 1


SENT = Counter()
# Loaded from the same builder local mode serves (checked below), not lazily from the server:
# schemathesis' fixture-based loader does not run under pytest 9.
schema = schemathesis.openapi.from_dict(openapi_document())


def test_local_mode_serves_this_document(local: Local):
    served = request("GET", f"{local.api}/openapi.json").body
    assert served == {**openapi_document(), "servers": [{"url": local.api, "description": "local mode"}]}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_honours_the_document(case, local: Local, id_token: str):
    SENT.add()
    case.call_and_validate(base_url=local.api, headers={"Authorization": id_token}, checks=CHECKS)

