"""Web: the storefront (WebTier) behind a CloudFront-only load balancer. Depends on Foundation
and Commerce; the edge stack (CloudFront) points at it."""

from __future__ import annotations

from aws_cdk import CfnOutput
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..config import WebDomain
from ..constructs.monitoring import StackMonitoring
from ..constructs.python_functions import PythonFunctions
from ..constructs.web_tier import WebTier
from ._base import CommerceStackBase
from .commerce_stack import CommerceStack
from .foundation_stack import FoundationStack


def hosted_zone(scope: Construct, domain: WebDomain) -> route53.IHostedZone:
    # Every record and validation name below is fully qualified, so the zone's own name (which
    # may be a parent of the shop's name) is not needed.
    return route53.HostedZone.from_hosted_zone_attributes(scope, "Zone", hosted_zone_id=domain.hosted_zone_id,
                                                          zone_name=domain.name)


class WebStack(CommerceStackBase):
    """`web` (WebTier), `functions` (PythonFunctions; None when the storefront shares the API's
    cache and so runs no function here), `origin_certificate` (with a domain: `origin.<domain>`, DNS-validated).

    With `domain` the load balancer listens on HTTPS only, under `origin.<domain>` (an alias
    record in the hosted zone), and CloudFront connects to that name; without, on HTTP.
    """

    def __init__(self, scope: Construct, id: str, *, foundation: FoundationStack, commerce: CommerceStack,
                 domain: WebDomain | None = None, powertools_layer_arn: str | None = None, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.add_stack_dependency(foundation, reason="the storefront runs in Foundation's VPC and mounts its EFS")
        self.add_stack_dependency(commerce, reason="the storefront calls the commerce API and signs in with Cognito")
        topic = sns.Topic.from_topic_arn(self, "AlarmTopic", foundation.alarm_topic.topic.topic_arn)
        self.monitoring = StackMonitoring(self, "Monitoring", profile=self.profile, alarm_topic=topic)
        # Imported by ARN, as in Commerce: grants stay in this stack's policies.
        key = kms.Key.from_key_arn(self, "SharedKey", foundation.encryption.key.key_arn)
        vpc = foundation.network.vpc
        # Imported, so the NFS rule from the storefront lands in this stack, not in Foundation's group
        # (which would point Foundation back up at this stack).
        shared = foundation.shared_files.file_system
        file_system = efs.FileSystem.from_file_system_attributes(
            self, "SharedFiles", file_system_id=shared.file_system_id,
            security_group=ec2.SecurityGroup.from_security_group_id(
                self, "SharedFilesSecurityGroup", shared.connections.security_groups[0].security_group_id))
        self.origin_certificate = None
        zone = None
        if domain is not None:
            zone = hosted_zone(self, domain)
            self.origin_certificate = acm.Certificate(self, "OriginCertificate", domain_name=domain.origin_name,
                                                      validation=acm.CertificateValidation.from_dns(zone))
        # The stage URL (or the custom domain), ending in "/"; the storefront strips it.
        api_url = commerce.app_tier.rest.url
        # One Valkey for the API's and the storefront's response caches where the profile says so;
        # the API's invalidation then serves both, and this stack runs no function.
        shared_cache = (commerce.response_cache.cache if self.profile.web_cache_shared
                        and commerce.response_cache is not None else None)
        self.functions = None
        if shared_cache is None:
            self.functions = PythonFunctions(self, "Functions", profile=self.profile, vpc=vpc, encryption_key=key,
                                             powertools_layer_arn=powertools_layer_arn)
        self.web = WebTier(self, "Web", profile=self.profile, vpc=vpc, functions=self.functions,
                           bus=foundation.events.bus, user_pool=commerce.identity.user_pool, api_url=api_url,
                           file_system=file_system, existing_cache=shared_cache,
                           access_point=foundation.shared_files.web_access_point, encryption_key=key,
                           certificate=self.origin_certificate,
                           origin_domain_name=domain.origin_name if domain is not None else None,
                           # Shopper interactions feed Personalize, which exists only with its toggle.
                           publish_interactions=commerce.personalization is not None)
        if domain is not None:
            route53.ARecord(self, "OriginAlias", zone=zone, record_name=f"{domain.origin_name}.",
                            target=route53.RecordTarget.from_alias(
                                targets.LoadBalancerTarget(self.web.origin.load_balancer)))
        self._monitor()
        # Read by the edge stack with Fn::GetStackOutput as a whole string: the name is built from
        # this stack's id, and splitting another stack's output is not allowed in every intrinsic.
        self.origin_secret_name_output = CfnOutput(
            self, "OriginSecretName", value=self.web.origin.origin_secret_name,
            description="Secrets Manager secret (replicated to us-east-1) with the CloudFront origin header value")
        CfnOutput(self, "StorefrontClientId", value=self.web.user_pool_client.user_pool_client_id)
        CfnOutput(self, "LoadBalancerDns", value=self.web.origin.load_balancer.load_balancer_dns_name,
                  description="Answers 403 unless the request comes through the CloudFront distribution")

    def _monitor(self) -> None:
        web, monitoring = self.web, self.monitoring
        if self.functions is not None:
            monitoring.monitor_function_factory(self.functions)
        # Target 5xx and unhealthy hosts alarm in WebTier; CPU and memory here.
        monitoring.show_alarms({f"Storefront {name}": alarm for name, alarm in sorted(web.alarms.items())})
        monitoring.monitor_fargate_service("Storefront", web.service)
        if not web.shared_cache:  # a shared cache is monitored by its owner
            monitoring.monitor_cache("WebCache", web.cache.cache)
        monitoring.monitor_table("Sessions", web.tables.session_table)
        monitoring.monitor_table("Flags", web.tables.flags_table)

