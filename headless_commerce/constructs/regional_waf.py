"""A regional AWS WAF web ACL for API Gateway stages and load balancers."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import ArnFormat, Names, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ..config import Profile
from ..runtime.common.errors import error_body
from ..runtime.routes import MAX_BODY_BYTES
from ._props import merge

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


def _visibility(name: str, prefix: str = "") -> wafv2.CfnWebACL.VisibilityConfigProperty:
    # WAF metrics are per account and region by name: the prefix (the stack name, which carries
    # the stage) keeps two copies of the app from writing into one metric.
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=f"{prefix}-{name}" if prefix else name,
        sampled_requests_enabled=True)


# The common rule set blocks bodies over 8 KB; the API takes up to MAX_BODY_BYTES and payment
# provider webhooks can exceed 8 KB. That rule only counts; `BodyTooLarge` enforces our limit.
COUNTED_MANAGED_RULES = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}
BODY_TOO_LARGE_KEY = "BodyTooLarge"


def _body_size_rule(max_body_bytes: int, prefix: str = "") -> wafv2.CfnWebACL.RuleProperty:
    # API Gateway lets WAF inspect 16 KB of body by default; OversizeHandling MATCH treats a body
    # beyond what WAF can see as too large, so nothing bigger than the limit slips through.
    return wafv2.CfnWebACL.RuleProperty(
        name=BODY_TOO_LARGE_KEY, priority=0,
        statement=wafv2.CfnWebACL.StatementProperty(
            size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                    body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")),
                comparison_operator="GT", size=max_body_bytes,
                text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")])),
        action=wafv2.CfnWebACL.RuleActionProperty(block=wafv2.CfnWebACL.BlockActionProperty(
            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                response_code=413, custom_response_body_key=BODY_TOO_LARGE_KEY))),
        visibility_config=_visibility(BODY_TOO_LARGE_KEY, prefix),
    )


def _managed_group(group: str, priority: int, prefix: str = "") -> wafv2.CfnWebACL.RuleProperty:
    overrides = [wafv2.CfnWebACL.RuleActionOverrideProperty(
        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}))
        for rule in COUNTED_MANAGED_RULES.get(group, ())]
    return wafv2.CfnWebACL.RuleProperty(
        name=group, priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=group, rule_action_overrides=overrides or None)),
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        visibility_config=_visibility(group, prefix),
    )


def web_acl_rules(rate_limit: int, max_body_bytes: int | None = MAX_BODY_BYTES,
                  metric_prefix: str = "", rate_exempt_ip_set_arn: str | None = None,
                  ) -> list[wafv2.CfnWebACL.RuleProperty]:
    prefix = metric_prefix
    exempt = None if rate_exempt_ip_set_arn is None else wafv2.CfnWebACL.StatementProperty(
        not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=wafv2.CfnWebACL.StatementProperty(
            ip_set_reference_statement=wafv2.CfnWebACL.IPSetReferenceStatementProperty(arn=rate_exempt_ip_set_arn))))
    rules = [_body_size_rule(max_body_bytes, prefix)] if max_body_bytes is not None else []
    rules += [_managed_group(group, len(rules) + index, prefix) for index, group in enumerate(MANAGED_RULE_GROUPS)]
    rules.append(wafv2.CfnWebACL.RuleProperty(
        name="RatePerIp", priority=len(rules),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                limit=rate_limit, aggregate_key_type="IP", evaluation_window_sec=300,
                scope_down_statement=exempt)),
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        visibility_config=_visibility("RatePerIp", prefix),
    ))
    return rules


def log_web_acl(scope: Construct, web_acl: wafv2.CfnWebACL, *, profile: Profile,
                encryption_key: kms.IKey | None) -> logs.LogGroup:
    """Log every request the ACL sees to a log group of `scope` (ids "Logs" and "Logging")."""
    # WAF only logs to groups named aws-waf-logs-*; the suffix is unique per stack path.
    log_group = logs.LogGroup(
        scope, "Logs", retention=profile.log_retention, removal_policy=profile.removal_policy,
        encryption_key=encryption_key,
        log_group_name=f"aws-waf-logs-{Names.unique_resource_name(scope, max_length=100)}")
    wafv2.CfnLoggingConfiguration(
        scope, "Logging", resource_arn=web_acl.attr_arn,
        # WAF wants the ARN without the ":*" suffix that the log group's Arn attribute carries.
        log_destination_configs=[Stack.of(scope).format_arn(
            service="logs", resource="log-group", resource_name=log_group.log_group_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME)])
    return log_group


class RegionalWaf(Construct):
    """`web_acl` (a body-size limit, AWS managed common, known-bad-inputs, IP reputation, per-IP
    rate limit); `associate(id, resource_arn)` attaches it to an API stage or ALB.

    Parameters: `profile` (log retention, removal); `rate_limit_per_5_min` (default 2000
    requests per IP); `encryption_key` (default None: AWS-managed log encryption);
    `web_acl_props` (default None: overrides of the CfnWebACL props); `max_body_bytes` (default
    the API's MAX_BODY_BYTES, 16 KB: larger bodies get 413 with the API's error body; None for
    an ALB, where WAF inspects only 8 KB and would refuse the rest); `metric_prefix` (default
    None: the stack name, so metric names carry the stage and two copies never share one);
    `rate_limit_exempt_cidrs` (default none): sources the per-IP rate limit skips (the managed
    rules still apply), such as the NAT addresses a backend-for-frontend calls from on behalf of
    every shopper at once; creates `rate_exempt_ip_set`.
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, rate_limit_per_5_min: int = 2000,
                 encryption_key: kms.IKey | None = None, web_acl_props: dict | None = None,
                 max_body_bytes: int | None = MAX_BODY_BYTES, metric_prefix: str | None = None,
                 rate_limit_exempt_cidrs: Sequence[str] = ()) -> None:
        super().__init__(scope, id)
        prefix = metric_prefix if metric_prefix is not None else Stack.of(self).stack_name
        self.rate_exempt_ip_set = None
        if rate_limit_exempt_cidrs:
            self.rate_exempt_ip_set = wafv2.CfnIPSet(
                self, "RateExempt", scope="REGIONAL", ip_address_version="IPV4",
                addresses=list(rate_limit_exempt_cidrs),
                description="Callers the per-IP rate limit skips, each calling on behalf of many clients")
        bodies = {} if max_body_bytes is None else {"custom_response_bodies": {
            BODY_TOO_LARGE_KEY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                content_type="APPLICATION_JSON",
                content=json.dumps(error_body("body_too_large", f"Body exceeds {max_body_bytes} bytes")))}}
        self.web_acl = wafv2.CfnWebACL(self, "WebAcl", **merge({
            "scope": "REGIONAL",
            "default_action": wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            "visibility_config": _visibility("CommerceRegionalAcl", prefix),
            "rules": web_acl_rules(rate_limit_per_5_min, max_body_bytes, prefix,
                                   self.rate_exempt_ip_set.attr_arn if self.rate_exempt_ip_set else None),
            **bodies,
        }, web_acl_props))
        self.log_group = log_web_acl(self, self.web_acl, profile=profile, encryption_key=encryption_key)

    def associate(self, id: str, resource_arn: str) -> wafv2.CfnWebACLAssociation:
        return wafv2.CfnWebACLAssociation(self, id, resource_arn=resource_arn, web_acl_arn=self.web_acl.attr_arn)
