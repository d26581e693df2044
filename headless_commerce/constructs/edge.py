"""The shop's front door: one CloudFront distribution for the storefront (default), the API
(`/api/*`) and static assets (`/assets/*`), behind the CloudFront web ACL, with security
headers, per-behaviour cache policies, standard logging and an optional custom domain."""

from __future__ import annotations

from aws_cdk import Annotations, Duration, Names, Stack, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..config import Profile
from ._checkov import skip_checkov
from ._log_bucket import log_bucket
from ._nag import acknowledge
from ._props import check_exclusive, merge
from .cloudfront_waf import CloudFrontWaf
from .encryption import EncryptionKey
from .web_origin import ORIGIN_VERIFY_HEADER

API_PATH = "/api/*"
ASSETS_PATH = "/assets/*"
# A server-rendered storefront loads everything from its own origin; images may come from any
# HTTPS host (product media CDNs). The storefront may send a stricter header of its own
# (nonces): CloudFront then keeps the origin's (override off).
DEFAULT_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: https:; script-src 'self'; style-src 'self'; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'; upgrade-insecure-requests"
)
# The API is reached at /api/... on the shop's domain; its stage serves /... .
_STRIP_API_PREFIX = """function handler(event) {
  var request = event.request;
  request.uri = request.uri.replace(/^\\/api(?=\\/|$)/, '') || '/';
  return request;
}"""


def origin_secret_reference(secret_name: str) -> str:
    """A CloudFormation dynamic reference: resolved at deploy time, never in the template."""
    return f"{{{{resolve:secretsmanager:{secret_name}:SecretString:::}}}}"


