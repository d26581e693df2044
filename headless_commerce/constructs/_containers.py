"""What every container this library runs shares: the port it listens on and its health probe."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from ..config import Profile
from ..runtime import settings
from . import _defaults as defaults
from ._checkov import skip_checkov
from ._nag import acknowledge

CONTAINER_PORT = settings.STOREFRONT_DEFAULT_PORT
HEALTH_CHECK_PATH = settings.HEALTH_PATH
# The slim images have no curl; Python is there. PORT may be overridden in the task's environment.
_PROBE = ("import os, urllib.request; urllib.request.urlopen("
          f"'http://127.0.0.1:' + os.environ.get('PORT', '{CONTAINER_PORT}') + '{HEALTH_CHECK_PATH}', timeout=2)")


def container_health_check(start_period: Duration) -> ecs.HealthCheck:
    """ECS's own liveness probe against the container's health path."""
    return ecs.HealthCheck(command=["CMD", "python", "-c", _PROBE], interval=Duration.seconds(15),
                           timeout=Duration.seconds(5), retries=3, start_period=start_period)


def ecs_cluster(scope: Construct, id: str, *, profile: Profile, vpc: ec2.IVpc) -> ecs.Cluster:
    """A cluster with `_defaults.ecs_cluster`: Container Insights as `profile.container_insights` says."""
    cluster = ecs.Cluster(scope, id, **defaults.ecs_cluster(profile, vpc))
    if not profile.container_insights:
        reason = ("Container Insights is off by profile (dev): its metrics bill as custom metrics, about $4.80/month "
                  "a cluster; ECS's free service CPUUtilization and MemoryUtilization drive the alarms and "
                  "autoscaling. The prod profile turns it on.")
        acknowledge(cluster, "AwsSolutions-ECS4", reason)
        skip_checkov(cluster.node.default_child, "CKV_AWS_65", reason)
    return cluster
