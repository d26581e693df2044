"""The single commerce table (design in `headless_commerce.model`) and its optional DAX cluster."""

from __future__ import annotations

from aws_cdk import Stack, Token
from aws_cdk import aws_dax as dax
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..config import Profile
from ..runtime import table_permissions
from . import _defaults as defaults
from ._iam import grant_table_actions, service_role, source_arn_pattern
from ._props import check_exclusive, merge
from ._tables import acknowledge_dev_pitr, acknowledge_index_grant

DAX_TLS_PORT = 9111
# What the DAX cluster may do on the table on its clients' behalf: reads, never a scan.
DAX_TABLE_ACTIONS = ("dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")


class CommerceTable(Construct):
    """`table` (TableV2, on-demand, CMK, streams, TTL) and, when `dax` is on, `dax_cluster`.

    DAX sits in the private subnets, encrypted at rest and in transit (TLS endpoint), and only
    `allow_dax_from(peer)` opens its port. `grant_function(role, name)` grants a function exactly
    the table actions declared for it in `runtime/table_permissions.py`.

    Parameters: `profile` (PITR, deletion protection, removal, DAX size); `encryption_key`
    (default None: the AWS-managed DynamoDB key); `existing_table` (default None: a new table
    from `_defaults.commerce_table`; an imported one must have the same keys, indexes, stream
    and TTL) or `table_props` (overrides; keys, indexes, stream and TTL attribute are locked,
    see `_defaults.COMMERCE_TABLE_LOCKED`); `dax_enabled` (default None: the profile decides);
    `vpc` (required when DAX is on).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, encryption_key: kms.IKey | None = None,
                 existing_table: dynamodb.ITableV2 | None = None, table_props: dict | None = None,
                 dax_enabled: bool | None = None, vpc: ec2.IVpc | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_table=existing_table, table_props=table_props)
        if existing_table is not None:
            self.table: dynamodb.ITableV2 = existing_table
        else:
            if encryption_key is not None and Token.is_unresolved(Stack.of(self).region):
                # TableV2 renders the key per replica region and fails deep in synth otherwise.
                raise ValueError("CommerceTable: a customer-managed key needs the stack's region; "
                                 "create the stack with env=Environment(region=...)")
            table = dynamodb.TableV2(self, "Table", **merge(
                defaults.commerce_table(profile, encryption_key), table_props,
                locked=defaults.COMMERCE_TABLE_LOCKED, owner=type(self).__name__, props_name="table_props"))
            if not profile.point_in_time_recovery:
                acknowledge_dev_pitr(table)
            self.table = table

        self.dax_cluster: dax.CfnCluster | None = None
        self.dax_security_group: ec2.SecurityGroup | None = None
        use_dax = profile.dax_enabled if dax_enabled is None else dax_enabled
        if use_dax:
            if vpc is None:
                raise ValueError("CommerceTable: DAX needs `vpc`")
            self._add_dax(profile, vpc)

    def _add_dax(self, profile: Profile, vpc: ec2.IVpc) -> None:
        # Read-only: the cluster only serves catalog reads, so it can never write the table.
        role = service_role(self, "DaxRole", service="dax.amazonaws.com",
                            source_arn=source_arn_pattern("dax", "cache/*"),
                            description="DAX reads through to the commerce table")
        grant_table_actions(self.table, role, DAX_TABLE_ACTIONS)
        acknowledge_index_grant(role, self.table)
        subnets = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        subnet_group = dax.CfnSubnetGroup(self, "DaxSubnets", subnet_ids=subnets.subnet_ids,
                                          description="Private subnets for the commerce DAX cluster")
        self.dax_security_group = ec2.SecurityGroup(self, "DaxSecurityGroup", vpc=vpc, allow_all_outbound=False,
                                                    description="DAX: TLS from commerce functions only")
        self.dax_cluster = dax.CfnCluster(
            self, "Dax",
            iam_role_arn=role.role_arn,
            node_type=profile.dax_node_type,
            replication_factor=profile.dax_replication_factor,
            sse_specification=dax.CfnCluster.SSESpecificationProperty(sse_enabled=True),
            cluster_endpoint_encryption_type="TLS",
            subnet_group_name=subnet_group.ref,
            security_group_ids=[self.dax_security_group.security_group_id],
            description="Read-through cache for catalog reads",
        )
        self.dax_cluster.node.add_dependency(role)

    def grant_function(self, role: iam.IRole, function: str) -> iam.Grant | None:
        """The table actions `function` is declared to perform (runtime/table_permissions.py), to
        the role it runs as (a Lambda's or a Fargate task's)."""
        actions = table_permissions.actions_for(function)
        if not actions:
            return None
        grant = grant_table_actions(self.table, role, actions,
                                    leading_key_prefix=table_permissions.LEADING_KEY_PREFIXES.get(function))
        if table_permissions.QUERY in actions:
            acknowledge_index_grant(role, self.table)
        return grant

    @property
    def dax_endpoint(self) -> str | None:
        return self.dax_cluster.attr_cluster_discovery_endpoint_url if self.dax_cluster else None

    def allow_dax_from(self, peer: ec2.IConnectable) -> None:
        if self.dax_security_group is not None:
            self.dax_security_group.connections.allow_from(peer, ec2.Port.tcp(DAX_TLS_PORT), "DAX over TLS")

    def grant_dax(self, grantee: iam.IGrantable) -> iam.Grant | None:
        if self.dax_cluster is None:
            return None
        # The catalog's table actions, as DAX actions on this cluster.
        actions = [a.replace("dynamodb:", "dax:") for a in table_permissions.actions_for("catalog")]
        return iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=[self.dax_cluster.attr_arn])
