"""Edge (us-east-1): the CloudFront distribution, its web ACL, the assets bucket and the shop's
DNS name. Reads the storefront and API origins from the Web and Commerce stacks, which may be
in another region (cross-region references)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, CfnOutput, Fn
from constructs import Construct

from ..config import WebDomain
from ..constructs.alarms import AlarmTopic
from ..constructs.edge import EdgeDistribution
from ..constructs.encryption import EncryptionKey
from ..constructs.monitoring import StackMonitoring
from ._base import CommerceStackBase
from .commerce_stack import CommerceStack
from .web_stack import WebStack, hosted_zone

EDGE_REGION = "us-east-1"


class EdgeStack(CommerceStackBase):
    """`edge` (EdgeDistribution), `encryption` (this region's key: the app's key lives in its own
    region). Deploy after Web: CloudFront reads the origin header secret's replica here.

    `alarm_topic` (AlarmTopic with `alarm_emails`/`alarm_https_endpoints`): an alarm can only
    notify a topic in its own region, so the edge has its own."""

    def __init__(self, scope: Construct, id: str, *, web: WebStack, commerce: CommerceStack,
                 domain: WebDomain | None = None, existing_web_acl_arn: str | None = None,
                 bot_control: bool = False, account_protection: bool = False, alarm_emails: Sequence[str] = (),
                 alarm_https_endpoints: Sequence[str] = (), **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.alarm_topic = AlarmTopic(self, "Alarms", profile=self.profile, emails=alarm_emails,
                                      https_endpoints=alarm_https_endpoints)
        self.monitoring = StackMonitoring(self, "Monitoring", profile=self.profile, alarm_topic=self.alarm_topic.topic)
        self.add_stack_dependency(web, reason="CloudFront's default origin is the storefront load balancer")
        self.add_stack_dependency(commerce, reason="CloudFront sends /api/* to the commerce API")
        self.encryption = EncryptionKey(self, "Encryption", profile=self.profile)
        api = commerce.app_tier.api
        if api.domain_name is not None:
            # The execute-api endpoint is disabled when the API has its own name.
            api_domain, api_path = api.domain_name.domain_name, ""
        else:
            api_domain = f"{api.rest_api_id}.execute-api.{commerce.region}.{Aws.URL_SUFFIX}"
            api_path = f"/{api.deployment_stage.stage_name}"
        origin = web.web.origin
        self.edge = EdgeDistribution(
            self, "Edge", profile=self.profile, storefront_origin_domain=origin.origin_domain_name,
            storefront_load_balancer=origin.load_balancer if origin.vpc_origin else None,
            storefront_origin_https=origin.certificate is not None, origin_secret_name=Fn.get_stack_output(
                web.stack_name, web.get_logical_id(web.origin_secret_name_output), region=web.region),
            api_domain=api_domain, api_origin_path=api_path, encryption_key=self.encryption.key,
            existing_web_acl_arn=existing_web_acl_arn, bot_control=bot_control,
            account_protection=account_protection,
            domain_name=domain.name if domain is not None else None,
            hosted_zone=hosted_zone(self, domain) if domain is not None else None)
        distribution = self.edge.distribution
        if self.edge.web_acl is not None:
            self.monitoring.monitor_web_acl("Edge", self.edge.web_acl.web_acl)
        CfnOutput(self, "StorefrontUrl",
                  value=f"https://{domain.name}" if domain is not None
                  else Fn.join("", ["https://", distribution.distribution_domain_name]))
        CfnOutput(self, "DistributionId", value=distribution.distribution_id)
        CfnOutput(self, "AssetsBucket", value=self.edge.assets_bucket.bucket_name,
                  description="Upload static files under assets/ (served at /assets/...)")
