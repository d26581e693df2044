"""Profiles (dev, prod), capability toggles and stage, read from CDK context.

A profile decides everything that trades cost against durability: AZ count, NAT gateways,
removal policy, log retention, PITR, deletion protection, capacities. Constructs never read
context themselves; they take a `Profile`, so a team importing one construct passes its own.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_logs as logs


class ConfigError(ValueError):
    """Bad CDK context: the message says what is valid, so the CLI shows it instead of a trace."""


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    az_count: int
    nat_gateways: int
    removal_policy: RemovalPolicy
    log_retention: logs.RetentionDays
    point_in_time_recovery: bool
    deletion_protection: bool
    # Cognito: "OPTIONAL" lets dev users skip MFA; prod requires a TOTP second factor.
    mfa_required: bool
    threat_protection: bool
    dax_enabled: bool
    dax_node_type: str
    dax_replication_factor: int
    api_throttle_rate: int
    api_throttle_burst: int
    event_archive_retention: Duration
    efs_lifecycle_days: int
    # Interface endpoints cost per AZ-hour; dev keeps the few that keep secrets and keys off NAT.
    interface_endpoints: tuple[str, ...]
    # Function name -> reserved concurrency, where a cap protects a downstream (the payment
    # provider's rate limits). Empty in every profile: a new account's concurrency quota can be
    # 10 and Lambda keeps 100 unreserved, so reserving fails the create. Opt in with
    # `-c reserved_concurrency=true` (RESERVED_CONCURRENCY) once the quota has been raised.
    reserved_concurrency: Mapping[str, int] = dataclasses.field(default_factory=dict)
    # Integration feeds (MSK event sources): records per invocation and how long Lambda gathers
    # them. Larger batches amortize the consumers' one read per batch; the window bounds latency.
    feed_batch_size: int = 100
    feed_batching_window: Duration = Duration.seconds(1)
    # Provisioned pollers give the feed mappings partial batch responses, bisection and a retry
    # limit, and bill an Event Poller Unit per mapping (about $135/month each, $405 for three).
    # Without them the pollers are free; a consumer then fails the whole batch on a retryable
    # fault and Lambda redelivers it (redeliveries are recognised and skipped).
    feed_provisioned_pollers: bool = True
    # Storefront on Fargate (ARM64): task size, task count range for autoscaling, ECS Exec.
    web_task_cpu: int = 256
    web_task_memory_mib: int = 512
    web_min_tasks: int = 1
    web_max_tasks: int = 2
    web_execute_command: bool = True
    # The storefront's load balancer is internal and CloudFront reaches it through a VPC origin (no
    # public addresses: $3.65/month each, one per AZ, and nothing on the internet to bypass the
    # CloudFront web ACL). False: internet-facing, for a Region without CloudFront VPC origins.
    web_vpc_origin: bool = True
    # Container Insights on the ECS clusters: task- and service-level metrics billed as custom
    # metrics (about 16 a cluster with one service, $4.80/month). Dev watches the service through
    # ECS's free CPUUtilization/MemoryUtilization, which its alarms and autoscaling use anyway.
    container_insights: bool = True
    # One CloudWatch dashboard per stack ($3/month each, five stacks). Dev keeps every alarm but no
    # dashboard: CloudWatch's automatic per-service dashboards (free) graph the same Lambda, API
    # Gateway, DynamoDB and ECS metrics. `-c dashboards=true|false` overrides either profile.
    dashboards: bool = True
    # Each function's alarm also watches its throttles (prod). Without (dev), functions that have
    # no reserved concurrency share one alarm on the Region's Lambda throttles: one alarm metric
    # ($0.10/month) instead of one per function.
    function_throttle_alarms: bool = True
    # "serverless": ElastiCache Serverless for Valkey (100 MB minimum, about $6/month idle); a node
    # type: a replication group with one node per AZ (steady load costs less per request).
    web_cache_node_type: str = "serverless"
    # The storefront uses the API's response cache (with the response_cache capability) instead of a
    # Valkey of its own: one serverless minimum ($6.11/month) instead of two. Its own user there
    # reaches only its `sf:` keys; the API's invalidation bumps the counters both read.
    web_cache_shared: bool = False
    # Amazon Personalize recommenders bill a minimum throughput every hour (about $146/month
    # each): none in dev unless `-c recommenders=true`; the fallback ranking serves meanwhile.
    personalize_recommenders: bool = False
    # AWS WAF Fraud Control on the CloudFront web ACL (ATP on sign-in, ACFP on sign-up): about
    # $10/month each plus a fee per analysed request, and a dev shop's test sign-ups would be
    # billed and scored too. On in prod, off in dev; `-c account_protection=true|false` overrides.
    fraud_account_protection: bool = False
    # Commerce functions served from Fargate instead of Lambda (AppTier `compute`), and the size
    # and task count range of each such service. Dev keeps every function on Lambda.
    fargate_functions: tuple[str, ...] = ()
    app_task_cpu: int = 512
    app_task_memory_mib: int = 1024
    app_min_tasks: int = 2
    app_max_tasks: int = 6

    @property
    def is_production(self) -> bool:
        return self.deletion_protection


_DEV = Profile(
    name="dev",
    az_count=2,
    nat_gateways=1,
    removal_policy=RemovalPolicy.DESTROY,
    log_retention=logs.RetentionDays.ONE_MONTH,
    point_in_time_recovery=False,
    deletion_protection=False,
    mfa_required=False,
    threat_protection=False,
    dax_enabled=False,
    dax_node_type="dax.t3.small",
    dax_replication_factor=1,
    api_throttle_rate=50,
    api_throttle_burst=100,
    event_archive_retention=Duration.days(7),
    efs_lifecycle_days=7,
    # None in dev: functions reach Secrets Manager, EventBridge and SQS through the NAT gateway
    # (TLS and SigV4 as through an endpoint); an endpoint costs $14.60/month over two AZs.
    interface_endpoints=(),
    # The dev budget (every capability on, ≤ $200/month idle; `headless-commerce cost`).
    feed_provisioned_pollers=False,
    container_insights=False,
    web_cache_shared=True,
    dashboards=False,
    function_throttle_alarms=False,
)

_PROD = dataclasses.replace(
    _DEV,
    name="prod",
    az_count=3,
    nat_gateways=3,
    # Not RETAIN: that also keeps resources when the first create rolls back, so a retry collides
    # with the leftovers (named log groups) and strands the rest. Retained on update and delete.
    removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    log_retention=logs.RetentionDays.ONE_YEAR,
    point_in_time_recovery=True,
    deletion_protection=True,
    mfa_required=True,
    threat_protection=True,
    dax_enabled=True,
    dax_node_type="dax.r5.large",
    dax_replication_factor=3,
    api_throttle_rate=1000,
    api_throttle_burst=2000,
    event_archive_retention=Duration.days(365),
    efs_lifecycle_days=30,
    web_task_cpu=1024,
    web_task_memory_mib=2048,
    web_min_tasks=3,
    web_max_tasks=12,
    # Shell access into production containers bypasses change control.
    web_execute_command=False,
    web_cache_node_type="cache.m7g.large",
    # Two node-based groups: the storefront's load and the API's scale and fail over apart.
    web_cache_shared=False,
    personalize_recommenders=True,
    fraud_account_protection=True,
    # What functions in the VPC call: Secrets Manager (payment secret), EventBridge (the OMS
    # consumer publishes), SQS (consumers dead-letter). Lambda ships logs, traces and decrypts
    # its environment outside the VPC, so Logs, X-Ray, KMS and STS endpoints would sit unused.
    interface_endpoints=("SECRETS_MANAGER", "EVENTBRIDGE", "SQS"),
    feed_provisioned_pollers=True,
    container_insights=True,
    dashboards=True,
    function_throttle_alarms=True,
    # Steady traffic and warm payment-provider connections: checkout and its webhook run as
    # services; everything else stays on Lambda.
    fargate_functions=("checkout", "payments_webhook"),
    app_min_tasks=3,
    app_max_tasks=12,
    feed_batch_size=500,  # same 1 s window: the Kafka mapping takes whole seconds
    feed_batching_window=Duration.seconds(1),
)

# What `-c reserved_concurrency=true` reserves: checkout and the webhook are capped below the
# payment provider's rate limit, the sweeper runs one at a time. Lambda keeps 100 of the account
# quota unreserved, so this needs a quota of at least 221 (sum + 100).
RESERVED_CONCURRENCY: Mapping[str, int] = {"checkout": 100, "payments_webhook": 20, "order_sweeper": 1}
UNRESERVED_MINIMUM = 100

PROFILES: dict[str, Profile] = {p.name: p for p in (_DEV, _PROD)}

# Capabilities a team can switch off to pay only for what it uses (`-c search=false`).
# Each one is read by the issue that builds it; the names are fixed here so a typo fails early.
TOGGLES: dict[str, bool] = {
    "dax": True,  # further gated by Profile.dax_enabled: `-c dax=false` turns it off in prod
    "search": True,
    "response_cache": True,
    "personalization": True,
    "marketing": True,
    # SMS needs an origination identity (a phone number bills monthly), so it is opt-in.
    "marketing_sms": False,
    "location": True,
    "fraud": True,
    "chatbot": True,
    "integration": True,
    "web": True,
    "edge": True,
}

PAYMENT_PROVIDERS = ("sandbox", "stripe")

# Context keys the reference app reads besides toggles. README "Deploy to a new account" says
# what each one costs or requires.
SETTINGS = ("profile", "stage", "account", "region", "availability_zones", "storefront_origin",
            "payment_provider", "consent_webhook_url", "reserved_concurrency", "email_from",
            "alarm_emails", "alarm_https_endpoints", "api_domain_name", "api_certificate_arn",
            "auth_domain_prefix", "auth_callback_urls", "auth_logout_urls", "powertools_layer_arn",
            "domain_name", "hosted_zone_id", "existing_web_acl_arn", "bot_control", "recommenders",
            "sms_origination_identity", "account_protection", "push_platform_application_arns",
            "dashboards")

_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ZONE = re.compile(r"^([a-z]{2}(-[a-z]+)+-\d)[a-z]$")
# scheme://host[:port] and nothing else: that is what a browser sends in `Origin`.
_ORIGIN = re.compile(r"^https?://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_HOSTNAME = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
# CloudFront takes only web ACLs of scope CLOUDFRONT, which live in us-east-1 under `global/`.
_CLOUDFRONT_WEB_ACL_ARN = re.compile(
    r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[A-Za-z0-9_-]+/[0-9a-f-]{36}$"
)
_PUSH_APPLICATION = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:app/(APNS|APNS_SANDBOX|GCM)/[A-Za-z0-9_.-]+$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
# Cognito prefix domains: lowercase, digits, hyphens; no reserved words.
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_RESERVED_PREFIX_WORDS = ("aws", "amazon", "cognito")
_LOCALHOST = re.compile(r"^http://(localhost|127\.0\.0\.1)(:\d{1,5})?(/.*)?$")
# Native apps register a private-use scheme (RFC 8252): com.example.shop://callback
_APP_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://\S*$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclasses.dataclass(frozen=True)
class ApiDomain:
    """A custom domain for the REST API (TLS 1.2 policy, execute-api endpoint disabled)."""
    name: str
    certificate_arn: str


@dataclasses.dataclass(frozen=True)
class HostedSignIn:
    """Cognito's hosted sign-in (OAuth 2.0 code flow with PKCE) for the app clients."""
    domain_prefix: str
    callback_urls: tuple[str, ...]
    logout_urls: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class WebDomain:
    """The shop's DNS name, served by CloudFront, in a Route 53 hosted zone of this account."""
    name: str
    hosted_zone_id: str

    @property
    def origin_name(self) -> str:
        """The load balancer's own name, so CloudFront reaches it over HTTPS with a matching certificate."""
        return f"origin.{self.name}"


