"""IntegrationPipelines: Kafka feeds (PIM catalog, inventory, order status) on Amazon MSK, each
consumed by a Lambda function that writes the commerce table.

Three forms of cluster, chosen by props:
- `form="provisioned"` (default): an MSK cluster in the VPC's private subnets. dev: two
  `kafka.t3.small` brokers in two AZs (≈ $70/month with storage, a fraction of MSK Serverless's
  cluster-hour floor); prod: three `kafka.m7g.large` brokers across three AZs with enhanced
  monitoring per topic and partition. TLS between clients and brokers and between brokers,
  encryption at rest with the CMK, IAM access control only (no unauthenticated or SASL/SCRAM
  clients), broker logs to a CMK-encrypted log group. The feed topics are created with the
  cluster (`AWS::MSK::Topic`).
- `form="serverless"`: an MSK Serverless cluster (IAM access control, TLS; MSK Serverless
  encrypts at rest with a key AWS owns and has no broker logs: neither is configurable). Its
  cluster-hour floor alone is ≈ $548/month: choose it for spiky volume, not to save money.
  Create its topics with a Kafka admin client (see the README).
- `existing_cluster_arn`: consume from a cluster someone else runs (IAM auth, in reach of the
  VPC); they create the topics and admit `security_group` to port 9098.

Either way it adds the three consumers, each a function with an MSK event source (batch size
and window from the profile, TRIM_HORIZON; with the profile's `feed_provisioned_pollers`
(prod) retries with split batches and partial batch responses on provisioned pollers, without
it (dev) free on-demand pollers and whole-batch retries), an on-failure destination for batches that keep failing
(the failure queue by default, or an S3 bucket of the caller's), and alarms on the failure
queue and on each consumer's offset lag. Records the consumers cannot use (malformed, schema
violations, unknown SKUs or orders, stale versions) go to the failure queue with the reason,
written by the consumer itself, so they never hold up a partition.
"""

from __future__ import annotations

import re

from aws_cdk import Duration, Fn, Names, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_msk as msk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..config import Profile
from ..runtime import settings, table_permissions
from ..runtime.feeds.names import FEEDS, Feed
from ._iam import grant_send, grant_table_actions
from ._nag import acknowledge
from ._props import check_choice, check_exclusive, merge, refuse
from ._queues import QueueFailureDestination, dead_letter_alarm, dead_letter_queue
from ._tables import acknowledge_index_grant
from .python_functions import PythonFunctions

FORMS = ("provisioned", "serverless")
KAFKA_VERSION = "3.9.x"
# IAM-authenticated clients inside the VPC reach the brokers on this port (TLS).
IAM_PORT = 9098
# Props the construct's security depends on: a caller's cluster_props may not override them.
REQUIRED_CLUSTER_PROPS = ("encryption_info", "client_authentication", "logging_info")
# Consumer lag (records behind the newest offset) above which a feed alarms, by default.
DEFAULT_MAX_OFFSET_LAG = 10_000


def cluster_defaults(profile: Profile) -> dict:
    """Brokers, storage and monitoring of a new provisioned cluster, by profile (pure)."""
    if profile.is_production:
        return {"instance_type": "kafka.m7g.large", "broker_count": 3, "volume_gib": 100,
                "enhanced_monitoring": "PER_TOPIC_PER_PARTITION"}
    return {"instance_type": "kafka.t3.small", "broker_count": 2, "volume_gib": 10,
            "enhanced_monitoring": "DEFAULT"}


def replication_factor(broker_count: int) -> int:
    """Three copies when there are three brokers (prod), otherwise one per broker."""
    return min(3, broker_count)


