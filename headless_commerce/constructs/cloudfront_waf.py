"""The CloudFront web ACL (scope CLOUDFRONT, so it lives in us-east-1): AWS managed common,
known-bad-inputs and IP reputation rules, a per-IP rate limit, and as opt-ins Bot Control and
AWS WAF Fraud Control (ATP on sign-in, ACFP on sign-up: constructs/fraud.py)."""

from __future__ import annotations

from aws_cdk import Stack, Token
from aws_cdk import aws_kms as kms
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ..config import Profile
from ._props import merge
from .fraud import account_protection_rules
from .regional_waf import _visibility, log_web_acl, web_acl_rules

BOT_CONTROL = "AWSManagedRulesBotControlRuleSet"


def bot_control_rule(priority: int, prefix: str) -> wafv2.CfnWebACL.RuleProperty:
    # COMMON level: self-identifying bots and scrapers, priced per request on top of the ACL;
    # TARGETED (browser fingerprinting) costs more and needs the JavaScript SDK in the storefront.
    return wafv2.CfnWebACL.RuleProperty(
        name=BOT_CONTROL, priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=BOT_CONTROL,
                managed_rule_group_configs=[wafv2.CfnWebACL.ManagedRuleGroupConfigProperty(
                    aws_managed_rules_bot_control_rule_set=wafv2.CfnWebACL.AWSManagedRulesBotControlRuleSetProperty(
                        inspection_level="COMMON"))])),
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        visibility_config=_visibility(BOT_CONTROL, prefix))


class CloudFrontWaf(Construct):
    """`web_acl` (CfnWebACL, scope CLOUDFRONT) and `log_group` (aws-waf-logs-*).

    Must be created in a us-east-1 stack: CloudFront accepts only web ACLs from there.

    Parameters: `profile` (log retention, removal); `rate_limit_per_5_min` (default 2000
    requests per client IP); `bot_control` (default False: AWS Bot Control, common level, is
    billed per request on top of the ACL); `encryption_key` (default None: AWS-managed log
    encryption); `web_acl_props` (default None: overrides of the CfnWebACL props);
    `metric_prefix` (default None: the stack name); `account_protection` (default False: AWS WAF
    Fraud Control ATP on the storefront's sign-in and ACFP on its sign-up, each about $10/month
    plus a fee per analysed request; evaluated last, after the cheaper rules).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, rate_limit_per_5_min: int = 2000,
                 bot_control: bool = False, encryption_key: kms.IKey | None = None,
                 web_acl_props: dict | None = None, metric_prefix: str | None = None,
                 account_protection: bool = False) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        if not Token.is_unresolved(stack.region) and stack.region != "us-east-1":
            raise ValueError(f"CloudFrontWaf: CloudFront web ACLs live in us-east-1; this stack is in {stack.region}")
        prefix = metric_prefix if metric_prefix is not None else stack.stack_name
        # No body-size rule: the API behind /api/* enforces its own limit in its regional ACL.
        rules = web_acl_rules(rate_limit_per_5_min, max_body_bytes=None, metric_prefix=prefix)
        if bot_control:
            rules.append(bot_control_rule(len(rules), prefix))
        if account_protection:
            rules += account_protection_rules(first_priority=len(rules), metric_prefix=prefix)
        self.web_acl = wafv2.CfnWebACL(self, "WebAcl", **merge({
            "scope": "CLOUDFRONT",
            "default_action": wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            "visibility_config": _visibility("CommerceEdgeAcl", prefix),
            "rules": rules,
        }, web_acl_props))
        self.log_group = log_web_acl(self, self.web_acl, profile=profile, encryption_key=encryption_key)
