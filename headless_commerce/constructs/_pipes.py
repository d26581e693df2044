"""What every EventBridge Pipe here gets: an execution role only Pipes can assume for this
account's pipes, error logs in a CMK-encrypted group, and an alarm on failed executions."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from constructs import Construct

from ..config import Profile
from ._iam import service_role, source_arn_pattern

# Pipes reports these per pipe (namespace AWS/EventBridge/Pipes, dimension PipeName).
FAILURE_METRICS = ("ExecutionFailed", "TargetStageFailed", "EnrichmentStageFailed")


def pipe_role(scope: Construct, id: str, description: str) -> iam.Role:
    return service_role(scope, id, service="pipes.amazonaws.com", source_arn=source_arn_pattern("pipes", "pipe/*"),
                        description=description)


def pipe_logs(scope: Construct, id: str, *, role: iam.IRole, profile: Profile | None,
              encryption_key: kms.IKey | None) -> tuple[logs.LogGroup, pipes.CfnPipe.PipeLogConfigurationProperty]:
    """An encrypted log group the pipe writes its ERROR records to (with the role's grant)."""
    group = logs.LogGroup(scope, id, encryption_key=encryption_key,
                          retention=profile.log_retention if profile else logs.RetentionDays.ONE_YEAR,
                          removal_policy=profile.removal_policy if profile else RemovalPolicy.RETAIN)
    group.grant_write(role)
    # ERROR logs each failed execution with its reason; execution data (event bodies, which
    # carry customer ids and order contents) stays out of the logs.
    return group, pipes.CfnPipe.PipeLogConfigurationProperty(
        level="ERROR", cloudwatch_logs_log_destination=pipes.CfnPipe.CloudwatchLogsLogDestinationProperty(
            log_group_arn=group.log_group_arn))


def pipe_failure_alarm(scope: Construct, id: str, pipe: pipes.CfnPipe, what: str) -> cloudwatch.Alarm:
    """Alarm on the first failed execution in any stage (source batch, enrichment, target)."""
    metrics = {
        name.lower(): cloudwatch.Metric(namespace="AWS/EventBridge/Pipes", metric_name=name,
                                        dimensions_map={"PipeName": pipe.ref}, statistic="Sum",
                                        period=Duration.minutes(1))
        for name in FAILURE_METRICS
    }
    return cloudwatch.Alarm(
        scope, id, alarm_description=f"The {what} pipe failed executions; see its ERROR log group",
        metric=cloudwatch.MathExpression(expression="+".join(f"FILL({m}, 0)" for m in metrics),
                                         using_metrics=metrics, period=Duration.minutes(1)),
        threshold=0, evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
