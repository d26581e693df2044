"""Secure defaults of every construct, as pure functions returning constructor kwargs.

Each function depends only on the profile (and the resources it must reference), so a test or
a reader sees a construct's defaults without synthesizing anything. A construct merges its
caller's `<thing>_props` over these with `_props.merge`, except the props in the `*_LOCKED`
maps: the runtime depends on those, and overriding one raises ValueError naming it.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_location as location
from aws_cdk import aws_opensearchservice as opensearch

from .. import model
from ..config import Profile

PUBLIC = "Public"
PRIVATE = "Private"
ISOLATED = "Isolated"


def encryption_key(profile: Profile, stack_name: str) -> dict:
    """kms.Key: yearly rotation; a longer deletion window where data is retained."""
    return {
        "description": f"Headless commerce data key ({stack_name})",
        "enable_key_rotation": True,
        "rotation_period": Duration.days(365),
        "removal_policy": profile.removal_policy,
        "pending_window": Duration.days(30 if profile.is_production else 7),
    }


def vpc(profile: Profile, cidr: str) -> dict:
    """ec2.Vpc: the profile's AZs and NAT gateways; public/private/isolated subnets; DynamoDB and
    S3 gateway endpoints; the default security group stripped of rules."""
    return {
        "max_azs": profile.az_count,
        "nat_gateways": profile.nat_gateways,
        "ip_addresses": ec2.IpAddresses.cidr(cidr),
        "subnet_configuration": [
            # Only NAT gateways and load balancers live here, and both bring their own addresses.
            ec2.SubnetConfiguration(name=PUBLIC, subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24,
                                    map_public_ip_on_launch=False),
            ec2.SubnetConfiguration(name=PRIVATE, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
            ec2.SubnetConfiguration(name=ISOLATED, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
        ],
        "gateway_endpoints": {
            "DynamoDb": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
        },
        "restrict_default_security_group": True,
    }


# Every construct placing resources selects these subnet types by name.
VPC_LOCKED = {"subnet_configuration": "constructs place workloads in PRIVATE_WITH_EGRESS and data stores in "
                                      "PRIVATE_ISOLATED subnets"}


def ecs_cluster(profile: Profile, vpc_: ec2.IVpc) -> dict:
    """ecs.Cluster: Container Insights as the profile says (off in dev: its metrics bill as custom
    metrics, and ECS's own service CPU and memory metrics are free)."""
    return {
        "vpc": vpc_,
        "container_insights_v2": (ecs.ContainerInsights.ENABLED if profile.container_insights
                                  else ecs.ContainerInsights.DISABLED),
    }


def commerce_table(profile: Profile, key: kms.IKey | None) -> dict:
    """dynamodb.TableV2: the single-table design of `model`, on demand, CMK, stream, TTL,
    PITR and deletion protection per profile."""
    string = dynamodb.AttributeType.STRING
    return {
        "partition_key": dynamodb.Attribute(name=model.PARTITION_KEY, type=string),
        "sort_key": dynamodb.Attribute(name=model.SORT_KEY, type=string),
        "global_secondary_indexes": [
            dynamodb.GlobalSecondaryIndexPropsV2(
                index_name=index.name,
                partition_key=dynamodb.Attribute(name=index.partition_key, type=string),
                sort_key=dynamodb.Attribute(name=index.sort_key, type=string),
            )
            for index in model.GSIS
        ],
        "billing": dynamodb.Billing.on_demand(),
        "encryption": (dynamodb.TableEncryptionV2.customer_managed_key(key) if key is not None
                       else dynamodb.TableEncryptionV2.aws_managed_key()),
        "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=profile.point_in_time_recovery),
        "deletion_protection": profile.deletion_protection,
        # The transactional outbox relays committed outbox items from the stream.
        "dynamo_stream": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        "time_to_live_attribute": model.TTL_ATTRIBUTE,
        "removal_policy": profile.removal_policy,
    }


COMMERCE_TABLE_LOCKED = {
    "partition_key": f"every repository builds `{model.PARTITION_KEY}`",
    "sort_key": f"every repository builds `{model.SORT_KEY}`",
    "global_secondary_indexes": "catalog, orders and the order sweeper query model.GSIS",
    "dynamo_stream": "the outbox relay reads NEW_AND_OLD_IMAGES from the stream",
    "time_to_live_attribute": f"outbox and idempotency items expire through `{model.TTL_ATTRIBUTE}`",
}


def lifecycle_policy(days: int) -> efs.LifecyclePolicy:
    choices = {7: efs.LifecyclePolicy.AFTER_7_DAYS, 14: efs.LifecyclePolicy.AFTER_14_DAYS,
               30: efs.LifecyclePolicy.AFTER_30_DAYS, 60: efs.LifecyclePolicy.AFTER_60_DAYS,
               90: efs.LifecyclePolicy.AFTER_90_DAYS}
    if days not in choices:
        raise ValueError(f"EFS lifecycle must be one of {sorted(choices)} days, got {days}")
    return choices[days]


def file_system(profile: Profile, vpc_: ec2.IVpc, key: kms.IKey | None) -> dict:
    """efs.FileSystem: encrypted, backed up, to IA after the profile's days, elastic
    throughput, mount targets in the private subnets (the policy and security group are the
    construct's own, see SharedFiles)."""
    return {
        "vpc": vpc_,
        "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        "encrypted": True,
        "kms_key": key,
        "enable_automatic_backups": True,
        "lifecycle_policy": lifecycle_policy(profile.efs_lifecycle_days),
        "out_of_infrequent_access_policy": efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
        "performance_mode": efs.PerformanceMode.GENERAL_PURPOSE,
        "throughput_mode": efs.ThroughputMode.ELASTIC,
        "removal_policy": profile.removal_policy,
    }


def event_bus(key: kms.IKey | None) -> dict:
    """events.EventBus: encrypted with the CMK when one is given."""
    return {"description": "Headless commerce domain events", "kms_key": key}


# The pipe sets MessageGroupId (order id) and MessageDeduplicationId (event id) on every message.
OMS_QUEUE_LOCKED = {
    "fifo": "orders reach the OMS in sequence per order (MessageGroupId = order id)",
    "content_based_deduplication": "deduplication is by event id (MessageDeduplicationId), never by body",
    "dead_letter_queue": "the OMS consumer dead-letters into the FIFO dead-letter queue it is given",
}


def search_domain(profile: Profile) -> dict:
    """opensearch.Domain capacity by profile: one t3.small.search node in dev (≈ $27/month);
    three data nodes over three AZs with three dedicated masters in prod."""
    if profile.is_production:
        return {
            "capacity": opensearch.CapacityConfig(
                data_nodes=3, data_node_instance_type="r7g.large.search",
                master_nodes=3, master_node_instance_type="m7g.large.search",
                multi_az_with_standby_enabled=False),
            "zone_awareness": opensearch.ZoneAwarenessConfig(enabled=True, availability_zone_count=3),
            "ebs": opensearch.EbsOptions(volume_size=50, volume_type=ec2.EbsDeviceVolumeType.GP3),
        }
    return {
        "capacity": opensearch.CapacityConfig(
            data_nodes=1, data_node_instance_type="t3.small.search", multi_az_with_standby_enabled=False),
        "zone_awareness": opensearch.ZoneAwarenessConfig(enabled=False),
        "ebs": opensearch.EbsOptions(volume_size=10, volume_type=ec2.EbsDeviceVolumeType.GP3),
    }

SEARCH_DOMAIN_LOCKED = {
    "vpc": "the domain is reachable only from the commerce functions' VPC",
    "encryption_at_rest": "data at rest is encrypted with the CMK",
    "node_to_node_encryption": "traffic between nodes is encrypted",
    "enforce_https": "clients connect over HTTPS only",
    "tls_security_policy": "TLS 1.2 or newer",
    "fine_grained_access_control": "IAM roles are the only users; the indexer is the master",
    "access_policies": "the resource policy names the indexer and query roles, never '*'",
}


def chatbot_bot(profile: Profile) -> dict:
    """lex.CfnBot props besides the ones the Chatbot builds: a text bot for adults' shopping
    (COPPA does not apply: ChildDirected false) that forgets an idle conversation after 10 minutes,
    and builds its locale on every deploy so the version cut from DRAFT is always current."""
    return {
        "data_privacy": {"ChildDirected": False},
        "idle_session_ttl_in_seconds": 600,
        "auto_build_bot_locales": True,
        "description": f"Shop assistant: order status, product search, store finder ({profile.name})",
    }


CHATBOT_BOT_LOCKED = {
    "name": "derived from the stack, so two copies of the app deploy side by side",
    "role_arn": "the bot's own role, assumable only by Lex for this account's bots",
    "bot_locales": "built from the one intent definition the local matcher also uses",
    "bot_file_s3_location": "the bot is defined in the template, from the shared intent definition",
}


# What the clients' key may do: draw the map the stores and the courier are shown on. Geocoding
# and routes run in the API's functions through their roles, behind the API's WAF rate limit: a
# key that ships in page source must not let anyone bill geocodes and route calculations here.
LOCATION_API_KEY_ACTIONS = ("geo-maps:GetStyleDescriptor", "geo-maps:GetTile", "geo-maps:GetGlyphs",
                            "geo-maps:GetSprites")


def location_api_key(name: str, *, resources: Sequence[str], referers: Sequence[str] = (),
                     expire_time: str | None = None) -> dict:
    """location.CfnAPIKey: only LOCATION_API_KEY_ACTIONS on the V2 maps provider; bound to the
    storefront's pages when referers are given; no expiry unless a time is given."""
    restrictions = {"allow_actions": list(LOCATION_API_KEY_ACTIONS), "allow_resources": list(resources)}
    if referers:
        restrictions["allow_referers"] = list(referers)
    return {"key_name": name, "description": "Clients' key: the map of stores and couriers",
            "restrictions": location.CfnAPIKey.ApiKeyRestrictionsProperty(**restrictions),
            **({"expire_time": expire_time} if expire_time else {"no_expiry": True})}


def location_tracker(name: str, key_arn: str | None) -> dict:
    """location.CfnTracker: distance-based filtering (a parked courier's updates within 30 m
    are neither stored nor billed as geofence evaluations); the CMK when given."""
    return {"tracker_name": name, "position_filtering": "DistanceBased", "kms_key_id": key_arn,
            "description": "Delivery couriers' positions"}


def alarm_thresholds(profile: Profile) -> dict[str, float]:
    """StackMonitoring's thresholds; an alarm fires above its value. Both profiles alarm on the
    same things; prod answers sooner on the queue a stopped OMS consumer fills."""
    return {
        "lambda_errors": 0,                # any crash or timeout in 5 minutes (handled errors are 4xx/JSON 5xx)
        "lambda_throttles": 0,             # any throttle in 5 minutes
        "api_5xx_rate": 0.01,              # share of API requests answered 5xx, 2 of 5-minute periods
        "api_p99_latency_ms": 3000,        # API p99, 2 of 5-minute periods
        "dynamodb_throttles": 0,           # any throttled read or write in 5 minutes
        "fifo_oldest_message_age_s": 300 if profile.is_production else 900,
        "search_disk_used_percent": 80,    # OpenSearch blocks writes at its flood stage (95 %)
        "cache_memory_percent": 80,        # Valkey memory used (serverless: of its data cap)
        "cache_evictions": 0,              # any eviction in 5 minutes: the cache is full
        "ecs_cpu_percent": 85,             # 3 of 5-minute periods
        "ecs_memory_percent": 85,          # 3 of 5-minute periods
        "waf_blocked_requests": 1000,      # blocked requests in 5 minutes
    }
