"""The storefront's load balancer as a CloudFront-only origin.

By default the load balancer is internal: CloudFront reaches it through a VPC origin of this
account (EdgeDistribution), so it has no public address at all. Two more locks stay, because
either alone is weak and an internet-facing load balancer (`vpc_origin=False`) relies on them:
the security group admits only AWS's CloudFront origin-facing prefix list (any CloudFront
distribution, including other accounts'), and the listener forwards only requests carrying a
secret header that only our distribution adds; everything else gets 403.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Fn, Names, Stack, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ..config import Profile
from ._checkov import skip_checkov
from ._log_bucket import log_bucket
from ._nag import acknowledge
from ._props import merge
from .cloudfront_prefix_list import CloudFrontPrefixList

ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
# CloudFront's web ACLs and certificates live here, so the edge stack always deploys here.
EDGE_REGION = "us-east-1"


class CloudFrontOnlyLoadBalancer(Construct):
    """`load_balancer` (internal ALB in the private subnets, or internet-facing in the public
    ones; access logs, invalid header fields dropped), `vpc_origin` (True: internal, for a
    CloudFront VPC origin), `listener` (default action 403), `security_group`, `origin_secret` (the
    value of `ORIGIN_VERIFY_HEADER`) and `origin_secret_name`, `access_logs` (bucket),
    `origin_domain_name`, `certificate`, `protocol` and `port`.

    With a `certificate` the listener is HTTPS (TLS 1.2+/1.3 policy) and CloudFront connects by
    `origin_domain_name`, which the certificate must cover; without one it is HTTP on port 80:
    CloudFront to the load balancer is then unencrypted on AWS's network, and the secret header
    travels in clear there (README, "Web tier security").

    Parameters: `profile` (deletion protection, log expiry, `web_vpc_origin`); `vpc` (its private
    subnets, or its public ones when internet-facing); `vpc_origin` (default None: the profile's
    `web_vpc_origin`; False: an internet-facing load balancer with a public address per AZ);
    `certificate` and `origin_domain_name` (default None: HTTP origin; they go together);
    `encryption_key` (default None: AWS-managed keys) for the prefix-list lookup's logs;
    `replica_regions` (default: `EDGE_REGION` when this stack is elsewhere: the edge stack reads
    the header secret there by name); `load_balancer_props` (overrides of the ALB props).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        profile: Profile,
        vpc: ec2.IVpc,
        certificate: acm.ICertificate | None = None,
        origin_domain_name: str | None = None,
        encryption_key: kms.IKey | None = None,
        replica_regions: Sequence[str] | None = None,
        load_balancer_props: dict | None = None,
        vpc_origin: bool | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.vpc_origin = profile.web_vpc_origin if vpc_origin is None else vpc_origin
        if (certificate is None) != (origin_domain_name is None):
            raise ValueError("CloudFrontOnlyLoadBalancer: certificate and origin_domain_name go together")
        self.certificate = certificate
        self.protocol = elbv2.ApplicationProtocol.HTTPS if certificate else elbv2.ApplicationProtocol.HTTP
        self.port = 443 if certificate else 80
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description="Storefront load balancer: CloudFront origin-facing addresses only")
        # One rule only: a prefix-list rule weighs the list's 55 entries against the 60-rule quota.
        # CloudFront's documentation names this prefix list (or the group it creates for VPC origins,
        # which exists only after the edge deploys) for admitting VPC origin traffic: one rule for both.
        self.prefix_list = CloudFrontPrefixList(self, "CloudFrontAddresses", profile=profile,
                                                encryption_key=encryption_key)
        self.security_group.add_ingress_rule(ec2.Peer.prefix_list(self.prefix_list.prefix_list_id),
                                             ec2.Port.tcp(self.port), "CloudFront origin-facing servers")

        self.load_balancer = elbv2.ApplicationLoadBalancer(self, "LoadBalancer", **merge({
            "vpc": vpc,
            "internet_facing": not self.vpc_origin,
            "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS if self.vpc_origin
                                               else ec2.SubnetType.PUBLIC),
            "security_group": self.security_group,
            "drop_invalid_header_fields": True,
            "desync_mitigation_mode": elbv2.DesyncMitigationMode.STRICTEST,
            "deletion_protection": profile.deletion_protection,
            "http2_enabled": True,
        }, load_balancer_props))
        acknowledge(self.load_balancer, "PCI.DSS.321-ALBWAFEnabled",
                    "Only CloudFront reaches this load balancer (prefix list plus secret header), and the "
                    "CloudFront web ACL inspects every request first; a second ACL here would bill twice.")
        self.access_logs = log_bucket(self, "AccessLogs", profile=profile, what="load balancer access logs")
        self.load_balancer.log_access_logs(self.access_logs, prefix="alb")

        stack = Stack.of(self)
        if replica_regions is None:
            replica_regions = ([EDGE_REGION] if not Token.is_unresolved(stack.region) and stack.region != EDGE_REGION
                               else [])
        # Named, so the edge stack can resolve the replica in its own region by name.
        # AWS-managed key: a replica cannot use this region's customer-managed key.
        # A deleted secret keeps its name reserved for its recovery window, so a fixed name would
        # fail the next create of this stack: the name carries the stack's id, new on every create.
        stack_id = Fn.select(0, Fn.split("-", Fn.select(2, Fn.split("/", Stack.of(self).stack_id))))
        self.origin_secret_name = Fn.join("-", [Names.unique_resource_name(self, max_length=150, separator="-"),
                                                "origin-verify", stack_id])
        self.origin_secret = secretsmanager.Secret(
            self, "OriginSecret", secret_name=self.origin_secret_name,
            description=f"Value of the {ORIGIN_VERIFY_HEADER} header CloudFront adds to storefront requests",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=48, exclude_punctuation=True),
            replica_regions=[secretsmanager.ReplicaRegion(region=r) for r in replica_regions] or None)
        rotation = ("The header value is written into the CloudFront origin and the listener rule at deploy time; "
                    "rotate by putting a new value and redeploying the web and edge stacks.")
        acknowledge(self.origin_secret, "AwsSolutions-SMG4", rotation)
        acknowledge(self.origin_secret, "PCI.DSS.321-SecretsManagerRotationEnabled", rotation)
        acknowledge(self.origin_secret, "PCI.DSS.321-SecretsManagerUsingKMSKey",
                    "Replicated to the CloudFront region, where this region's customer-managed key does not exist.")
        skip_checkov(self.origin_secret.node.default_child, "CKV_AWS_149",
                     "Replicated to the CloudFront region, where this region's customer-managed key does not exist.")

        forbidden = elbv2.ListenerAction.fixed_response(403, content_type="text/plain", message_body="Forbidden")
        if certificate is not None:
            self.listener = self.load_balancer.add_listener(
                "Https", port=443, protocol=elbv2.ApplicationProtocol.HTTPS, certificates=[certificate],
                ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS, open=False, default_action=forbidden)
        else:
            self.listener = self.load_balancer.add_listener(
                "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=False, default_action=forbidden)
            plain = ("No certificate without -c domain_name: CloudFront reaches the load balancer over HTTP on "
                     "AWS's network, admitted only from CloudFront's prefix list with the secret header; with "
                     "a domain the listener is HTTPS only.")
            acknowledge(self.listener, "PCI.DSS.321-ALBHttpToHttpsRedirection", plain)
            acknowledge(self.load_balancer, "PCI.DSS.321-ALBHttpToHttpsRedirection", plain)
            acknowledge(self.listener, "PCI.DSS.321-ELBv2ACMCertificateRequired", plain)
            skip_checkov(self.listener.node.default_child, "CKV_AWS_2", plain)
            skip_checkov(self.listener.node.default_child, "CKV_AWS_103", plain)
        self.origin_domain_name = origin_domain_name or self.load_balancer.load_balancer_dns_name

    def forward(self, id: str, target_group: elbv2.IApplicationTargetGroup) -> elbv2.ApplicationListenerRule:
        """Forward requests that carry the origin secret to `target_group`; others keep the 403."""
        return elbv2.ApplicationListenerRule(
            self, id, listener=self.listener, priority=10,
            conditions=[elbv2.ListenerCondition.http_header(
                ORIGIN_VERIFY_HEADER, [self.origin_secret.secret_value.unsafe_unwrap()])],
            action=elbv2.ListenerAction.forward([target_group]))
