"""Commerce functions served from Fargate instead of Lambda: the same handlers in a container
(headless_commerce/container/) behind an internal NLB that API Gateway reaches through a VPC
link. One NLB and one VPC link for all such services, a listener (port) per service."""

from __future__ import annotations

import enum
from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..config import Profile
from ..runtime import settings
from ..runtime.routes import FunctionSpec, Route
from ._checkov import skip_checkov
from ._containers import CONTAINER_PORT, HEALTH_CHECK_PATH, container_health_check, ecs_cluster
from ._iam import service_role, source_arn_pattern
from ._nag import acknowledge

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DOCKERFILE = "container/Dockerfile"
FIRST_LISTENER_PORT = 8001


class Compute(enum.Enum):
    LAMBDA = "lambda"
    FARGATE = "fargate"


def commerce_image(extra_requirements: list[str] | None = None) -> ecs.ContainerImage:
    """The commerce container, built by `cdk deploy` for linux/arm64 (synth only stages it)."""
    return ecs.ContainerImage.from_asset(
        str(PACKAGE_DIR), file=DOCKERFILE, exclude=["**/__pycache__", "runtime/storefront/static"],
        platform=ecr_assets.Platform.LINUX_ARM64,
        build_args={"EXTRA_REQUIREMENTS": " ".join(extra_requirements or [])})


