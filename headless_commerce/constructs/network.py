"""The VPC: public, private (egress through NAT) and isolated subnets, endpoints, flow logs."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..config import Profile
from . import _defaults as defaults
from ._checkov import ignore_cfn_lint
from ._iam import service_role, source_arn_pattern
from ._nag import acknowledge
from ._props import check_exclusive, merge
from .encryption import EncryptionKey

PUBLIC, PRIVATE, ISOLATED = defaults.PUBLIC, defaults.PRIVATE, defaults.ISOLATED


def _interface_service(name: str) -> ec2.InterfaceVpcEndpointAwsService:
    try:
        return getattr(ec2.InterfaceVpcEndpointAwsService, name)
    except AttributeError:
        raise ValueError(f"unknown interface endpoint service {name!r} "
                         "(use an ec2.InterfaceVpcEndpointAwsService attribute name)") from None


class Network(Construct):
    """A VPC sized by the profile, or an existing one.

    With `existing_vpc` nothing is created: the owner of that VPC manages its endpoints and
    flow logs. Workloads go in `private_subnets`; data stores that never call out go in
    `isolated_subnets`. Attributes: `vpc`, `flow_log_group`, `flow_log_key`,
    `interface_endpoints`, `endpoint_security_group`.

    Parameters: `profile` (AZ count, NAT gateways, retention, default endpoints);
    `existing_vpc` (default None: a new VPC from `_defaults.vpc`) or `vpc_props` (overrides;
    `subnet_configuration` is locked, every construct selects those subnet types);
    `interface_endpoints` (default None: the profile's list, names of
    ec2.InterfaceVpcEndpointAwsService); `cidr` (default "10.0.0.0/16"); `encryption_key`
    (default None: the construct creates its own key for the flow logs).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile,
                 existing_vpc: ec2.IVpc | None = None, vpc_props: dict | None = None,
                 interface_endpoints: Sequence[str] | None = None,
                 cidr: str = "10.0.0.0/16",
                 encryption_key: kms.IKey | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_vpc=existing_vpc, vpc_props=vpc_props)
        self.flow_log_group: logs.ILogGroup | None = None
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        if existing_vpc is not None:
            self.vpc: ec2.IVpc = existing_vpc
            return

        self._warn_if_fewer_zones(profile, vpc_props)
        vpc = ec2.Vpc(self, "Vpc", **merge(defaults.vpc(profile, cidr), vpc_props, locked=defaults.VPC_LOCKED,
                                           owner=type(self).__name__, props_name="vpc_props"))

        # Flow logs are encrypted on their own when no key is passed, so the construct passes
        # the compliance gate alone (imported into any app).
        self.flow_log_key: kms.IKey = encryption_key or EncryptionKey(self, "FlowLogKey", profile=profile).key
        self.flow_log_group = logs.LogGroup(
            self, "FlowLogs", retention=profile.log_retention,
            removal_policy=profile.removal_policy, encryption_key=self.flow_log_key,
        )
        flow_log_role = service_role(self, "FlowLogRole", service="vpc-flow-logs.amazonaws.com",
                                     source_arn=source_arn_pattern("ec2", "vpc-flow-log/*"),
                                     description="VPC flow logs delivery to the flow log group")
        vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(
            self.flow_log_group, flow_log_role), traffic_type=ec2.FlowLogTrafficType.ALL)

        if not any(Token.is_unresolved(zone) for zone in vpc.availability_zones):
            # Explicit zone names are the point (prod): GetAZs can list fewer zones or reorder them.
            reason = ("Zone names are given explicitly (-c availability_zones=...), so subnets never move "
                      "when Fn::GetAZs reorders or lists only zones with default subnets.")
            acknowledge(vpc, "CloudFormation-Validate::W3010", reason)
            for subnet in (*vpc.public_subnets, *vpc.private_subnets, *vpc.isolated_subnets):
                ignore_cfn_lint(subnet.node.default_child, "W3010")

        for subnet in vpc.public_subnets:
            acknowledge(subnet, "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
                        "Public subnets hold only NAT gateways and the internet-facing load balancer; "
                        "their default route to the internet gateway is what makes them public.")

        names = interface_endpoints if interface_endpoints is not None else profile.interface_endpoints
        if names:
            # A literal CIDR (not the VPC's CidrBlock attribute) keeps the rule auditable at synth.
            endpoint_sg = ec2.SecurityGroup(self, "EndpointSecurityGroup", vpc=vpc, allow_all_outbound=False,
                                            description="HTTPS from inside the VPC to interface endpoints")
            endpoint_sg.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from the VPC")
            self.endpoint_security_group = endpoint_sg
        for name in names:
            self.interface_endpoints[name] = vpc.add_interface_endpoint(
                name.title().replace("_", ""),
                service=_interface_service(name),
                private_dns_enabled=True,
                open=False,
                security_groups=[endpoint_sg],
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            )
        self.vpc = vpc

    def _warn_if_fewer_zones(self, profile: Profile, vpc_props: dict | None) -> None:
        """CDK gives a stack without `env` two AZs whatever `max_azs` says; say so at synth."""
        if vpc_props and {"availability_zones", "max_azs"} & set(vpc_props):
            return
        available = len(Stack.of(self).availability_zones)
        if available < profile.az_count:
            Annotations.of(self).add_warning_v2(
                "headless-commerce:az-count",
                f"profile {profile.name!r} asks for {profile.az_count} availability zones but this stack "
                f"offers {available}: give the stack an env (account and region) or override "
                "availability_zones in your Stack subclass")

    @property
    def nat_cidrs(self) -> list[str]:
        """`<address>/32` of each NAT gateway's Elastic IP: where the VPC's calls to the internet
        come from (none for an existing VPC, whose NAT this construct does not know)."""
        eips = [subnet.node.try_find_child("EIP") for subnet in self.vpc.public_subnets]
        return [f"{eip.ref}/32" for eip in eips if isinstance(eip, ec2.CfnEIP)]

    @property
    def private_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

    @property
    def isolated_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