@dataclasses.dataclass(frozen=True)
class AppConfig:
    profile: Profile
    stage: str
    toggles: Mapping[str, bool]
    account: str | None
    region: str
    availability_zones: tuple[str, ...] | None
    storefront_origins: tuple[str, ...]
    payment_provider: str
    consent_webhook_url: str | None = None
    email_from: str | None = None
    alarm_emails: tuple[str, ...] = ()
    alarm_https_endpoints: tuple[str, ...] = ()
    api_domain: ApiDomain | None = None
    hosted_sign_in: HostedSignIn | None = None
    # Overrides the Powertools layer resolved from AWS's public SSM parameter (regions without it).
    powertools_layer_arn: str | None = None
    web_domain: WebDomain | None = None
    existing_web_acl_arn: str | None = None
    bot_control: bool = False
    # Personalize recommenders (with the personalization toggle); None: the profile decides.
    recommenders: bool | None = None
    # A registered End User Messaging phone number, pool or sender ID (ARN) for marketing SMS.
    sms_origination_identity: str | None = None
    # ATP and ACFP on the CloudFront web ACL (resolved: the profile's default or the context's).
    account_protection: bool = False
    # SNS platform applications (APNs, FCM) that mobile devices register push endpoints under.
    push_platform_application_arns: tuple[str, ...] = ()

    def enabled(self, toggle: str) -> bool:
        if toggle not in self.toggles:
            raise ConfigError(f"unknown toggle {toggle!r}; known toggles: {', '.join(sorted(TOGGLES))}")
        return self.toggles[toggle]

    def stack_id(self, name: str) -> str:
        return "-".join(p for p in ("HeadlessCommerce", self.stage, name) if p)


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(
            f"unknown profile {name!r}; valid profiles: {', '.join(sorted(PROFILES))} "
            "(choose with -c profile=NAME)"
        ) from None


