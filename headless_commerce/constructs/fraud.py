"""Fraud: the transaction risk scorer in checkout, the review of held orders, and the AWS WAF
Fraud Control rules (account takeover prevention on sign-in, account creation fraud prevention
on sign-up) for the CloudFront web ACL. No Amazon Fraud Detector: it takes no new customers.

The scorer needs no resource of its own: its velocity counters and decision records live in the
commerce table (TTL), so it costs nothing idle. `Fraud` configures it (`connect`) on the checkout
function, creates the review function, and grants the optional SageMaker endpoint. The WAF rules
belong to the edge web ACL, in another stack and region: `account_protection_rules(...)` builds
them and `CloudFrontWaf(account_protection=...)` adds them; both are billed (see below).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from aws_cdk import Aws, CfnOutput, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from ..runtime import routes, settings, table_permissions
from ..runtime.fraud import config as fraud_config
from ..runtime.fraud.model_endpoint import DEFAULT_TIMEOUT_MS
from ._iam import grant_table_actions
from ._tables import acknowledge_index_grant
from .fargate_functions import FargateService
from .python_functions import PythonFunctions

ATP = "AWSManagedRulesATPRuleSet"
ACFP = "AWSManagedRulesACFPRuleSet"
# The storefront's own forms (runtime/storefront/: templates/signin.html, signup.html): a POST of
# form fields `email` and `password`, answered 303 (a redirect) on success and 400 on failure.
SIGN_IN_PATH = "/account/sign-in"
SIGN_UP_PATH = "/account/sign-up"
FORM_USERNAME_FIELD = "email"
FORM_PASSWORD_FIELD = "password"
SUCCESS_CODES = (303,)
FAILURE_CODES = (400,)
_ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def _visibility(name: str, prefix: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=f"{prefix}-{name}" if prefix else name,
        sampled_requests_enabled=True)


def _path_starts_with(path: str) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}), positional_constraint="STARTS_WITH",
        search_string=path, text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0,
                                                                                                type="NONE")]))


def _status_codes() -> wafv2.CfnWebACL.ResponseInspectionProperty:
    # Response inspection: CloudFront web ACLs only (regional ones cannot see responses).
    return wafv2.CfnWebACL.ResponseInspectionProperty(status_code=wafv2.CfnWebACL.ResponseInspectionStatusCodeProperty(
        success_codes=list(SUCCESS_CODES), failure_codes=list(FAILURE_CODES)))


def account_protection_rules(*, first_priority: int, metric_prefix: str = "", sign_in_path: str = SIGN_IN_PATH,
                             sign_up_path: str = SIGN_UP_PATH) -> list[wafv2.CfnWebACL.RuleProperty]:
    """AWS WAF Fraud Control for a CloudFront web ACL: ATP on `sign_in_path`, ACFP on
    `sign_up_path` (its registration page and the form's POST share that path), each scoped down
    to its path so no other request is evaluated (or billed), inspecting the storefront's
    form-encoded fields and, at the edge, its responses' status codes."""
    form = "FORM_ENCODED"
    atp = wafv2.CfnWebACL.RuleProperty(
        name=ATP, priority=first_priority,
        statement=wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
            vendor_name="AWS", name=ATP, scope_down_statement=_path_starts_with(sign_in_path),
            managed_rule_group_configs=[wafv2.CfnWebACL.ManagedRuleGroupConfigProperty(
                aws_managed_rules_atp_rule_set=wafv2.CfnWebACL.AWSManagedRulesATPRuleSetProperty(
                    login_path=sign_in_path,
                    request_inspection=wafv2.CfnWebACL.RequestInspectionProperty(
                        payload_type=form,
                        username_field=wafv2.CfnWebACL.FieldIdentifierProperty(identifier=FORM_USERNAME_FIELD),
                        password_field=wafv2.CfnWebACL.FieldIdentifierProperty(identifier=FORM_PASSWORD_FIELD)),
                    response_inspection=_status_codes()))])),
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        visibility_config=_visibility(ATP, metric_prefix))
    acfp = wafv2.CfnWebACL.RuleProperty(
        name=ACFP, priority=first_priority + 1,
        statement=wafv2.CfnWebACL.StatementProperty(managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
            vendor_name="AWS", name=ACFP, scope_down_statement=_path_starts_with(sign_up_path),
            managed_rule_group_configs=[wafv2.CfnWebACL.ManagedRuleGroupConfigProperty(
                aws_managed_rules_acfp_rule_set=wafv2.CfnWebACL.AWSManagedRulesACFPRuleSetProperty(
                    creation_path=sign_up_path, registration_page_path=sign_up_path,
                    request_inspection=wafv2.CfnWebACL.RequestInspectionACFPProperty(
                        payload_type=form,
                        email_field=wafv2.CfnWebACL.FieldIdentifierProperty(identifier=FORM_USERNAME_FIELD),
                        password_field=wafv2.CfnWebACL.FieldIdentifierProperty(identifier=FORM_PASSWORD_FIELD)),
                    response_inspection=_status_codes()))])),
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        visibility_config=_visibility(ACFP, metric_prefix))
    return [atp, acfp]


