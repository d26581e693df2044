"""A regional AWS WAF web ACL for API Gateway stages and load balancers."""

from __future__ import annotations

from aws_cdk import ArnFormat, Names, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ..config import Profile

from ._props import merge

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True)


def web_acl_rules(rate_limit: int) -> list[wafv2.CfnWebACL.RuleProperty]:
    rules = [
        wafv2.CfnWebACL.RuleProperty(
            name=group, priority=index,
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=group)),
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            visibility_config=_visibility(group),
        )
        for index, group in enumerate(MANAGED_RULE_GROUPS)
    ]
    rules.append(wafv2.CfnWebACL.RuleProperty(
        name="RatePerIp", priority=len(rules),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                limit=rate_limit, aggregate_key_type="IP", evaluation_window_sec=300)),
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        visibility_config=_visibility("RatePerIp"),
    ))
    return rules


class RegionalWaf(Construct):
    """`web_acl` (AWS managed common, known-bad-inputs, IP reputation, per-IP rate limit);
    `associate(id, resource_arn)` attaches it to an API stage or ALB.

    Parameters: `profile` (log retention, removal); `rate_limit_per_5_min` (default 2000
    requests per IP); `encryption_key` (default None: AWS-managed log encryption);
    `web_acl_props` (default None: overrides of the CfnWebACL props).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, rate_limit_per_5_min: int = 2000,
                 encryption_key: kms.IKey | None = None, web_acl_props: dict | None = None) -> None:
        super().__init__(scope, id)
        self.web_acl = wafv2.CfnWebACL(self, "WebAcl", **merge({
            "scope": "REGIONAL",
            "default_action": wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            "visibility_config": _visibility("CommerceRegionalAcl"),
            "rules": web_acl_rules(rate_limit_per_5_min),
        }, web_acl_props))
        # WAF only logs to groups named aws-waf-logs-*; the suffix is unique per stack path.
        self.log_group = logs.LogGroup(
            self, "Logs", retention=profile.log_retention, removal_policy=profile.removal_policy,
            encryption_key=encryption_key,
            log_group_name=f"aws-waf-logs-{Names.unique_resource_name(self, max_length=100)}")
        wafv2.CfnLoggingConfiguration(
            self, "Logging", resource_arn=self.web_acl.attr_arn,
            # WAF wants the ARN without the ":*" suffix that the log group's Arn attribute carries.
            log_destination_configs=[Stack.of(self).format_arn(
                service="logs", resource="log-group", resource_name=self.log_group.log_group_name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME)])

    def associate(self, id: str, resource_arn: str) -> wafv2.CfnWebACLAssociation:
        return wafv2.CfnWebACLAssociation(self, id, resource_arn=resource_arn, web_acl_arn=self.web_acl.attr_arn)