class IntegrationPipelines(Construct):
    """Kafka feeds into the commerce table. Parameters (keyword-only; defaults in brackets):

    - `profile`: broker sizes, retention, removal policy, consumer batch size and window.
    - `table` (ITableV2): the commerce table the consumers write (products, SKUs, orders, outbox).
    - `functions`: the factory that builds the consumers like every other function.
    - `vpc` [None]: required for a new cluster; brokers go in its private subnets.
    - `encryption_key` [None → AWS-managed keys]: the CMK for data at rest, logs and the queue.
    - `form` ["provisioned"]: "provisioned" or "serverless" (see the module docstring).
    - `existing_cluster_arn` [None]: consume from this cluster instead of creating one.
    - `cluster_props` [None]: overrides of `msk.CfnCluster` props for a new provisioned cluster
      (not the security props in REQUIRED_CLUSTER_PROPS).
    - `topics` [None → `pim.catalog.v1`, `scm.inventory.v1`, `scm.order-status.v1`]: topic name
      per feed (`catalog`, `inventory`, `order_status`).
    - `failure_bucket` [None → the failure queue]: an S3 bucket as the event sources' on-failure
      destination (Lambda writes the whole failed batch there, not only its offsets).
    - `max_offset_lag` [10,000]: records a consumer may trail its topic before it alarms.

    Attributes: `cluster_arn`, `cluster` (CfnCluster, CfnServerlessCluster or None),
    `security_group`, `log_group` (None unless a new provisioned cluster), `topics`, `consumers`
    (feed → function), `failure_queue`, `alarms`.
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, table: dynamodb.ITableV2,
                 functions: PythonFunctions, vpc: ec2.IVpc | None = None,
                 encryption_key: kms.IKey | None = None, form: str = "provisioned",
                 existing_cluster_arn: str | None = None, cluster_props: dict | None = None,
                 topics: dict[str, str] | None = None, failure_bucket: s3.IBucket | None = None,
                 max_offset_lag: int = DEFAULT_MAX_OFFSET_LAG) -> None:
        super().__init__(scope, id)
        name = type(self).__name__
        check_exclusive(name, existing_cluster=existing_cluster_arn, cluster_props=cluster_props)
        check_choice(name, "form", form, FORMS)
        conflicts = []
        if existing_cluster_arn is not None and form == "serverless":
            conflicts.append("existing_cluster_arn and form='serverless'")
        if cluster_props is not None and form != "provisioned":
            conflicts.append("cluster_props without form='provisioned'")
        overridden = sorted(set(cluster_props or {}) & set(REQUIRED_CLUSTER_PROPS))
        if overridden:
            conflicts.append(f"cluster_props may not set {', '.join(overridden)} (the construct's security "
                             "depends on them)")
        if vpc is None:
            conflicts.append("`vpc` is required: the brokers and the event source pollers run in it")
        unknown = sorted(set(topics or {}) - set(FEEDS))
        if unknown:
            conflicts.append(f"topics has unknown feeds {', '.join(unknown)} (known: {', '.join(FEEDS)})")
        bad = sorted(t for t in (topics or {}).values() if not re.fullmatch(r"[A-Za-z0-9._-]{1,249}", t))
        if bad:
            conflicts.append(f"topic names must be 1-249 of A-Z a-z 0-9 . _ -, got {', '.join(bad)}")
        if max_offset_lag < 1:
            conflicts.append("max_offset_lag must be at least 1")
        refuse(name, conflicts)

        self._profile = profile
        self._key = encryption_key
        self.topics: dict[str, str] = {feed: (topics or {}).get(feed, FEEDS[feed].default_topic) for feed in FEEDS}
        self.log_group: logs.LogGroup | None = None
        self.cluster: msk.CfnCluster | msk.CfnServerlessCluster | None = None
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="Kafka brokers and the Lambda event source pollers attached to them")
        # Lambda's pollers get ENIs in the cluster's subnets with this group: they reach the
        # brokers through it, and Lambda and STS over HTTPS (NAT or endpoints).
        self.security_group.add_ingress_rule(self.security_group, ec2.Port.tcp(IAM_PORT),
                                             "Kafka (IAM, TLS) between brokers and pollers")
        self.security_group.add_egress_rule(self.security_group, ec2.Port.tcp(IAM_PORT),
                                            "Kafka (IAM, TLS) to the brokers")
        self.security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443),
                                            "Pollers call Lambda and STS over HTTPS")
        subnets = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnets
        if existing_cluster_arn is not None:
            self.cluster_arn = existing_cluster_arn
        elif form == "serverless":
            self._serverless(subnets)
        else:
            self._provisioned(subnets, cluster_props)

        self.failure_queue = dead_letter_queue(self, "FeedFailures", key=encryption_key)
        self.alarms: dict[str, cloudwatch.Alarm] = {
            "failures": dead_letter_alarm(self, "FeedFailuresAlarm", self.failure_queue,
                                          "the integration feeds (rejected records and failed batches)")}
        self.consumers: dict[str, lambda_.Function] = {}
        for feed in FEEDS.values():
            self._consumer(feed, functions, table, failure_bucket, max_offset_lag)

    # ---- clusters -------------------------------------------------------------------------

    def _cluster_name(self) -> str:
        """Derived from the construct path: unique per stack and stage, known at synth."""
        raw = re.sub(r"[^A-Za-z0-9-]", "", Names.unique_resource_name(self, max_length=64))
        return raw[-64:].lstrip("-") or "feeds"

    def _provisioned(self, subnets: list[ec2.ISubnet], cluster_props: dict | None) -> None:
        profile = self._profile
        sizes = cluster_defaults(profile)
        brokers = sizes["broker_count"]
        if len(subnets) < 2 or brokers % min(len(subnets), brokers):
            raise ValueError("IntegrationPipelines: a provisioned cluster needs at least two private subnets "
                             "in different AZs, and a broker count that is a multiple of the AZs used")
        used = subnets[:brokers] if len(subnets) >= brokers else subnets
        self.log_group = logs.LogGroup(self, "BrokerLogs", retention=profile.log_retention,
                                       removal_policy=profile.removal_policy, encryption_key=self._key)
        encryption = {"encryption_in_transit": msk.CfnCluster.EncryptionInTransitProperty(
            client_broker="TLS", in_cluster=True)}
        if self._key is not None:
            encryption["encryption_at_rest"] = msk.CfnCluster.EncryptionAtRestProperty(
                data_volume_kms_key_id=self._key.key_arn)
        props = merge({
            "kafka_version": KAFKA_VERSION,
            "number_of_broker_nodes": brokers,
            "enhanced_monitoring": sizes["enhanced_monitoring"],
            "broker_node_group_info": msk.CfnCluster.BrokerNodeGroupInfoProperty(
                instance_type=sizes["instance_type"], client_subnets=[s.subnet_id for s in used],
                security_groups=[self.security_group.security_group_id],
                storage_info=msk.CfnCluster.StorageInfoProperty(
                    ebs_storage_info=msk.CfnCluster.EBSStorageInfoProperty(volume_size=sizes["volume_gib"])),
                connectivity_info=msk.CfnCluster.ConnectivityInfoProperty(
                    public_access=msk.CfnCluster.PublicAccessProperty(type="DISABLED"))),
        }, cluster_props)
        cluster = msk.CfnCluster(self, "Cluster", **{
            **props,
            "cluster_name": props.get("cluster_name") or self._cluster_name(),
            "encryption_info": msk.CfnCluster.EncryptionInfoProperty(**encryption),
            "client_authentication": msk.CfnCluster.ClientAuthenticationProperty(
                sasl=msk.CfnCluster.SaslProperty(iam=msk.CfnCluster.IamProperty(enabled=True)),
                unauthenticated=msk.CfnCluster.UnauthenticatedProperty(enabled=False)),
            "logging_info": msk.CfnCluster.LoggingInfoProperty(
                broker_logs=msk.CfnCluster.BrokerLogsProperty(
                    cloud_watch_logs=msk.CfnCluster.CloudWatchLogsProperty(
                        enabled=True, log_group=self.log_group.log_group_name))),
        })
        cluster.apply_removal_policy(profile.removal_policy)
        self.cluster = cluster
        self.cluster_arn = cluster.attr_arn
        factor = replication_factor(props["number_of_broker_nodes"])
        for feed, topic in self.topics.items():
            msk.CfnTopic(self, f"{FEEDS[feed].construct_id}Topic", cluster_arn=cluster.attr_arn, topic_name=topic,
                         partition_count=FEEDS[feed].partitions, replication_factor=factor,
                         configs=Fn.base64(Stack.of(self).to_json_string(
                             {"min.insync.replicas": str(max(1, factor - 1))})))

    def _serverless(self, subnets: list[ec2.ISubnet]) -> None:
        cluster = msk.CfnServerlessCluster(
            self, "Cluster", cluster_name=self._cluster_name(),
            client_authentication=msk.CfnServerlessCluster.ClientAuthenticationProperty(
                sasl=msk.CfnServerlessCluster.SaslProperty(iam=msk.CfnServerlessCluster.IamProperty(enabled=True))),
            vpc_configs=[msk.CfnServerlessCluster.VpcConfigProperty(
                subnet_ids=[s.subnet_id for s in subnets],
                security_groups=[self.security_group.security_group_id])])
        cluster.apply_removal_policy(self._profile.removal_policy)
        self.cluster = cluster
        self.cluster_arn = cluster.attr_arn

    # ---- consumers ------------------------------------------------------------------------

    def _resource_arn(self, kind: str, name: str) -> str:
        """`arn:...:kafka:...:<kind>/<cluster name>/<cluster uuid>/<name>` from the cluster ARN."""
        return Fn.join("", [Fn.select(0, Fn.split(":cluster/", self.cluster_arn)), f":{kind}/",
                            Fn.select(1, Fn.split(":cluster/", self.cluster_arn)), f"/{name}"])

    def _consumer(self, feed: Feed, functions: PythonFunctions, table: dynamodb.ITableV2,
                  failure_bucket: s3.IBucket | None, max_offset_lag: int) -> None:
        provisioned = self._profile.feed_provisioned_pollers
        fn = functions.add(feed.function_name, handler=feed.handler, memory_mb=512, timeout_s=120,
                           environment={settings.TABLE_NAME: table.table_name,
                                        settings.DEAD_LETTER_QUEUE_URL: self.failure_queue.queue_url,
                                        settings.FEED_PARTIAL_BATCH: "true" if provisioned else "false"})
        grant_table_actions(table, fn, table_permissions.actions_for(feed.function_name))
        acknowledge_index_grant(fn.role, table)
        grant_send(self.failure_queue, fn)
        topic = self.topics[feed.name]
        group = f"{Names.unique_id(self)[-40:]}-{feed.name}"
        # What the event source mapping does with the function's role: join the group, read the
        # topic. Lambda's own cluster calls (DescribeClusterV2, GetBootstrapBrokers) are added
        # by ManagedKafkaEventSource.
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["kafka-cluster:Connect", "kafka-cluster:DescribeClusterDynamicConfiguration"],
            resources=[self.cluster_arn]))
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
            resources=[self._resource_arn("topic", topic)]))
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
            resources=[self._resource_arn("group", group)]))
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"], resources=[self.cluster_arn]))
        # The pollers' ENIs: these describe calls have no resource-level permissions.
        fn.add_to_role_policy(iam.PolicyStatement(
            actions=["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"], resources=["*"]))
        on_failure = (sources.S3OnFailureDestination(failure_bucket) if failure_bucket is not None
                      else QueueFailureDestination(self.failure_queue))
        fn.add_event_source(sources.ManagedKafkaEventSource(
            cluster_arn=self.cluster_arn, topic=topic, consumer_group_id=group,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=self._profile.feed_batch_size,
            max_batching_window=self._profile.feed_batching_window,
            on_failure=on_failure, **self._poller_mode(provisioned)))
        # ManagedKafkaEventSource also attaches AWSLambdaMSKExecutionRole (kafka:* and logs on
        # every resource); the statements above are what the mapping uses, for this cluster only.
        fn.role.node.default_child.managed_policy_arns = None
        self.consumers[feed.name] = fn
        reason = ("Topic and consumer-group ARNs embed the cluster's UUID, which MSK assigns at creation; "
                  "the pattern is pinned to this cluster's name and one topic or group.")
        acknowledge(fn.role, "AwsSolutions-IAM5[Resource::<*>]", reason)
        self.alarms[f"{feed.name}_lag"] = cloudwatch.Alarm(
            self, f"{feed.construct_id}OffsetLag",
            alarm_description=f"The {feed.name} feed consumer trails its topic {topic} by more than "
                              f"{max_offset_lag} records",
            metric=fn.metric("OffsetLag", period=Duration.minutes(5), statistic="Maximum"),
            threshold=max_offset_lag, evaluation_periods=3, datapoints_to_alarm=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)

    def _poller_mode(self, provisioned: bool) -> dict:
        if not provisioned:
            # On-demand pollers (no Event Poller Units billed) take none of the error-handling
            # controls: the consumer fails the whole batch on a retryable fault, Lambda retries
            # it and, once it gives up, sends the batch's offsets to the failure queue.
            return {}
        # Retry controls and partial batch responses need provisioned pollers; one is the
        # floor, Lambda scales them up to the maximum with the offset lag.
        return {"provisioned_poller_config": sources.ProvisionedPollerConfig(
                    minimum_pollers=1, maximum_pollers=3 if self._profile.is_production else 1),
                "report_batch_item_failures": True, "bisect_batch_on_error": True, "retry_attempts": 10}

    # ---- access ---------------------------------------------------------------------------

    def grant_produce(self, grantee: iam.IGrantable, feed: str) -> None:
        """Let `grantee` (a bastion's or a VPC-attached runner's role) write to one feed's topic."""
        topic = self.topics[feed]
        iam.Grant.add_to_principal(grantee=grantee, actions=["kafka-cluster:Connect"],
                                   resource_arns=[self.cluster_arn])
        iam.Grant.add_to_principal(grantee=grantee, actions=["kafka-cluster:DescribeTopic",
                                                             "kafka-cluster:WriteData"],
                                   resource_arns=[self._resource_arn("topic", topic)])

    def connect_producer(self, peer: ec2.IConnectable) -> None:
        """Open the brokers' IAM port to `peer` (the runner's security group)."""
        self.security_group.connections.allow_from(peer, ec2.Port.tcp(IAM_PORT), "Feed producer (IAM, TLS)")