def _validated(config: Mapping | None, trusted_proxy_cidrs: Sequence[str]) -> dict:
    """The overrides as FRAUD_CONFIG will carry them, checked now by the runtime's own parser
    (addresses that are deploy-time tokens are checked by the function at cold start)."""
    overrides = dict(config or {})
    if "trusted_proxy_cidrs" in overrides:
        raise ValueError("Fraud: pass trusted_proxy_cidrs as the construct parameter, not inside config")
    if trusted_proxy_cidrs:
        overrides["trusted_proxy_cidrs"] = list(trusted_proxy_cidrs)
    literal = {**overrides, **({"trusted_proxy_cidrs": [c for c in trusted_proxy_cidrs if not Token.is_unresolved(c)]}
                               if trusted_proxy_cidrs else {})}
    try:
        fraud_config.parse(json.loads(json.dumps(literal)))
    except (fraud_config.ConfigError, TypeError, ValueError) as error:
        raise ValueError(f"Fraud: config: {error}") from None
    return overrides


class Fraud(Construct):
    """`review_function` (lists, releases and rejects held orders; invoked by operators),
    `environment` (what `connect` sets on checkout), `config` (the validated overrides).

    Parameters: `functions` (the PythonFunctions factory); `table` (the commerce table: counters
    and decision records live in it); `payment_secret` and `payment_provider` (a released order
    is paid by the review function); `config` (default None: the scorer's defaults in
    runtime/fraud/config.py; a mapping of overrides, e.g. `{"review_at": 40, "rules":
    {"customer_velocity": {"limit": 3}}}`, validated here: a bad key is a ValueError);
    `trusted_proxy_cidrs` (default (): addresses never counted for IP velocity, e.g. the NAT
    gateways the storefront calls the API from); `model_endpoint_name` (default None: no model;
    a SageMaker endpoint asked per checkout, granted `sagemaker:InvokeEndpoint` on it alone);
    `model_timeout_ms` (default 300, 50..5000: beyond it the order is held for review);
    `payment_layers` (default None: the provider SDK layers).
    """

    def __init__(self, scope: Construct, id: str, *, functions: PythonFunctions, table: dynamodb.ITableV2,
                 payment_secret: secretsmanager.ISecret, payment_provider: str, config: Mapping | None = None,
                 trusted_proxy_cidrs: Sequence[str] = (), model_endpoint_name: str | None = None,
                 model_timeout_ms: int = DEFAULT_TIMEOUT_MS,
                 payment_layers: list[lambda_.ILayerVersion] | None = None) -> None:
        super().__init__(scope, id)
        if model_endpoint_name is not None and not _ENDPOINT_NAME.match(model_endpoint_name):
            raise ValueError(f"Fraud: model_endpoint_name {model_endpoint_name!r} is not a SageMaker endpoint name")
        if not 50 <= model_timeout_ms <= 5000:
            raise ValueError(f"Fraud: model_timeout_ms must be from 50 to 5000, got {model_timeout_ms}")
        self.config = _validated(config, trusted_proxy_cidrs)
        self.model_endpoint_name = model_endpoint_name
        self.environment: dict[str, str] = {settings.FRAUD_SCREEN: "rules"}
        if self.config:
            self.environment[settings.FRAUD_CONFIG] = Stack.of(self).to_json_string(self.config)
        if model_endpoint_name is not None:
            self.environment[settings.FRAUD_MODEL_ENDPOINT] = model_endpoint_name
            self.environment[settings.FRAUD_MODEL_TIMEOUT_MS] = str(model_timeout_ms)

        spec = routes.FRAUD_REVIEW
        self.review_function = functions.add(
            spec.name, handler=spec.handler, memory_mb=spec.memory_mb, timeout_s=spec.timeout_s,
            extra_layers=payment_layers,
            environment={settings.TABLE_NAME: table.table_name, settings.PAYMENT_PROVIDER: payment_provider,
                         settings.PAYMENT_SECRET_ARN: payment_secret.secret_arn})
        grant_table_actions(table, self.review_function, table_permissions.actions_for(spec.name))
        acknowledge_index_grant(self.review_function.role, table)
        payment_secret.grant_read(self.review_function)
        CfnOutput(self, "ReviewFunction", value=self.review_function.function_name,
                  description='Held orders: invoke with {"action": "list"}, or "release"/"reject" with '
                              '"order_id" and "reviewer"')

    def connect(self, checkout: lambda_.Function | FargateService) -> None:
        """Screen `checkout` (the function, or its Fargate service) with this configuration."""
        set_screen_environment(checkout, self.environment)
        if self.model_endpoint_name is not None:
            role = checkout.role
            iam.Grant.add_to_principal(
                grantee=role, actions=["sagemaker:InvokeEndpoint"],
                resource_arns=[f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:endpoint/"
                               f"{self.model_endpoint_name.lower()}"])


def set_screen_environment(checkout: lambda_.Function | FargateService, environment: Mapping[str, str]) -> None:
    """Set the FRAUD_* variables on a checkout function or service."""
    for name, value in environment.items():
        if isinstance(checkout, FargateService):
            checkout.task_definition.default_container.add_environment(name, value)
        else:
            checkout.add_environment(name, value)


def disable_screening(checkout: lambda_.Function | FargateService) -> None:
    """The explicit pass-through (`-c fraud=false`): checkout places every order unscreened."""
    set_screen_environment(checkout, {settings.FRAUD_SCREEN: "off"})
