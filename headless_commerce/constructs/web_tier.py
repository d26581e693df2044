"""The storefront (backend-for-frontend) on Fargate behind a CloudFront-only load balancer,
with its Valkey cache, session and flag tables, shared templates on EFS, a Cognito client,
and a function that drops cached catalog responses when products or stock change."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .. import model
from ..config import Profile
from ..runtime import settings
from ..runtime.cache import keys as cache_keys
from ..runtime.storefront import cache as storefront_cache
from ._containers import CONTAINER_PORT, HEALTH_CHECK_PATH, container_health_check, ecs_cluster
from ._nag import acknowledge
from ._props import check_exclusive, merge
from .event_bus import grant_put_events
from .identity import _client_defaults
from .python_functions import PythonFunctions
from .response_cache import CacheInvalidation
from .shared_files import grant_mount
from .web_cache import CacheUser, WebCache
from .web_origin import CloudFrontOnlyLoadBalancer
from .web_tables import WebTables

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DOCKERFILE = "runtime/storefront/Dockerfile"
SHARED_CONFIG_DIR = settings.SHARED_CONFIG_DEFAULT_DIR


def storefront_image() -> ecs.ContainerImage:
    """The storefront image, built by `cdk deploy` from the package directory (synth only stages it).

    Built for linux/arm64 whatever machine deploys: an x86 laptop would otherwise push an amd64
    image that the ARM64 tasks cannot start (exec format error).
    """
    return ecs.ContainerImage.from_asset(str(PACKAGE_DIR), file=DOCKERFILE, exclude=["**/__pycache__"],
                                         platform=ecr_assets.Platform.LINUX_ARM64)


def storefront_client_defaults() -> dict:
    """The BFF signs shoppers in server-side with USER_PASSWORD_AUTH (+ refresh); it keeps no
    client secret, like the web and mobile clients, and OAuth stays off."""
    return {**_client_defaults(), "auth_flows": cognito.AuthFlow(user_password=True)}


class WebTier(Construct):
    """The storefront service and everything it uses.

    Attributes: `service` (ecs.FargateService), `task_definition`, `container`, `cluster`,
    `origin` (CloudFrontOnlyLoadBalancer: `load_balancer`, `origin_secret`,
    `origin_domain_name`, `protocol`), `target_group`, `scaling`, `cache` (WebCache: its own or
    the shared one), `shared_cache` (True with `existing_cache`), `cache_user` (the credentials
    the storefront uses: `cache` itself or its CacheUser on a shared cache), `tables`
    (WebTables), `session_secret`, `user_pool_client`, `invalidation` (the function; None on a
    shared cache), `invalidation_subscription` and `alarms` (unhealthy tasks, 5xx answers).

    Parameters: `profile` (task size and count, ECS Exec, cache kind, retention, removal); `vpc`
    (service and load balancer in the private subnets, cache in the isolated ones); `functions`
    (PythonFunctions in the same VPC, for the invalidation function; None with `existing_cache`); `bus`
    (events.IEventBus with ProductModified and InventoryChanged); `user_pool`
    (cognito.IUserPool); `api_url` (the commerce API base URL the storefront calls);
    `file_system` and `access_point` (efs.IFileSystem / IAccessPoint: the `/web` tree, mounted
    read-only at /mnt/web); `encryption_key` (default None: AWS-managed keys); `image` (default
    `storefront_image()`); `certificate` and `origin_domain_name` (default None: HTTP origin;
    see CloudFrontOnlyLoadBalancer); `existing_user_pool_client` (default None: a new public
    client from `storefront_client_defaults()`) or `user_pool_client_props`; `existing_cache`
    (default None: a WebCache of its own; a WebCache shared with another client, such as the API's
    response cache: the storefront gets a user of its own there, limited to its `sf:` keys and the
    generation counters it reads, and no invalidation function, since the cache's owner INCRs the
    same counters) or `cache_node_type` and `cache_props` (see WebCache);
    `existing_session_table` / `session_table_props`, `existing_flags_table` /
    `flags_table_props` (see WebTables); `load_balancer_props`;
    `vpc_origin` (default None: the profile's `web_vpc_origin`, see CloudFrontOnlyLoadBalancer);
    `task_definition_props` (overrides of cpu, memory_limit_mib, ...: the runtime platform is
    locked to Linux/ARM64, what the image is built for); `publish_interactions` (default True: the
    storefront puts ProductViewed and CartItemAdded on `bus`, source `commerce.storefront` only,
    for recommendations; False: it publishes nothing).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, vpc: ec2.IVpc,
                 functions: PythonFunctions | None,
                 bus: events.IEventBus, user_pool: cognito.IUserPool, api_url: str,
                 file_system: efs.IFileSystem, access_point: efs.IAccessPoint,
                 encryption_key: kms.IKey | None = None, image: ecs.ContainerImage | None = None,
                 certificate: acm.ICertificate | None = None, origin_domain_name: str | None = None,
                 existing_user_pool_client: cognito.IUserPoolClient | None = None,
                 user_pool_client_props: dict | None = None,
                 existing_cache: WebCache | None = None,
                 cache_node_type: str | None = None, cache_props: dict | None = None,
                 existing_session_table=None, session_table_props: dict | None = None,
                 existing_flags_table=None, flags_table_props: dict | None = None,
                 load_balancer_props: dict | None = None, task_definition_props: dict | None = None,
                 publish_interactions: bool = True, vpc_origin: bool | None = None) -> None:
        super().__init__(scope, id)
        # Shopper interactions (ProductViewed, CartItemAdded) for recommendations go to `bus`.
        self._interactions_bus = bus if publish_interactions else None
        check_exclusive(type(self).__name__, existing_user_pool_client=existing_user_pool_client,
                        user_pool_client_props=user_pool_client_props)
        check_exclusive(type(self).__name__, existing_cache=existing_cache, cache_props=cache_props)
        if existing_cache is not None and cache_node_type is not None:
            raise ValueError("WebTier: cache_node_type sizes a cache of its own; the existing_cache has its size")
        if functions is None and existing_cache is None:
            raise ValueError("WebTier: `functions` is required for the invalidation function of its own cache")
        self.tables = WebTables(self, "Tables", profile=profile, encryption_key=encryption_key,
                                existing_session_table=existing_session_table, session_table_props=session_table_props,
                                existing_flags_table=existing_flags_table, flags_table_props=flags_table_props)
        self.cache = existing_cache or WebCache(self, "Cache", profile=profile, vpc=vpc, encryption_key=encryption_key,
                                                node_type=cache_node_type, cache_props=cache_props)
        self.shared_cache = existing_cache is not None
        # The storefront's own credentials: the cache's user, or a user of its own on a shared cache.
        self.cache_user: WebCache | CacheUser = self.cache if existing_cache is None else existing_cache.add_user(
            "Storefront", user_name="storefront",
            key_patterns=[f"{storefront_cache.PREFIX}:*", cache_keys.CATALOG_GENERATION,
                          f"{cache_keys.CATALOG_GENERATION}:*"])
        self.origin = CloudFrontOnlyLoadBalancer(self, "Origin", profile=profile, vpc=vpc, certificate=certificate,
                                                 origin_domain_name=origin_domain_name, encryption_key=encryption_key,
                                                 load_balancer_props=load_balancer_props, vpc_origin=vpc_origin)
        # In this construct's scope (not `user_pool.add_client`, which puts it beside the pool), so
        # switching the web tier off removes its client too.
        self.user_pool_client: cognito.IUserPoolClient = existing_user_pool_client or cognito.UserPoolClient(
            self, "StorefrontClient", user_pool=user_pool,
            **merge(storefront_client_defaults(), user_pool_client_props))
        self.session_secret = secretsmanager.Secret(
            self, "SessionSecret", encryption_key=encryption_key,
            description="Storefront session-cookie signing key (plain string)",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True))
        rotation = ("Rotating the cookie signing key signs every shopper out; operators put a new value "
                    "during a quiet hour and restart the service.")
        acknowledge(self.session_secret, "AwsSolutions-SMG4", rotation)
        acknowledge(self.session_secret, "PCI.DSS.321-SecretsManagerRotationEnabled", rotation)

        self._build_service(profile, vpc, file_system, access_point, encryption_key, image or storefront_image(),
                            api_url, user_pool, task_definition_props)
        self._build_alarms()
        self.invalidation_construct = self.invalidation = self.invalidation_subscription = None
        if not self.shared_cache:
            self.invalidation_construct = CacheInvalidation(self, "CacheInvalidation", functions=functions, bus=bus,
                                                            cache=self.cache, encryption_key=encryption_key)
            self.invalidation = self.invalidation_construct.function
            self.invalidation_subscription = self.invalidation_construct.subscription

    def _environment(self, api_url: str, user_pool: cognito.IUserPool) -> dict[str, str]:
        return {
            settings.PORT: str(CONTAINER_PORT),
            settings.STOREFRONT_API_URL: api_url,
            settings.SESSION_TABLE_NAME: self.tables.session_table.table_name,
            settings.FLAGS_TABLE_NAME: self.tables.flags_table.table_name,
            settings.CACHE_URL: self.cache_user.url,
            settings.CACHE_AUTH_SECRET_ARN: self.cache_user.auth_secret.secret_arn,
            settings.SESSION_SECRET_ARN: self.session_secret.secret_arn,
            settings.USER_POOL_ID: user_pool.user_pool_id,
            settings.USER_POOL_CLIENT_ID: self.user_pool_client.user_pool_client_id,
            settings.SHARED_CONFIG_DIR: SHARED_CONFIG_DIR,
            **({settings.EVENT_BUS_NAME: self._interactions_bus.event_bus_name} if self._interactions_bus else {}),
        }

    def _build_service(self, profile: Profile, vpc: ec2.IVpc, file_system: efs.IFileSystem,
                       access_point: efs.IAccessPoint, key: kms.IKey | None, image: ecs.ContainerImage,
                       api_url: str, user_pool: cognito.IUserPool, task_definition_props: dict | None) -> None:
        self.cluster = ecs_cluster(self, "Cluster", profile=profile, vpc=vpc)
        self.task_definition = ecs.FargateTaskDefinition(self, "Task", **merge({
            "cpu": profile.web_task_cpu,
            "memory_limit_mib": profile.web_task_memory_mib,
            "runtime_platform": ecs.RuntimePlatform(cpu_architecture=ecs.CpuArchitecture.ARM64,
                                                    operating_system_family=ecs.OperatingSystemFamily.LINUX),
            "volumes": [
                ecs.Volume(name="shared", efs_volume_configuration=ecs.EfsVolumeConfiguration(
                    file_system_id=file_system.file_system_id, transit_encryption="ENABLED",
                    authorization_config=ecs.AuthorizationConfig(access_point_id=access_point.access_point_id,
                                                                 iam="ENABLED"))),
                # The root file system is read-only; uvicorn and Python may still want a scratch dir.
                ecs.Volume(name="tmp"),
            ],
        }, task_definition_props, locked={"runtime_platform": "the image is built for Linux on ARM64 (Graviton)",
                                          "volumes": "the shared files and /tmp mounts are part of the contract"},
            owner=type(self).__name__, props_name="task_definition_props"))
        log_group = logs.LogGroup(self, "Logs", retention=profile.log_retention,
                                  removal_policy=profile.removal_policy, encryption_key=key)
        self.container = self.task_definition.add_container(
            "Storefront", image=image, essential=True, readonly_root_filesystem=True,
            port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT, name="http")],
            environment=self._environment(api_url, user_pool),
            logging=ecs.LogDriver.aws_logs(stream_prefix="storefront", log_group=log_group),
            health_check=container_health_check(start_period=Duration.seconds(20)))
        self.container.add_mount_points(
            ecs.MountPoint(container_path=SHARED_CONFIG_DIR, source_volume="shared", read_only=True),
            ecs.MountPoint(container_path="/tmp", source_volume="tmp", read_only=False))

        acknowledge(self.task_definition, "AwsSolutions-ECS2",
                    "The environment holds only names, URLs and secret ARNs (no secret values); the storefront "
                    "reads its secrets from Secrets Manager at run time, so a rotated value needs no redeploy.")
        acknowledge(self.task_definition.obtain_execution_role(), "AwsSolutions-IAM5[Resource::*]",
                    "ecr:GetAuthorizationToken, which pulls the image, has no resource-level permissions.")
        role = self.task_definition.task_role
        self.tables.grant_storefront(role)
        self.cache_user.grant_auth(role)
        self.session_secret.grant_read(role)
        grant_mount(file_system, role, access_point, write=False)
        if self._interactions_bus is not None:
            # Only events whose source is the storefront's own.
            grant_put_events(self._interactions_bus, role, model.EventSource.STOREFRONT)

        # The service needs HTTPS out (the API, AWS endpoints), Valkey and NFS; nothing else.
        service_sg = ec2.SecurityGroup(self, "ServiceSecurityGroup", vpc=vpc, allow_all_outbound=False,
                                       description="Storefront tasks: HTTPS out, the cache and shared files")
        service_sg.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the commerce API and AWS endpoints"
        )
        self.service = ecs.FargateService(
            self, "Service", cluster=self.cluster, task_definition=self.task_definition,
            desired_count=profile.web_min_tasks, min_healthy_percent=100, max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            enable_execute_command=profile.web_execute_command,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False, security_groups=[service_sg], health_check_grace_period=Duration.seconds(60),
            propagate_tags=ecs.PropagatedTagSource.SERVICE, platform_version=ecs.FargatePlatformVersion.LATEST)
        if profile.web_execute_command:
            acknowledge(role, "AwsSolutions-IAM5[Resource::*]",
                        "ECS Exec (dev profile only) needs the ssmmessages channel actions, which have no "
                        "resource-level permissions; the prod profile turns ECS Exec off.")
        # From this side, so a shared cache's rule lands in this stack (the cache's cannot refer back here).
        self.service.connections.allow_to_default_port(self.cache.connections, "Storefront to Valkey")
        file_system.connections.allow_default_port_from(self.service, "Storefront mounts shared files")

        self.target_group = elbv2.ApplicationTargetGroup(
            self, "Targets", vpc=vpc, port=CONTAINER_PORT, protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP, deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(path=HEALTH_CHECK_PATH, healthy_http_codes="200",
                                           interval=Duration.seconds(15), timeout=Duration.seconds(5),
                                           healthy_threshold_count=2, unhealthy_threshold_count=3))
        self.service.attach_to_application_target_group(self.target_group)
        self.origin.forward("ForwardFromCloudFront", self.target_group)

        self.scaling = self.service.auto_scale_task_count(min_capacity=profile.web_min_tasks,
                                                          max_capacity=profile.web_max_tasks)
        self.scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60,
                                              scale_in_cooldown=Duration.seconds(120),
                                              scale_out_cooldown=Duration.seconds(60))
        self.scaling.scale_on_request_count("Requests", requests_per_target=600, target_group=self.target_group,
                                            scale_in_cooldown=Duration.seconds(120),
                                            scale_out_cooldown=Duration.seconds(60))

    def _build_alarms(self) -> None:
        metrics = self.target_group.metrics
        minute = Duration.minutes(1)
        self.alarms = {
            # Tasks failing /healthz for two minutes: the circuit breaker acts on deployments only.
            "UnhealthyTasks": cloudwatch.Alarm(
                self, "UnhealthyTasks", alarm_description="Storefront tasks fail their /healthz check",
                metric=metrics.unhealthy_host_count(period=minute, statistic="Maximum"), threshold=0,
                evaluation_periods=3, datapoints_to_alarm=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING),
            # The storefront answers bad input with its own 4xx pages; a 5xx is a defect or an outage.
            "ServerErrors": cloudwatch.Alarm(
                self, "ServerErrors", alarm_description="The storefront answered 5xx",
                metric=metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=Duration.minutes(5),
                                                 statistic="Sum"),
                threshold=0, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING),
        }

