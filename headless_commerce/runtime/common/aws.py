"""Lazily created AWS clients: nothing connects or reads config at import time."""

from __future__ import annotations

import threading
from functools import cache

from headless_commerce.runtime import settings

_lock = threading.Lock()


def table_name() -> str:
    return settings.table_name()


@cache
def _client(service: str, timeout_s: float | None = None):
    import boto3  # deferred: keeps module import cheap for tests and tools that never call AWS

    config = None
    if timeout_s is not None:
        from botocore.config import Config

        config = Config(connect_timeout=timeout_s, read_timeout=timeout_s,
                        retries={"total_max_attempts": 1, "mode": "standard"})
    # boto3's default session is not thread-safe to create clients from.
    with _lock:
        return boto3.session.Session().client(service, config=config)


@cache
def fail_fast_client(service: str, timeout_s: float):
    """A client for an optional dependency the caller has a fallback for: one attempt, short timeouts.

    Cached apart from the core clients, so a caller that swaps its own stubs
    (`reset_fail_fast_clients`) leaves the DynamoDB client and its registered hooks alone.
    """
    return _client.__wrapped__(service, timeout_s)


def reset_fail_fast_clients() -> None:
    fail_fast_client.cache_clear()


def dynamodb():
    return _client("dynamodb")


def secretsmanager():
    return _client("secretsmanager")


def sqs():
    return _client("sqs")


def eventbridge():
    return _client("events")


def personalize():
    return _client("personalize")


def personalize_events():
    return _client("personalize-events")


def ssm():
    return _client("ssm")


def sesv2():
    return _client("sesv2")


def sms_voice():
    """AWS End User Messaging SMS (the pinpoint-sms-voice-v2 API)."""
    return _client("pinpoint-sms-voice-v2")


def sns():
    return _client("sns")


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and credentials between cases)."""
    _client.cache_clear()
    fail_fast_client.cache_clear()
