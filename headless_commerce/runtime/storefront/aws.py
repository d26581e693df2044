"""AWS clients for the storefront, created on first use from worker threads.

boto3's default session is not thread-safe to create clients from, and the storefront's first
calls (sign-in, a flag read, a published interaction) can arrive on several threads at once:
each client comes from its own session, created under one lock. Callers keep the client they
get (per instance, not per process: local mode and tests start storefronts against different
endpoints in one process).
"""

from __future__ import annotations

import threading

_lock = threading.Lock()


def client(service: str):
    import boto3  # deferred: the storefront starts and renders without AWS (local mode, tests)

    with _lock:
        return boto3.session.Session().client(service)


def table(name: str):
    import boto3

    with _lock:
        return boto3.session.Session().resource("dynamodb").Table(name)
