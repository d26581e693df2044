"""Cognito: shopper sign-up/sign-in, app clients for web and mobile, groups, API authorizer."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from ..config import Profile
from ._nag import acknowledge
from ._props import check_exclusive, merge

CUSTOMERS_GROUP = "customers"
ADMINS_GROUP = "admins"


# Hosted sign-in asks for no more than the storefront shows: who the shopper is.
OAUTH_SCOPES = (cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE)


def _client_defaults(callback_urls: Sequence[str] = (), logout_urls: Sequence[str] = ()) -> dict:
    """Public clients (browser, phone) cannot keep a secret; SRP never sends the password.

    Without callback URLs OAuth is off (CDK's defaults would allow the implicit flow, every
    scope and `https://example.com`). With them: authorization code flow only, which a public
    client completes with PKCE (RFC 7636: the code is useless without the verifier), and
    `OAUTH_SCOPES`.
    """
    oauth: dict = {"disable_o_auth": True}
    if callback_urls:
        oauth = {
            "o_auth": cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False,
                                         client_credentials=False),
                scopes=list(OAUTH_SCOPES), callback_urls=list(callback_urls),
                logout_urls=list(logout_urls) or None),
            "supported_identity_providers": [cognito.UserPoolClientIdentityProvider.COGNITO],
        }
    return {
        **oauth,
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
    defaults: no secret, SRP, 1 h tokens, 30-day refresh, OAuth off);
    `email_from` (default None: Cognito's own sender, a few dozen mails a day, for trials only):
    an address verified in SES, the pool then sends through SES in the stack's region (the
    reference app requires it for prod); `hosted_sign_in_domain_prefix` and `callback_urls`
    (default None / none: OAuth off on both clients): create the Cognito domain
    `<prefix>.auth.<region>.amazoncognito.com` and let both clients use the authorization code
    flow with PKCE and `OAUTH_SCOPES`; `logout_urls` (default none) for sign-out.
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile,
                 existing_user_pool: cognito.IUserPool | None = None,
                 user_pool_props: dict | None = None,
                 web_client_props: dict | None = None,
                 mobile_client_props: dict | None = None,
                 email_from: str | None = None,
                 hosted_sign_in_domain_prefix: str | None = None,
                 callback_urls: Sequence[str] = (), logout_urls: Sequence[str] = ()) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_user_pool=existing_user_pool,
                        user_pool_props=user_pool_props)
        if bool(hosted_sign_in_domain_prefix) != bool(callback_urls):
            raise ValueError("Identity: hosted_sign_in_domain_prefix and callback_urls go together")
        self.groups: dict[str, cognito.UserPoolGroup] = {}
        self.domain: cognito.UserPoolDomain | None = None
        if existing_user_pool is not None:
            self.user_pool: cognito.IUserPool = existing_user_pool
        else:
            defaults = _pool_defaults(profile)
            if email_from:
                region = Stack.of(self).region
                defaults["email"] = cognito.UserPoolEmail.with_ses(
                    from_email=email_from, ses_region=None if Token.is_unresolved(region) else region)
            pool = cognito.UserPool(self, "UserPool", **merge(defaults, user_pool_props))
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

        if hosted_sign_in_domain_prefix:
            self.domain = cognito.UserPoolDomain(
                self, "Domain", user_pool=self.user_pool,
                cognito_domain=cognito.CognitoDomainOptions(domain_prefix=hosted_sign_in_domain_prefix))
        client_defaults = _client_defaults(callback_urls, logout_urls)
        self.web_client = self.user_pool.add_client("WebClient", **merge(client_defaults, web_client_props))
        self.mobile_client = self.user_pool.add_client("MobileClient", **merge(client_defaults, mobile_client_props))

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