class FargateService(Construct):
    """One function's routes as an ECS service: `service`, `task_definition` (its `task_role`
    is the grantee: it gets exactly what the Lambda's role would), `listener_port`, `alarms`.

    Parameters: `spec` (the function); `profile` (task size and count, log retention);
    `cluster`; `vpc`; `load_balancer` (the NLB its listener joins); `listener_port`;
    `environment` (the function's own); `image` (the commerce container); `encryption_key`
    (None: AWS-managed log encryption).

    `publish_counts(names)` turns the function's business counts into CloudWatch metrics.
    """

    def __init__(self, scope: Construct, id: str, *, spec: FunctionSpec, profile: Profile, cluster: ecs.ICluster,
                 vpc: ec2.IVpc, load_balancer: elbv2.NetworkLoadBalancer, listener_port: int,
                 environment: dict[str, str], image: ecs.ContainerImage, encryption_key: kms.IKey | None) -> None:
        super().__init__(scope, id)
        self.listener_port = listener_port
        # Only ECS, on behalf of this account's tasks, may assume them (confused-deputy keys).
        tasks = source_arn_pattern("ecs", "*")
        self.task_definition = ecs.FargateTaskDefinition(
            self, "Task", cpu=profile.app_task_cpu, memory_limit_mib=profile.app_task_memory_mib,
            task_role=service_role(self, "TaskRole", service="ecs-tasks.amazonaws.com", source_arn=tasks,
                                   description=f"Commerce function {spec.name} on Fargate"),
            execution_role=service_role(self, "ExecutionRole", service="ecs-tasks.amazonaws.com", source_arn=tasks,
                                        description=f"Pulls the image and ships the logs of {spec.name}"),
            runtime_platform=ecs.RuntimePlatform(cpu_architecture=ecs.CpuArchitecture.ARM64,
                                                 operating_system_family=ecs.OperatingSystemFamily.LINUX),
            volumes=[ecs.Volume(name="tmp")])
        log_group = logs.LogGroup(self, "Logs", retention=profile.log_retention,
                                  removal_policy=profile.removal_policy, encryption_key=encryption_key)
        self.log_group = log_group
        self._function_name = spec.name
        container = self.task_definition.add_container(
            "Handler", image=image, essential=True, readonly_root_filesystem=True,
            port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT, name="http")],
            environment={**environment, settings.SERVED_FUNCTION: spec.name,
                         settings.PORT: str(CONTAINER_PORT),
                         "POWERTOOLS_SERVICE_NAME": spec.name, settings.COUNT_LOG_LINES: "1",
                         settings.POWERTOOLS_METRICS_NAMESPACE: Stack.of(self).stack_name},
            logging=ecs.LogDriver.aws_logs(stream_prefix=spec.name, log_group=log_group),
            # In-flight requests finish: ECS waits this long after SIGTERM before SIGKILL.
            stop_timeout=Duration.seconds(spec.timeout_s + 1),
            health_check=container_health_check(start_period=Duration.seconds(30)))
        container.add_mount_points(ecs.MountPoint(container_path="/tmp", source_volume="tmp", read_only=False))
        acknowledge(self.task_definition, "AwsSolutions-ECS2",
                    "The environment holds only names, URLs and secret ARNs (no secret values); the handlers "
                    "read the payment secret from Secrets Manager at run time.")
        acknowledge(self.task_definition.obtain_execution_role(), "AwsSolutions-IAM5[Resource::*]",
                    "ecr:GetAuthorizationToken, which pulls the image, has no resource-level permissions.")

        self.security_group = ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                                                description=f"{spec.name} tasks: the NLB in, HTTPS out")
        self.security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443),
                                            "HTTPS to AWS endpoints, Cognito keys and the payment provider")
        self.service = ecs.FargateService(
            self, "Service", cluster=cluster, task_definition=self.task_definition,
            desired_count=profile.app_min_tasks, min_healthy_percent=100, max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False, security_groups=[self.security_group],
            health_check_grace_period=Duration.seconds(60), propagate_tags=ecs.PropagatedTagSource.SERVICE,
            platform_version=ecs.FargatePlatformVersion.LATEST)
        self.target_group = elbv2.NetworkTargetGroup(
            self, "Targets", vpc=vpc, port=CONTAINER_PORT, protocol=elbv2.Protocol.TCP,
            target_type=elbv2.TargetType.IP,
            # Longer than the slowest request (the function's timeout), so a replaced or scaled-in
            # task finishes what it was sent.
            deregistration_delay=Duration.seconds(spec.timeout_s + 1),
            health_check=elbv2.HealthCheck(protocol=elbv2.Protocol.HTTP, path=HEALTH_CHECK_PATH,
                                           healthy_http_codes="200", interval=Duration.seconds(10),
                                           healthy_threshold_count=2, unhealthy_threshold_count=2))
        self.service.attach_to_network_target_group(self.target_group)
        self.service.connections.allow_from(load_balancer, ec2.Port.tcp(CONTAINER_PORT),
                                            "The internal NLB: requests from the VPC link and health checks")
        listener = load_balancer.add_listener(f"{id}Listener", port=listener_port, protocol=elbv2.Protocol.TCP,
                                              default_target_groups=[self.target_group])
        acknowledge(listener, "PCI.DSS.321-ELBv2ACMCertificateRequired",
                    "Plain TCP inside the VPC: only API Gateway's VPC link (PrivateLink) reaches this internal "
                    "listener, and a TLS listener would need a certificate for a name API Gateway validates.")
        self.scaling = self.service.auto_scale_task_count(min_capacity=profile.app_min_tasks,
                                                          max_capacity=profile.app_max_tasks)
        self.scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60,
                                              scale_in_cooldown=Duration.seconds(120),
                                              scale_out_cooldown=Duration.seconds(60))
        self.alarms = {
            "UnhealthyTasks": cloudwatch.Alarm(
                self, "UnhealthyTasks", alarm_description=f"{spec.name} tasks fail their health check",
                metric=self.target_group.metrics.un_healthy_host_count(period=Duration.minutes(1),
                                                                       statistic="Maximum"),
                threshold=0, evaluation_periods=3, datapoints_to_alarm=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING),
            "Memory": cloudwatch.Alarm(
                self, "Memory", alarm_description=f"{spec.name} tasks use over 85% of their memory",
                metric=self.service.metric_memory_utilization(period=Duration.minutes(5)), threshold=85,
                evaluation_periods=3, comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING),
        }

    @property
    def role(self) -> iam.IRole:
        return self.task_definition.task_role


    def publish_counts(self, names: tuple[str, ...] | list[str]) -> list[logs.MetricFilter]:
        """The counts `names` (runtime/common/logging.count) as the metrics a Lambda function
        publishes: same namespace, name and `service` dimension, so one dashboard graph serves
        both computes. Lambda reads embedded-metric-format lines by itself; the awslogs driver
        does not, so the container logs each count as a line (COUNT_LOG_LINES) and a metric
        filter per name publishes it (free; at most 100 filters per log group)."""
        namespace = Stack.of(self).stack_name
        return [logs.MetricFilter(self, f"{name}Count", log_group=self.log_group, metric_namespace=namespace,
                                  metric_name=name, metric_value="$.value", unit=cloudwatch.Unit.COUNT,
                                  filter_pattern=logs.FilterPattern.all(
                                      logs.FilterPattern.string_value("$.count", "=", name),
                                      logs.FilterPattern.exists("$.value")),
                                  dimensions={"service": "$.service"})
                for name in names]


