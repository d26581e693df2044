"""The storefront's response cache: ElastiCache for Valkey with TLS and a password, in isolated
subnets. Serverless (cheapest idle) or a node-based replication group, by profile. A second
client (the storefront sharing the API's cache) gets its own user, limited to its own keys."""

from __future__ import annotations

import dataclasses

from aws_cdk import Names
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ..config import Profile
from ._nag import acknowledge
from ._props import merge

ENGINE = "valkey"
MAJOR_VERSION = "8"
SERVERLESS = "serverless"
SERVERLESS_PORT = 6379
# cdk-nag AwsSolutions-AEC5: node-based clusters listen on a non-default port (serverless
# caches have a fixed 6379).
NODE_PORT = 6380
# The user's name is `default`, so a client authenticates with the password alone (AUTH <pw>),
# which is what the storefront's CACHE_AUTH_SECRET_ARN holds. Admin and scripting commands stay off.
USER_NAME = "default"
ACCESS_STRING = "on ~* +@all -@admin -@dangerous -@scripting"


def _physical_id(scope: Construct, max_length: int = 40) -> str:
    """ElastiCache user/group ids are unique per account and region and must start with a letter:
    derived from the construct path, so two copies of the app never collide."""
    return "hc" + Names.unique_resource_name(scope, max_length=max_length - 2).lower()


