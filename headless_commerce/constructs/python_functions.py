"""Python Lambda functions built the same way everywhere: one code asset, ARM, python3.14,
Powertools public layer, X-Ray, JSON logs to a KMS-encrypted log group with profile retention,
in the VPC, environment encrypted with the CMK, a role with only what the function needs."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ..config import Profile
from ..runtime import settings
from ._checkov import skip_checkov
from ._iam import grant_send
from ._nag import acknowledge
from ._queues import dead_letter_alarm, dead_letter_queue
from .pip_layer import PipLayer

PACKAGE_DIR = Path(__file__).resolve().parent.parent
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
# The Powertools release the runtime is tested with (requirements-dev.txt pins the same one).
POWERTOOLS_VERSION = "3.37.0"
# AWS publishes each release's layer ARN per architecture and runtime in a public SSM
# parameter, resolved at deploy time (no AWS call at synth). The versioned name, not
# `.../latest`, so a deploy never picks up a Powertools the code was not tested with.
POWERTOOLS_PARAMETER = f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/{POWERTOOLS_VERSION}"
# Regions where that parameter exists (Powertools' own publishing list). Elsewhere pass
# `powertools_layer_arn` (reference app: `-c powertools_layer_arn=...`).
POWERTOOLS_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
    "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1",
    "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "mx-central-1",
    "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
})
# Lambda in a VPC talks only HTTPS: AWS endpoints (gateway and interface) and payment providers.
HTTPS = ec2.Port.tcp(443)


@functools.lru_cache(maxsize=1)
def code_directory() -> str:
    """Stage only what runs in Lambda: the import-light package root, model and runtime."""
    staging = Path(tempfile.mkdtemp(prefix="hc-lambda-")) / "code"
    target = staging / PACKAGE_DIR.name
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    target.mkdir(parents=True)
    shutil.copy2(PACKAGE_DIR / "__init__.py", target / "__init__.py")
    shutil.copy2(PACKAGE_DIR / "model.py", target / "model.py")
    shutil.copytree(PACKAGE_DIR / "runtime", target / "runtime", ignore=ignore)
    return str(staging)


class PythonFunctions(Construct):
    """A factory scope: `add(name, handler, ...)` returns a configured function.

    Parameters: `profile` (log retention and removal); `vpc` (None: functions outside any VPC;
    otherwise in its private subnets behind `security_group`, whose only egress is HTTPS);
    `encryption_key` (default None: AWS-managed keys for logs and environment);
    `powertools_layer_arn` (default: the Powertools `POWERTOOLS_VERSION` layer for arm64 and
    python3.14 from AWS's public SSM parameter; required in regions outside
    `POWERTOOLS_REGIONS`).

    `add(..., scope=...)` (default: this factory) puts the function, its role, log group,
    dead-letter queue and alarm under another construct, such as a capability's
    `NestedStack`, sharing this factory's code asset, layers, security group and `on_add`
    callbacks. References then flow from this factory's stack into the scope's, never back.
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, vpc: ec2.IVpc | None,
                 encryption_key: kms.IKey | None = None, powertools_layer_arn: str | None = None) -> None:
        super().__init__(scope, id)
        self._profile = profile
        self._vpc = vpc
        self._key = encryption_key
        self.functions: dict[str, lambda_.Function] = {}
        self._on_add: list[Callable[[str, lambda_.Function], None]] = []
        # Powertools metrics of this stack's functions: the stack name carries the stage, so two
        # copies of the app in one account never add up each other's business metrics.
        self.metrics_namespace = Stack.of(self).stack_name
        self.code = lambda_.Code.from_asset(code_directory())
        # An asset belongs to one stack: functions added under another stack's scope get their
        # own Code of the same staged directory (same hash, same S3 object).
        self._code_by_stack: dict[str, lambda_.Code] = {}
        layer_arn = powertools_layer_arn or self._powertools_parameter()
        self.powertools_layer = lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", layer_arn)
        self.security_group = None
        if vpc is not None:
            self.security_group = ec2.SecurityGroup(
                self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                description="Commerce functions: outbound to AWS endpoints and payment providers only")
            self.security_group.add_egress_rule(ec2.Peer.any_ipv4(), HTTPS,
                                                "HTTPS to AWS endpoints and payment providers")

    def _powertools_parameter(self) -> str:
        region = Stack.of(self).region
        if not Token.is_unresolved(region) and region not in POWERTOOLS_REGIONS:
            raise ValueError(
                f"PythonFunctions: AWS publishes no Powertools layer parameter in {region}; pass "
                "powertools_layer_arn (reference app: -c powertools_layer_arn=arn:aws:lambda:...)")
        return ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_PARAMETER)

    def pip_layer(self, id: str, *, requirements: list[str], description: str) -> lambda_.ILayerVersion:
        """A layer of extra pure-Python libraries for this factory's runtime and architecture."""
        return PipLayer(self, id, requirements=requirements, description=description,
                        compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE]).layer

    def add(self, name: str, *, handler: str, memory_mb: int, timeout_s: int,
            environment: dict[str, str], reserved_concurrency: int | None = None,
            invoked_synchronously: bool = True,
            extra_layers: list[lambda_.ILayerVersion] | None = None,
            scope: Construct | None = None) -> lambda_.Function:
        """A function named `name` under `scope` (default: this factory; see the class docstring)."""
        if name in self.functions:
            raise ValueError(f"PythonFunctions: a function named {name!r} already exists")
        where = scope if scope is not None else self
        log_group = logs.LogGroup(where, f"{name}Logs", retention=self._profile.log_retention,
                                  removal_policy=self._profile.removal_policy, encryption_key=self._key)
        role = iam.Role(where, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"Commerce function {name}")
        log_group.grant_write(role)
        fn = lambda_.Function(
            where, name,
            runtime=RUNTIME, architecture=ARCHITECTURE, handler=handler, code=self._code_for(where),
            memory_size=memory_mb, timeout=Duration.seconds(timeout_s),
            environment={settings.POWERTOOLS_SERVICE_NAME: name,
                         settings.POWERTOOLS_METRICS_NAMESPACE: self.metrics_namespace, **environment},
            environment_encryption=self._key,
            layers=[self.powertools_layer, *(extra_layers or [])], tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON, log_group=log_group,
            reserved_concurrent_executions=reserved_concurrency, role=role,
            vpc=self._vpc, security_groups=[self.security_group] if self.security_group else None,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS) if self._vpc else None,
        )
        if self._vpc is not None:
            # Hyperplane ENI management has no resource-level permissions.
            role.add_to_policy(iam.PolicyStatement(
                actions=["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
                         "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
                resources=["*"]))
        wildcard_reason = ("Only X-Ray PutTraceSegments/PutTelemetryRecords and Lambda's VPC ENI actions use "
                           "'*': those APIs have no resource-level permissions.")
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]", wildcard_reason)
        skip_checkov(role.node.find_child("DefaultPolicy").node.default_child, "CKV_AWS_111", wildcard_reason)
        cfn = fn.node.default_child
        # Asynchronous invocations (schedules, rule targets) that still fail after Lambda's
        # retries land in a dead-letter queue with an alarm, never on the floor. Set on the
        # L1 because the L2's `dead_letter_queue` grants the role `kms:ReEncrypt*` too.
        async_dead_letters = None
        if not invoked_synchronously:
            async_dead_letters = dead_letter_queue(where, f"{name}DeadLetters", key=self._key)
            grant_send(async_dead_letters, role)
            cfn.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
                target_arn=async_dead_letters.queue_arn)
        if invoked_synchronously:
            reason = ("Invoked synchronously (API Gateway, Cognito, EventBridge Pipes, an SQS event source "
                      "mapping whose queue has its own DLQ, or a stream event source mapping with its own "
                      "on-failure destination); an async DLQ or failure destination would never fire.")
            acknowledge(fn, "Serverless-LambdaDLQ", reason)
            acknowledge(fn, "Serverless-LambdaAsyncFailureDestination", reason)
            skip_checkov(cfn, "CKV_AWS_116", reason)
        if reserved_concurrency is None:
            skip_checkov(cfn, "CKV_AWS_115", "API Gateway stage throttling bounds this function's concurrency; "
                         "reservations are opt-in (-c reserved_concurrency=true) because they fail the deploy "
                         "in accounts whose concurrency quota is below reservations + 100.")
        if async_dead_letters is not None:
            dead_letter_alarm(where, f"{name}DeadLetterAlarm", async_dead_letters, name)
        self.functions[name] = fn
        for callback in self._on_add:
            callback(name, fn)
        return fn

    def _code_for(self, scope: Construct) -> lambda_.Code:
        stack = Stack.of(scope)
        if stack is Stack.of(self):
            return self.code
        return self._code_by_stack.setdefault(stack.node.path, lambda_.Code.from_asset(code_directory()))

    def on_add(self, callback: Callable[[str, lambda_.Function], None]) -> None:
        """Call `callback(name, fn)` for every function made so far and every later one (how
        monitoring covers the functions capabilities add after it is set up)."""
        self._on_add.append(callback)
        for name, fn in list(self.functions.items()):
            callback(name, fn)