class FargateFunctions(Construct):
    """`cluster`, `load_balancer` (internal NLB in the private subnets), `vpc_link`, `services`
    (function name -> FargateService). `add(spec, environment)` serves one function;
    `integration(route)` is what API Gateway calls for one of its routes.

    Parameters: `profile` (task size and count, log retention); `vpc`; `encryption_key`
    (default None: AWS-managed log encryption); `extra_requirements` (default None: pip
    requirements the image adds, such as the Stripe SDK).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, vpc: ec2.IVpc | None,
                 encryption_key: kms.IKey | None = None, extra_requirements: list[str] | None = None) -> None:
        super().__init__(scope, id)
        if vpc is None:
            raise ValueError("FargateFunctions: `vpc` is required: the services and their load balancer run in it")
        self._profile, self._vpc, self._key = profile, vpc, encryption_key
        self.cluster = ecs_cluster(self, "Cluster", profile=profile, vpc=vpc)
        nlb_group = ec2.SecurityGroup(self, "NlbSecurityGroup", vpc=vpc, allow_all_outbound=False,
                                      description="Internal NLB of the commerce services: out to their tasks only")
        self.load_balancer = elbv2.NetworkLoadBalancer(
            self, "Nlb", vpc=vpc, internet_facing=False, cross_zone_enabled=True, security_groups=[nlb_group],
            # API Gateway arrives through the VPC link (PrivateLink), whose traffic has no source
            # address a rule could name; everything else in the VPC meets the group's empty inbound rules.
            enforce_security_group_inbound_rules_on_private_link_traffic=False,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS))
        no_logs = ("NLB access logs exist only for TLS listeners; every request through this NLB comes from API "
                   "Gateway, whose access log records it, and the tasks log their own handling.")
        acknowledge(self.load_balancer, "AwsSolutions-ELB2", no_logs)
        acknowledge(self.load_balancer, "PCI.DSS.321-ELBLoggingEnabled", no_logs)
        skip_checkov(self.load_balancer.node.default_child, "CKV_AWS_91", no_logs)
        self.vpc_link = apigw.VpcLink(self, "VpcLink", targets=[self.load_balancer],
                                      description="API Gateway to the commerce services on Fargate")
        self._image = commerce_image(extra_requirements)
        self.services: dict[str, FargateService] = {}

    def add(self, spec: FunctionSpec, environment: dict[str, str]) -> FargateService:
        service = FargateService(self, spec.name, spec=spec, profile=self._profile, cluster=self.cluster,
                                 vpc=self._vpc, load_balancer=self.load_balancer,
                                 listener_port=FIRST_LISTENER_PORT + len(self.services),
                                 environment=environment, image=self._image, encryption_key=self._key)
        self.services[spec.name] = service
        return service

    def integration(self, route: Route) -> apigw.Integration:
        """HTTP proxy over the VPC link to the function's listener: path, query string, headers
        (the caller's token too: the container checks it again) and body pass through."""
        port = self.services[route.function].listener_port
        return apigw.Integration(
            type=apigw.IntegrationType.HTTP_PROXY, integration_http_method=route.method,
            uri=f"http://{self.load_balancer.load_balancer_dns_name}:{port}{route.path}",
            options=apigw.IntegrationOptions(
                connection_type=apigw.ConnectionType.VPC_LINK, vpc_link=self.vpc_link,
                timeout=Duration.seconds(29),
                request_parameters={f"integration.request.path.{p}": f"method.request.path.{p}"
                                    for p in route.path_params}))