class EdgeDistribution(Construct):
    """`distribution`, `web_acl` (CloudFrontWaf, None with `existing_web_acl_arn`), `web_acl_arn`,
    `assets_bucket`, `logs_bucket`, `headers_policy`, `cache_policies` (by behaviour),
    `certificate` and `records` (with a domain).

    Behaviours: default → the storefront origin (the load balancer, with the secret origin
    header); `/api/*` → the commerce API (prefix stripped by a CloudFront Function, never
    cached longer than the API says and never without the caller's Authorization in the key);
    `/assets/*` → the assets bucket through origin access control. HTTP/2 and HTTP/3, HTTPS
    only for viewers, TLSv1.2_2021 with a certificate, IPv6, standard logging.

    Parameters: `profile` (removal, log expiry); `storefront_origin_domain` (the load
    balancer's DNS name, or its own name with a certificate); `storefront_load_balancer`
    (default None: `storefront_origin_domain` is reached over the internet; an internal load
    balancer: through a CloudFront VPC origin, see CloudFrontOnlyLoadBalancer); `storefront_origin_https`
    (default False: HTTP to the origin; True when the load balancer has a certificate for
    `storefront_origin_domain`); `origin_secret_name` (Secrets Manager secret in this region
    holding the origin header value); `api_domain` and `api_origin_path` (default "": e.g.
    "/v1" for an execute-api stage URL); `encryption_key` (default None: a new customer-managed
    key, which origin access control needs for SSE-KMS objects); `existing_web_acl_arn` (default None: a
    CloudFrontWaf is created) or `web_acl_props` (overrides of it); `bot_control` (default
    False); `account_protection` (default False: ATP and ACFP on the storefront's sign-in and
    sign-up, see CloudFrontWaf); `rate_limit_per_5_min` (default 2000); `domain_name` and `hosted_zone` (default
    None: the *.cloudfront.net name; given: a DNS-validated certificate, TLSv1.2_2021, and
    A/AAAA alias records); `content_security_policy` (default
    `DEFAULT_CONTENT_SECURITY_POLICY`); `existing_assets_bucket` (default None: a new one) or
    `assets_bucket_props`; `distribution_props` (overrides of the Distribution props).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, storefront_origin_domain: str,
                 origin_secret_name: str, api_domain: str,
                 storefront_load_balancer: elbv2.IApplicationLoadBalancer | None = None,
                 storefront_origin_https: bool = False,
                 api_origin_path: str = "", encryption_key: kms.IKey | None = None,
                 existing_web_acl_arn: str | None = None, web_acl_props: dict | None = None,
                 bot_control: bool = False, account_protection: bool = False, rate_limit_per_5_min: int = 2000,
                 domain_name: str | None = None, hosted_zone: route53.IHostedZone | None = None,
                 content_security_policy: str = DEFAULT_CONTENT_SECURITY_POLICY,
                 existing_assets_bucket: s3.IBucket | None = None, assets_bucket_props: dict | None = None,
                 distribution_props: dict | None = None) -> None:
        super().__init__(scope, id)
        owner = type(self).__name__
        check_exclusive(owner, existing_assets_bucket=existing_assets_bucket, assets_bucket_props=assets_bucket_props)
        if existing_web_acl_arn is not None and web_acl_props is not None:
            raise ValueError(f"{owner}: pass either an existing resource or props for a new one, not both: "
                             "existing_web_acl_arn and web_acl_props")
        if (domain_name is None) != (hosted_zone is None):
            raise ValueError(f"{owner}: domain_name and hosted_zone go together")
        if bot_control and existing_web_acl_arn:
            raise ValueError(f"{owner}: bot_control configures the web ACL this construct creates; "
                             "add Bot Control to the existing web ACL instead")
        if account_protection and existing_web_acl_arn:
            raise ValueError(f"{owner}: account_protection configures the web ACL this construct creates; "
                             "add ATP and ACFP to the existing web ACL instead (fraud.account_protection_rules)")
        region = Stack.of(self).region
        if not Token.is_unresolved(region) and region != "us-east-1":
            raise ValueError(f"{owner}: CloudFront certificates and web ACLs live in us-east-1; "
                             f"this stack is in {region}")

        # OAC reads SSE-KMS objects only with a customer-managed key (CloudFront cannot use aws/s3).
        key = encryption_key or EncryptionKey(self, "Key", profile=profile).key
        self.web_acl = None
        if existing_web_acl_arn is None:
            self.web_acl = CloudFrontWaf(self, "Waf", profile=profile, rate_limit_per_5_min=rate_limit_per_5_min,
                                         bot_control=bot_control, account_protection=account_protection,
                                         encryption_key=key,
                                         web_acl_props=web_acl_props)
        self.web_acl_arn = existing_web_acl_arn or self.web_acl.web_acl.attr_arn

        # CloudFront standard logging writes with bucket ACLs, so this bucket keeps ACLs enabled.
        self.logs_bucket = log_bucket(self, "Logs", profile=profile,
                                      what="CloudFront standard logs and the assets bucket's access logs",
                                      object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED)
        self.assets_bucket = existing_assets_bucket or self._assets_bucket(profile, key, assets_bucket_props)

        self.certificate = None
        if domain_name is not None:
            self.certificate = acm.Certificate(self, "Certificate", domain_name=domain_name,
                                               validation=acm.CertificateValidation.from_dns(hosted_zone))

        self.headers_policy = cloudfront.ResponseHeadersPolicy(
            self, "SecurityHeaders", comment="Storefront security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy, override=False),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365 * 2), include_subdomains=True, override=True),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True)),
            remove_headers=["Server", "X-Powered-By"])
        self.cache_policies = {
            # Pages are cached only when the storefront says so (Cache-Control s-maxage); sessions
            # travel as cookies to the origin but never into the key, so personalised pages must
            # be sent `private` (the storefront does).
            "default": cloudfront.CachePolicy(
                self, "PagesCache", comment="Storefront pages: origin Cache-Control decides",
                default_ttl=Duration.seconds(0), min_ttl=Duration.seconds(0), max_ttl=Duration.days(1),
                query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
                header_behavior=cloudfront.CacheHeaderBehavior.none(),
                cookie_behavior=cloudfront.CacheCookieBehavior.none(),
                enable_accept_encoding_gzip=True, enable_accept_encoding_brotli=True),
            # The caller's token is part of the key, so one shopper's response never reaches another.
            API_PATH: cloudfront.CachePolicy(
                self, "ApiCache", comment="Commerce API: per caller, only as long as the API allows",
                default_ttl=Duration.seconds(0), min_ttl=Duration.seconds(0), max_ttl=Duration.minutes(5),
                query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
                header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization"),
                cookie_behavior=cloudfront.CacheCookieBehavior.none(),
                enable_accept_encoding_gzip=True, enable_accept_encoding_brotli=True),
            ASSETS_PATH: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        }
        # Function names are account-wide: derived from the (stage-prefixed) stack path, unabridged.
        strip_scope = Construct(self, "StripApiPrefix")
        strip_api_prefix = cloudfront.Function(
            strip_scope, "Function", comment="/api/... on the shop's domain is /... on the API stage",
            function_name=Names.unique_resource_name(strip_scope, max_length=64, separator="-"),
            code=cloudfront.FunctionCode.from_inline(_STRIP_API_PREFIX),
            runtime=cloudfront.FunctionRuntime.JS_2_0)

        storefront_options = {
            "protocol_policy": (cloudfront.OriginProtocolPolicy.HTTPS_ONLY if storefront_origin_https
                                else cloudfront.OriginProtocolPolicy.HTTP_ONLY),
            "origin_ssl_protocols": [cloudfront.OriginSslPolicy.TLS_V1_2],
            "custom_headers": {ORIGIN_VERIFY_HEADER: origin_secret_reference(origin_secret_name)},
            "read_timeout": Duration.seconds(30),
        }
        if storefront_load_balancer is not None:
            # The domain is what TLS checks the certificate against (and the Host CloudFront sends);
            # the VPC origin itself routes by the load balancer's ARN.
            storefront = origins.VpcOrigin.with_application_load_balancer(
                storefront_load_balancer, domain_name=storefront_origin_domain, **storefront_options)
        else:
            storefront = origins.HttpOrigin(storefront_origin_domain, **storefront_options)
        api = origins.HttpOrigin(api_domain, origin_path=api_origin_path or None,
                                 protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                                 origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2])
        assets = origins.S3BucketOrigin.with_origin_access_control(self.assets_bucket)
        # The key policy names the distribution by a wildcard (its id is unknown until it exists).
        Annotations.of(key.node.scope or key).acknowledge_warning(
            "@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac",
            "CloudFront may decrypt with this key only for distributions of this account (aws:SourceArn "
            "distribution/*); the key encrypts nothing but this edge's assets and logs.")
        common = {"viewer_protocol_policy": cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                  "response_headers_policy": self.headers_policy, "compress": True}
        self.distribution = cloudfront.Distribution(self, "Distribution", **merge({
            "comment": f"Headless commerce storefront ({Stack.of(self).stack_name})",
            "default_behavior": cloudfront.BehaviorOptions(
                origin=storefront, allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=self.cache_policies["default"],
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER, **common),
            "additional_behaviors": {
                API_PATH: cloudfront.BehaviorOptions(
                    origin=api, allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=self.cache_policies[API_PATH],
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    function_associations=[cloudfront.FunctionAssociation(
                        function=strip_api_prefix, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)],
                    **common),
                ASSETS_PATH: cloudfront.BehaviorOptions(
                    origin=assets, allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
                    cache_policy=self.cache_policies[ASSETS_PATH], **common),
            },
            "http_version": cloudfront.HttpVersion.HTTP2_AND_3,
            "enable_ipv6": True,
            "price_class": cloudfront.PriceClass.PRICE_CLASS_100,
            "web_acl_id": self.web_acl_arn,
            "enable_logging": True,
            "log_bucket": self.logs_bucket,
            "log_file_prefix": "cloudfront/",
            **({"certificate": self.certificate, "domain_names": [domain_name],
                "minimum_protocol_version": cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021}
               if self.certificate is not None else {}),
        }, distribution_props))
        acknowledge(self.distribution, "AwsSolutions-CFR1",
                    "A shop decides where it sells; geo restriction is set per shop through distribution_props "
                    "(geo_restriction), the web ACL already blocks by IP reputation and rate.")
        if self.certificate is None:
            default_certificate = ("Without -c domain_name the distribution serves the default *.cloudfront.net "
                                   "certificate, whose security policy CloudFront fixes; with a domain it uses "
                                   "TLSv1.2_2021.")
            acknowledge(self.distribution, "AwsSolutions-CFR4", default_certificate)
            skip_checkov(self.distribution.node.default_child, "CKV_AWS_174", default_certificate)
        if not storefront_origin_https:
            acknowledge(self.distribution, "AwsSolutions-CFR5",
                        "Without a certificate for the load balancer, CloudFront reaches it over HTTP on AWS's "
                        "network (README: web tier security); with -c domain_name the origin is HTTPS, TLS 1.2.")

        self.records: list[route53.RecordSet] = []
        if domain_name is not None:
            target = route53.RecordTarget.from_alias(targets.CloudFrontTarget(self.distribution))
            self.records = [
                route53.ARecord(self, "Alias", zone=hosted_zone, record_name=f"{domain_name}.", target=target),
                route53.AaaaRecord(self, "AliasIpv6", zone=hosted_zone, record_name=f"{domain_name}.", target=target),
            ]

    def _assets_bucket(self, profile: Profile, key: kms.IKey, props: dict | None) -> s3.Bucket:
        bucket = s3.Bucket(self, "Assets", **merge({
            "encryption": s3.BucketEncryption.KMS,
            "encryption_key": key,
            "bucket_key_enabled": True,
            "enforce_ssl": True,
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            "versioned": True,
            "server_access_logs_bucket": self.logs_bucket,
            "server_access_logs_prefix": "s3-assets/",
            "removal_policy": profile.removal_policy,
            "lifecycle_rules": [s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30),
                                                 abort_incomplete_multipart_upload_after=Duration.days(1))],
        }, props))
        acknowledge(bucket, "PCI.DSS.321-S3BucketReplicationEnabled",
                    "Assets are published from the team's build and can be republished; versioning keeps "
                    "overwritten objects for 30 days, so a second-region copy would double storage for no recovery.")
        return bucket