@dataclasses.dataclass(frozen=True)
class CacheUser:
    """A user of a shared cache: `url` (rediss://NAME@host:port: redis-py sends AUTH NAME
    password), `auth_secret` (its password, a plain string), `user` (CfnUser)."""
    url: str
    auth_secret: secretsmanager.ISecret
    user: elasticache.CfnUser

    def grant_auth(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.auth_secret.grant_read(grantee)


class WebCache(Construct):
    """`url` (rediss://host:port), `auth_secret` (the password, a plain string), `connections`
    (the cache's security group and port: `connections.allow_default_port_from(x)`), `cache`
    (CfnServerlessCache or CfnReplicationGroup), `user`, `user_group`. `add_user(...)` gives
    another client its own password and key patterns (one cache shared by two services).

    TLS is always on (serverless enforces it; the replication group uses transit encryption
    mode `required`); the only user is a password user; data at rest is encrypted with
    `encryption_key`.

    Parameters: `profile` (`web_cache_node_type`, AZ count, snapshot retention, removal); `vpc`
    (cache in its isolated subnets); `encryption_key` (default None: AWS-managed keys);
    `node_type` (default None: the profile's; "serverless" or a node type such as cache.t4g.micro);
    `cache_props` (default None: overrides of the CfnServerlessCache or CfnReplicationGroup props);
    `description` (default "Storefront response cache": what the cache and its secret are for).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, vpc: ec2.IVpc,
                 encryption_key: kms.IKey | None = None, node_type: str | None = None,
                 cache_props: dict | None = None, description: str = "Storefront response cache") -> None:
        super().__init__(scope, id)
        node_type = node_type or profile.web_cache_node_type
        self.serverless = node_type == SERVERLESS
        port = SERVERLESS_PORT if self.serverless else NODE_PORT
        subnets = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        if len(subnets.subnet_ids) < 2:
            raise ValueError("WebCache: the VPC needs isolated subnets in at least two availability zones")

        self.security_group = ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                                                description=f"{description}: Valkey over TLS from its clients")
        self.connections = ec2.Connections(security_groups=[self.security_group], default_port=ec2.Port.tcp(port))

        self._key, self._description = encryption_key, description
        self.auth_secret = self._password(self, "AuthSecret", "the cache user")
        self.user = self._user(self, "User", _physical_id(self), USER_NAME, ACCESS_STRING, self.auth_secret)
        group_scope = Construct(self, "Group")
        self.user_group = elasticache.CfnUserGroup(self, "UserGroup", engine=ENGINE,
                                                   user_group_id=_physical_id(group_scope),
                                                   user_ids=[self.user.user_id])
        self.user_group.add_dependency(self.user)

        key_id = encryption_key.key_arn if encryption_key is not None else None
        if self.serverless:
            self.cache = elasticache.CfnServerlessCache(self, "Cache", **merge({
                "engine": ENGINE,
                "major_engine_version": MAJOR_VERSION,
                "serverless_cache_name": _physical_id(Construct(self, "Name")),
                "description": description,
                "kms_key_id": key_id,
                "security_group_ids": [self.security_group.security_group_id],
                "subnet_ids": subnets.subnet_ids[:3],
                "user_group_id": self.user_group.user_group_id,
                # Caps what a runaway client can cost; the storefront caches API responses only.
                "cache_usage_limits": elasticache.CfnServerlessCache.CacheUsageLimitsProperty(
                    data_storage=elasticache.CfnServerlessCache.DataStorageProperty(unit="GB", maximum=10),
                    ecpu_per_second=elasticache.CfnServerlessCache.ECPUPerSecondProperty(maximum=15000)),
                "snapshot_retention_limit": 7 if profile.is_production else 1,
                "daily_snapshot_time": "04:00",
            }, cache_props))
            host, cache_port = self.cache.attr_endpoint_address, self.cache.attr_endpoint_port
        else:
            subnet_group = elasticache.CfnSubnetGroup(
                self, "Subnets", description=f"{description}: isolated subnets",
                subnet_ids=subnets.subnet_ids)
            self.cache = elasticache.CfnReplicationGroup(self, "Cache", **merge({
                "replication_group_description": description,
                "engine": ENGINE,
                "engine_version": "8.0",
                "cache_node_type": node_type,
                "num_cache_clusters": max(2, profile.az_count),
                "automatic_failover_enabled": True,
                "multi_az_enabled": True,
                "port": NODE_PORT,
                "cache_subnet_group_name": subnet_group.ref,
                "security_group_ids": [self.security_group.security_group_id],
                "at_rest_encryption_enabled": True,
                "kms_key_id": key_id,
                "transit_encryption_enabled": True,
                "transit_encryption_mode": "required",
                "user_group_ids": [self.user_group.user_group_id],
                "snapshot_retention_limit": 7 if profile.is_production else 1,
                "auto_minor_version_upgrade": True,
            }, cache_props))
            acknowledge(self.cache, "AwsSolutions-AEC6",
                        "Access control is RBAC: the user group's only user authenticates with the password in "
                        "auth_secret (ElastiCache allows a user group or an AUTH token, not both).")
            host, cache_port = self.cache.attr_primary_end_point_address, self.cache.attr_primary_end_point_port
        self.cache.add_dependency(self.user_group)
        self.cache.apply_removal_policy(profile.removal_policy)
        self._host, self._port = host, cache_port
        self.url = f"rediss://{host}:{cache_port}"

    def _password(self, scope: Construct, id: str, whose: str) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            scope, id, encryption_key=self._key,
            description=f"{self._description}: Valkey password of {whose} (plain string)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True))
        rotation = ("ElastiCache takes the password in the user resource; rotating means a coordinated "
                    "two-password change (user, then clients), done by redeploying with a new secret version.")
        acknowledge(secret, "AwsSolutions-SMG4", rotation)
        acknowledge(secret, "PCI.DSS.321-SecretsManagerRotationEnabled", rotation)
        return secret

    @staticmethod
    def _user(scope: Construct, id: str, user_id: str, user_name: str, access_string: str,
              secret: secretsmanager.ISecret) -> elasticache.CfnUser:
        return elasticache.CfnUser(
            scope, id, engine=ENGINE, user_id=user_id, user_name=user_name,
            access_string=access_string,
            authentication_mode={"Type": "password", "Passwords": [secret.secret_value.unsafe_unwrap()]})

    def add_user(self, id: str, *, user_name: str, key_patterns: list[str]) -> CacheUser:
        """Another client of this cache, with its own password, allowed only the keys matching
        `key_patterns` (Valkey glob patterns) and the commands of the default user.

        Created beside the cache (its user group must list the user before the cache uses it),
        so call it before synthesis, from whichever stack the client lives in."""
        if user_name == USER_NAME or not key_patterns:
            raise ValueError(f"WebCache.add_user: a user name other than {USER_NAME!r} and at least one key "
                             "pattern are required")
        scope = Construct(self, id)
        secret = self._password(scope, "AuthSecret", f"user {user_name}")
        access = " ".join(["on", *(f"~{pattern}" for pattern in key_patterns), "+@all -@admin -@dangerous -@scripting"])
        user = self._user(scope, "User", _physical_id(scope), user_name, access, secret)
        self.user_group.user_ids = [*self.user_group.user_ids, user.user_id]
        self.user_group.add_dependency(user)
        return CacheUser(url=f"rediss://{user_name}@{self._host}:{self._port}", auth_secret=secret, user=user)

    def grant_auth(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read the password (and decrypt it with its key)."""
        return self.auth_secret.grant_read(grantee)

