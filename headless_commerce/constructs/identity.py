"""Cognito: shopper sign-up/sign-in, app clients for web and mobile, groups, API authorizer."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from ..config import Profile
from ._nag import acknowledge
from ._props import check_exclusive, merge

CUSTOMERS_GROUP = "customers"
ADMINS_GROUP = "admins"


def _client_defaults() -> dict:
    # Public clients (browser, phone) cannot keep a secret; SRP never sends the password.
    return {
        "generate_secret": False,
        "auth_flows": cognito.AuthFlow(user_srp=True),
        "prevent_user_existence_errors": True,
        "enable_token_revocation": True,
        "access_token_validity": Duration.hours(1),
        "id_token_validity": Duration.hours(1),
        "refresh_token_validity": Duration.days(30),
    }


class Identity(Construct):
    """A user pool with email sign-in, or an existing one, plus `web_client` and `mobile_client`.

    Groups are created only on a new pool: group names are unique per pool, and a shared
    existing pool usually has its own.

    Parameters: `profile` (MFA, threat protection, removal); `existing_user_pool` (default
    None: a new pool) or `user_pool_props` (overrides of the pool defaults);
    `web_client_props` and `mobile_client_props` (default None: overrides of the public-client
    defaults: no secret, SRP, 1 h tokens, 30-day refresh).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile,
                 existing_user_pool: cognito.IUserPool | None = None,
                 user_pool_props: dict | None = None,
                 web_client_props: dict | None = None,
                 mobile_client_props: dict | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_user_pool=existing_user_pool,
                        user_pool_props=user_pool_props)
        self.groups: dict[str, cognito.UserPoolGroup] = {}
        if existing_user_pool is not None:
            self.user_pool: cognito.IUserPool = existing_user_pool
        else:
            pool = cognito.UserPool(self, "UserPool", **merge(_pool_defaults(profile), user_pool_props))
            if not profile.mfa_required:
                acknowledge(pool, "AwsSolutions-COG2",
                            "The dev profile keeps MFA optional so test shoppers can sign up from "
                            "scripts; the prod profile requires a TOTP second factor.")
            if not profile.threat_protection:
                reason = ("Threat protection needs the Cognito Plus feature plan, billed per active user; "
                          "the dev profile runs on Essentials, prod runs Plus in full-function mode.")
                acknowledge(pool, "AwsSolutions-COG3", reason)
                acknowledge(pool, "AwsSolutions-COG8", reason)
            for name, precedence, description in (
                (ADMINS_GROUP, 0, "Store administrators"),
                (CUSTOMERS_GROUP, 10, "Shoppers; every confirmed user is added"),
            ):
                self.groups[name] = pool.add_group(name.title(), group_name=name,
                                                   precedence=precedence, description=description)
            self.user_pool = pool

        self.web_client = self.user_pool.add_client("WebClient", **merge(_client_defaults(), web_client_props))
        self.mobile_client = self.user_pool.add_client("MobileClient", **merge(_client_defaults(), mobile_client_props))

    def add_post_confirmation(self, handler: lambda_.IFunction) -> None:
        """Run `handler` when a shopper confirms sign-up (creates their profile)."""
        if not isinstance(self.user_pool, cognito.UserPool):
            raise ValueError("add_post_confirmation needs a user pool created by this construct; "
                             "attach the trigger to an existing pool where it is defined")
        self.user_pool.add_trigger(cognito.UserPoolOperation.POST_CONFIRMATION, handler)

    def authorizer(self, scope: Construct, id: str) -> apigw.CognitoUserPoolsAuthorizer:
        """An API Gateway authorizer that accepts ID tokens from this pool's clients."""
        return apigw.CognitoUserPoolsAuthorizer(scope, id, cognito_user_pools=[self.user_pool])


def _pool_defaults(profile: Profile) -> dict:
    return {
        "self_sign_up_enabled": True,
        "sign_in_aliases": cognito.SignInAliases(email=True),
        "sign_in_case_sensitive": False,
        "auto_verify": cognito.AutoVerifiedAttrs(email=True),
        "keep_original": cognito.KeepOriginalAttrs(email=True),
        "standard_attributes": cognito.StandardAttributes(
            email=cognito.StandardAttribute(required=True, mutable=True),
            given_name=cognito.StandardAttribute(required=False, mutable=True),
            family_name=cognito.StandardAttribute(required=False, mutable=True),
        ),
        "password_policy": cognito.PasswordPolicy(
            min_length=12, require_lowercase=True, require_uppercase=True, require_digits=True,
            require_symbols=True, temp_password_validity=Duration.days(3),
        ),
        "account_recovery": cognito.AccountRecovery.EMAIL_ONLY,
        "mfa": cognito.Mfa.REQUIRED if profile.mfa_required else cognito.Mfa.OPTIONAL,
        "mfa_second_factor": cognito.MfaSecondFactor(otp=True, sms=False),
        "feature_plan": cognito.FeaturePlan.PLUS if profile.threat_protection else cognito.FeaturePlan.ESSENTIALS,
        **({"standard_threat_protection_mode": cognito.StandardThreatProtectionMode.FULL_FUNCTION}
           if profile.threat_protection else {}),
        "deletion_protection": profile.deletion_protection,
        "removal_policy": profile.removal_policy,
    }