def _parse_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{key!r} must be true or false, got {value!r}")


def _is_user_key(key: str) -> bool:
    # Feature flags start with "@", CDK's own and lookup-cache keys contain ":".
    return not key.startswith("@") and ":" not in key


def _as_list(value: Any) -> tuple[str, ...]:
    """Comma-separated on the command line, or a JSON list in cdk.json."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(item).strip() for item in items if str(item).strip())


class _Reader:
    """Reads one context key at a time; each problem is recorded, never raised alone, so the
    user sees every mistake in one run."""

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.context = context
        self.problems: list[str] = []

    def text(self, key: str) -> str | None:
        value = self.context.get(key)
        if value is None or value == "":
            return None
        return str(value).strip()

    def flag(self, key: str, default: bool) -> bool:
        if key not in self.context:
            return default
        try:
            return _parse_bool(key, self.context[key])
        except ConfigError as err:
            self.problems.append(str(err))
            return default

    def matching(self, key: str, pattern: re.Pattern, what: str) -> str | None:
        value = self.text(key)
        if value is not None and not pattern.match(value):
            self.problems.append(f"{key} {value!r} must be {what}")
            return None
        return value

    def each(self, key: str, check, what: str) -> tuple[str, ...]:
        raw = self.context.get(key)
        if raw is None or raw == "":
            return ()
        values = _as_list(raw)
        bad = [v for v in values if not check(v)]
        if bad:
            self.problems.append(f"{key}: {', '.join(repr(b) for b in bad)} must be {what}")
            return ()
        if len(set(values)) != len(values):
            self.problems.append(f"{key} lists a value twice: {', '.join(values)}")
        return values


def _callback_url(url: str) -> bool:
    if _LOCALHOST.match(url):
        return True
    if url.startswith("http://"):
        return False
    return (url.startswith("https://") and len(url) > len("https://")) or bool(_APP_SCHEME.match(url))


def from_context(context: Mapping[str, Any], *, default_account: str | None = None,
                 default_region: str | None = None) -> AppConfig:
    """Read and validate every user context key; all problems are reported together."""
    read = _Reader(context)
    problems = read.problems
    unknown = sorted(k for k in context if _is_user_key(k) and k not in SETTINGS and k not in TOGGLES)
    if unknown:
        problems.append(
            f"unknown context key(s) {', '.join(unknown)}; settings: {', '.join(SETTINGS)}; "
            f"toggles: {', '.join(sorted(TOGGLES))}"
        )

    profile = None
    try:
        profile = get_profile(str(context.get("profile") or "dev"))
    except ConfigError as err:
        problems.append(str(err))

    stage = read.text("stage") or ""
    if stage and not _STAGE.match(stage):
        problems.append(f"stage {stage!r} must match {_STAGE.pattern} (it prefixes stack names)")

    toggles = {key: read.flag(key, default) for key, default in TOGGLES.items()}
    reserve = read.flag("reserved_concurrency", False)
    dashboards = read.flag("dashboards", True) if "dashboards" in context else None

    account = read.matching("account", _ACCOUNT, "a 12-digit AWS account id") or default_account
    region = read.matching("region", _REGION, "an AWS region name such as us-east-1") \
        or default_region or "us-east-1"
    zones = read.each("availability_zones", lambda z: bool(_ZONE.match(z)),
                      "availability zone names such as us-east-1a") or None
    if zones and any(_ZONE.match(z).group(1) != region for z in zones):
        problems.append(f"availability_zones {', '.join(zones)} must all be in region {region}")

    origins = read.each("storefront_origin", lambda o: o == "*" or bool(_ORIGIN.match(o)),
                        "an origin: scheme and host, optional port, no path (https://shop.example.com)")
    if "*" in origins and len(origins) > 1:
        problems.append("storefront_origin: '*' cannot be combined with other origins")

    payment_provider = read.text("payment_provider") or "sandbox"
    if payment_provider not in PAYMENT_PROVIDERS:
        problems.append(f"payment_provider {payment_provider!r} is not supported; "
                        f"choose one of {', '.join(PAYMENT_PROVIDERS)}")
    webhook = read.matching("consent_webhook_url", re.compile(r"^https://\S+$"), "an https:// URL")
    email_from = read.matching("email_from", _EMAIL, "an e-mail address verified in SES")
    alarm_emails = read.each("alarm_emails", lambda e: bool(_EMAIL.match(e)), "e-mail addresses")
    alarm_https = read.each("alarm_https_endpoints", lambda u: bool(re.match(r"^https://\S+$", u)),
                            "https:// URLs")

    powertools_layer_arn = read.matching(
        "powertools_layer_arn", re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$"),
        "a Lambda layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)")

    api_domain_name = read.matching("api_domain_name", _HOSTNAME, "a DNS name such as api.shop.example.com")
    certificate_arn = read.matching("api_certificate_arn", _ACM_ARN, "an ACM certificate ARN")
    api_domain = None
    if bool(read.text("api_domain_name")) != bool(read.text("api_certificate_arn")):
        problems.append("api_domain_name and api_certificate_arn go together: the certificate must cover the name")
    elif api_domain_name and certificate_arn:
        if certificate_arn.split(":")[3] != region:
            problems.append(f"api_certificate_arn must be in region {region} (a regional API's certificate)")
        api_domain = ApiDomain(api_domain_name, certificate_arn)

    prefix = read.matching("auth_domain_prefix", _DOMAIN_PREFIX,
                           "lowercase letters, digits and hyphens (a Cognito domain prefix)")
    if prefix and any(word in prefix for word in _RESERVED_PREFIX_WORDS):
        problems.append(f"auth_domain_prefix {prefix!r} may not contain {', '.join(_RESERVED_PREFIX_WORDS)}")
    callbacks = read.each("auth_callback_urls", _callback_url,
                          "https:// URLs, http://localhost URLs or an app's own scheme (com.example.shop://cb)")
    logouts = read.each("auth_logout_urls", _callback_url,
                        "https:// URLs, http://localhost URLs or an app's own scheme")
    hosted_sign_in = None
    if bool(read.text("auth_domain_prefix")) != bool(read.text("auth_callback_urls")):
        problems.append("auth_domain_prefix and auth_callback_urls go together: hosted sign-in needs both")
    elif logouts and not read.text("auth_domain_prefix"):
        problems.append("auth_logout_urls needs auth_domain_prefix and auth_callback_urls")
    elif prefix and callbacks:
        hosted_sign_in = HostedSignIn(prefix, callbacks, logouts)

    domain_name = read.matching("domain_name", _HOSTNAME, "a DNS name such as shop.example.com")
    zone_id = read.matching("hosted_zone_id", _HOSTED_ZONE_ID, "a Route 53 hosted zone id such as Z0123456789ABC")
    web_domain = None
    if bool(read.text("domain_name")) != bool(read.text("hosted_zone_id")):
        problems.append("domain_name and hosted_zone_id go together: the certificates are validated and the "
                        "alias records created in that zone")
    elif domain_name and zone_id:
        web_domain = WebDomain(domain_name, zone_id)
    web_acl_arn = read.matching("existing_web_acl_arn", _CLOUDFRONT_WEB_ACL_ARN,
                                "the ARN of a CLOUDFRONT-scope web ACL "
                                "(arn:aws:wafv2:us-east-1:ACCOUNT:global/webacl/NAME/ID)")
    bot_control = read.flag("bot_control", False)
    recommenders = read.flag("recommenders", False) if "recommenders" in context else None
    if recommenders and not toggles["personalization"]:
        problems.append("recommenders needs personalization: they live in its dataset group")
    sms_identity = read.matching(
        "sms_origination_identity", re.compile(r"^arn:aws[a-z-]*:sms-voice:[a-z0-9-]+:\d{12}:"
                                               r"(phone-number|pool|sender-id)/\S+$"),
        "the ARN of an End User Messaging phone number, pool or sender ID")
    if toggles["marketing_sms"] and not toggles["marketing"]:
        problems.append("marketing_sms needs marketing: SMS is one of its channels")
    if read.text("sms_origination_identity") and not toggles["marketing_sms"]:
        problems.append("sms_origination_identity is used only with -c marketing_sms=true")
    push_apps = read.each("push_platform_application_arns", _PUSH_APPLICATION.match,
                          "SNS platform application ARNs (arn:aws:sns:REGION:ACCOUNT:app/APNS|APNS_SANDBOX|GCM/NAME)")
    if push_apps and not toggles["marketing"]:
        problems.append("push_platform_application_arns needs marketing: push is one of its channels")
    # Without web there is no edge (its default origin is the storefront); asking for both is a mistake.
    if toggles["edge"] and not toggles["web"] and "edge" in context:
        problems.append("edge needs web: the distribution's default origin is the storefront")
    account_protection = None
    if "account_protection" in context:
        account_protection = read.flag("account_protection", False)
        if account_protection and not toggles["fraud"]:
            problems.append("account_protection is part of fraud: it needs -c fraud=true")
        if account_protection and read.text("existing_web_acl_arn"):
            problems.append("account_protection adds ATP and ACFP to the web ACL this app creates; with "
                            "existing_web_acl_arn add them to your own web ACL instead")
    if bot_control and read.text("existing_web_acl_arn"):
        problems.append("bot_control adds Bot Control to the web ACL this app creates; with existing_web_acl_arn "
                        "add it to your own web ACL instead")

    if profile is not None and profile.is_production:
        # Each of these has a default that is fine for a trial and wrong for a shop.
        if not context.get("availability_zones"):
            problems.append(
                f"profile {profile.name!r} needs explicit zone names: -c availability_zones=<{profile.az_count} "
                f"zones of {region}> (e.g. {','.join(f'{region}{c}' for c in 'abc'[:profile.az_count])}); "
                "Fn::GetAZs lists only zones with a default subnet and may reorder them")
        elif zones and len(zones) < profile.az_count:
            problems.append(f"profile {profile.name!r} needs {profile.az_count} availability zones, "
                            f"availability_zones lists {len(zones)}")
        if not context.get("storefront_origin") or origins == ("*",):
            problems.append(f"profile {profile.name!r} needs -c storefront_origin=https://your-shop.example "
                            "(comma-separate several); CORS '*' lets any site call the API from a browser")
        elif any(o.startswith("http://") for o in origins):
            problems.append(f"profile {profile.name!r} allows only https:// storefront origins, got "
                            f"{', '.join(o for o in origins if o.startswith('http://'))}")
        if not context.get("email_from"):
            problems.append(f"profile {profile.name!r} needs -c email_from=<address verified in SES>; "
                            "Cognito's default sender allows only a few dozen e-mails a day")
        if toggles["marketing_sms"] and not context.get("sms_origination_identity"):
            problems.append(f"profile {profile.name!r} with marketing_sms needs -c sms_origination_identity=<ARN of a "
                            "registered phone number, pool or sender ID>; a simulator number reaches no real phone")

    if len(problems) == 1:
        raise ConfigError(f"invalid CDK context: {problems[0]}")
    if problems:
        raise ConfigError("invalid CDK context:\n  - " + "\n  - ".join(problems))
    assert profile is not None
    if reserve:
        profile = dataclasses.replace(profile, reserved_concurrency=dict(RESERVED_CONCURRENCY))
    if dashboards is not None:
        profile = dataclasses.replace(profile, dashboards=dashboards)
    return AppConfig(
        profile=profile,
        stage=stage,
        toggles=toggles,
        account=account,
        region=region,
        availability_zones=zones,
        storefront_origins=origins or ("*",),
        payment_provider=payment_provider,
        consent_webhook_url=webhook,
        email_from=email_from,
        alarm_emails=alarm_emails,
        alarm_https_endpoints=alarm_https,
        api_domain=api_domain,
        hosted_sign_in=hosted_sign_in,
        powertools_layer_arn=powertools_layer_arn,
        web_domain=web_domain,
        existing_web_acl_arn=web_acl_arn,
        bot_control=bot_control,
        recommenders=recommenders,
        sms_origination_identity=sms_identity,
        # The profile decides unless the context does; never on someone else's web ACL.
        account_protection=toggles["fraud"] and not web_acl_arn and (
            profile.fraud_account_protection if account_protection is None else account_protection),
        push_platform_application_arns=push_apps,
    )
