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
    # provider's rate limits). Empty in dev: new accounts have a concurrency quota of 10.
    reserved_concurrency: Mapping[str, int] = dataclasses.field(default_factory=dict)

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
    # Used from inside the VPC: the payment functions read their secret; nothing else calls an
    # AWS API that has no gateway endpoint except EventBridge and SQS (prod adds those).
    interface_endpoints=("SECRETS_MANAGER",),
)

_PROD = dataclasses.replace(
    _DEV,
    name="prod",
    az_count=3,
    nat_gateways=3,
    removal_policy=RemovalPolicy.RETAIN,
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
    # What functions in the VPC call: Secrets Manager (payment secret), EventBridge (the OMS
    # consumer publishes), SQS (consumers dead-letter). Lambda ships logs, traces and decrypts
    # its environment outside the VPC, so Logs, X-Ray, KMS and STS endpoints would sit unused.
    interface_endpoints=("SECRETS_MANAGER", "EVENTBRIDGE", "SQS"),
    reserved_concurrency={"checkout": 100, "payments_webhook": 20, "order_sweeper": 1},
)

PROFILES: dict[str, Profile] = {p.name: p for p in (_DEV, _PROD)}

# Capabilities a team can switch off to pay only for what it uses (`-c search=false`).
# Each one is read by the issue that builds it; the names are fixed here so a typo fails early.
TOGGLES: dict[str, bool] = {
    "dax": True,  # further gated by Profile.dax_enabled: `-c dax=false` turns it off in prod
    "search": True,
    "personalization": True,
    "marketing": True,
    "location": True,
    "fraud": True,
    "chatbot": True,
    "integration": True,
    "web": True,
    "edge": True,
}

# Context keys the reference app reads besides toggles.
SETTINGS = ("profile", "stage", "account", "region", "availability_zones", "storefront_origin",
            "payment_provider", "consent_webhook_url", "powertools_layer_arn")

_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclasses.dataclass(frozen=True)
class AppConfig:
    profile: Profile
    stage: str
    toggles: Mapping[str, bool]
    account: str | None
    region: str
    availability_zones: tuple[str, ...] | None
    storefront_origin: str
    payment_provider: str
    consent_webhook_url: str | None = None
    # Overrides the Powertools layer resolved from AWS's public SSM parameter (regions without it).
    powertools_layer_arn: str | None = None

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
    raise ConfigError(f"toggle {key!r} must be true or false, got {value!r}")


def _is_user_key(key: str) -> bool:
    # Feature flags start with "@", CDK's own and lookup-cache keys contain ":".
    return not key.startswith("@") and ":" not in key


def from_context(context: Mapping[str, Any], *, default_account: str | None = None,
                 default_region: str | None = None) -> AppConfig:
    """Read and validate every user context key; all problems are reported together."""
    problems: list[str] = []
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

    stage = str(context.get("stage") or "")
    if stage and not _STAGE.match(stage):
        problems.append(f"stage {stage!r} must match {_STAGE.pattern} (it prefixes stack names)")

    toggles = dict(TOGGLES)
    for key in TOGGLES:
        if key in context:
            try:
                toggles[key] = _parse_bool(key, context[key])
            except ConfigError as err:
                problems.append(str(err))

    azs = context.get("availability_zones")
    zones: tuple[str, ...] | None = None
    if azs:
        zones = tuple(z.strip() for z in (azs.split(",") if isinstance(azs, str) else azs) if z.strip())

    if problems:
        raise ConfigError("invalid CDK context:\n  - " + "\n  - ".join(problems))
    assert profile is not None
    if zones is not None and len(zones) < profile.az_count:
        raise ConfigError(
            f"profile {profile.name!r} needs {profile.az_count} availability zones, "
            f"availability_zones lists {len(zones)}"
        )
    return AppConfig(
        profile=profile,
        stage=stage,
        toggles=toggles,
        account=str(context["account"]) if context.get("account") else default_account,
        region=str(context.get("region") or default_region or "us-east-1"),
        availability_zones=zones,
        storefront_origin=str(context.get("storefront_origin") or "*"),
        payment_provider=str(context.get("payment_provider") or "sandbox"),
        consent_webhook_url=str(context["consent_webhook_url"]) if context.get("consent_webhook_url") else None,
        powertools_layer_arn=str(context["powertools_layer_arn"]) if context.get("powertools_layer_arn") else None,
    )
