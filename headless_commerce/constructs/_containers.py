"""What every container this library runs shares: the port it listens on and its health probe."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs

from ..runtime import settings

CONTAINER_PORT = settings.STOREFRONT_DEFAULT_PORT
HEALTH_CHECK_PATH = settings.HEALTH_PATH
# The slim images have no curl; Python is there. PORT may be overridden in the task's environment.
_PROBE = ("import os, urllib.request; urllib.request.urlopen("
          f"'http://127.0.0.1:' + os.environ.get('PORT', '{CONTAINER_PORT}') + '{HEALTH_CHECK_PATH}', timeout=2)")


def container_health_check(start_period: Duration) -> ecs.HealthCheck:
    """ECS's own liveness probe against the container's health path."""
    return ecs.HealthCheck(command=["CMD", "python", "-c", _PROBE], interval=Duration.seconds(15),
                           timeout=Duration.seconds(5), retries=3, start_period=start_period)
