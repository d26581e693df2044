"""The risk scorer's weights, limits and thresholds: defaults in code, overridable as JSON.

A deployment overrides any subset through the FRAUD_CONFIG environment variable (the `Fraud`
construct's `config` prop writes it), e.g.

    {"review_at": 40, "rules": {"customer_velocity": {"limit": 3, "weight": 60}}}

`load()` validates it once per cold start and raises ConfigError naming the offending key, so
a typo fails the first checkout loudly instead of silently screening with the defaults. Pure
standard library: the CDK construct validates its prop with the same code at synth.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Mapping

from headless_commerce.runtime import settings


class ConfigError(ValueError):
    """The fraud configuration is not valid; the message names the key."""


# Throwaway-inbox providers. A short, stable list: extend it through `disposable_domains`.
DEFAULT_DISPOSABLE_DOMAINS: tuple[str, ...] = (
    "mailinator.com", "guerrillamail.com", "10minutemail.com", "tempmail.com", "temp-mail.org",
    "yopmail.com", "trashmail.com", "sharklasers.com", "getnada.com", "dispostable.com",
    "maildrop.cc", "throwawaymail.com",
)


@dataclasses.dataclass(frozen=True)
class Rule:
    """One rule's weight (points added to the score when it triggers) and its own knobs."""

    weight: int
    enabled: bool = True
    # Velocity rules: at most `limit` checkout attempts per `window_s` seconds.
    limit: int = 0
    window_s: int = 3600
    # amount_vs_history: the order is more than `multiplier` x the customer's average order
    # (over their last `history_orders`), and at least `min_amount` minor units.
    multiplier: float = 0.0
    history_orders: int = 20
    # amount_vs_history / new_account_high_value: orders below this never trigger.
    min_amount: int = 0
    # new_account_high_value: an account younger than this many days.
    max_account_age_days: int = 0


DEFAULT_RULES: dict[str, Rule] = {
    # Alone enough to hold the order: one customer placing many orders in an hour.
    "customer_velocity": Rule(weight=50, limit=5),
    # Weaker alone: wallets and test tokens are shared; with a second signal it holds.
    "payment_token_velocity": Rule(weight=30, limit=10),
    "ip_velocity": Rule(weight=25, limit=20),
    "amount_vs_history": Rule(weight=35, multiplier=3.0, min_amount=10_000),
    "country_mismatch": Rule(weight=30),
    "new_account_high_value": Rule(weight=40, min_amount=50_000, max_account_age_days=7),
    "disposable_email": Rule(weight=40),
}
RULE_NAMES: tuple[str, ...] = tuple(DEFAULT_RULES)
_RULE_FIELDS = {f.name: f.type for f in dataclasses.fields(Rule)}


@dataclasses.dataclass(frozen=True)
class FraudConfig:
    """Score = the sum of the triggered rules' weights (+ the model's score x `model_weight`).
    score >= `deny_at`: deny; score >= `review_at`: hold for review; else approve."""

    rules: Mapping[str, Rule] = dataclasses.field(default_factory=lambda: dict(DEFAULT_RULES))
    review_at: int = 50
    deny_at: int = 90
    # The model endpoint's answer (a probability 0..1) times this is added to the score.
    model_weight: int = 60
    disposable_domains: tuple[str, ...] = DEFAULT_DISPOSABLE_DOMAINS
    # Addresses that are proxies, not shoppers (the storefront's NAT gateways): never counted
    # for IP velocity. Loopback, private and link-local addresses never are either.
    trusted_proxy_cidrs: tuple[str, ...] = ()

    def rule(self, name: str) -> Rule:
        return self.rules[name]


def _integer(key: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key} must be an integer >= {minimum}, got {value!r}")
    return value


def _rule(name: str, raw: object) -> Rule:
    if not isinstance(raw, dict):
        raise ConfigError(f"rules.{name} must be an object, got {raw!r}")
    unknown = sorted(set(raw) - set(_RULE_FIELDS))
    if unknown:
        raise ConfigError(f"rules.{name}: unknown key(s) {', '.join(unknown)}; "
                          f"known: {', '.join(_RULE_FIELDS)}")
    fields: dict[str, object] = {}
    for key, value in raw.items():
        where = f"rules.{name}.{key}"
        if key == "enabled":
            if not isinstance(value, bool):
                raise ConfigError(f"{where} must be true or false, got {value!r}")
            fields[key] = value
        elif key == "multiplier":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= 1000:
                raise ConfigError(f"{where} must be a number from 1 to 1000, got {value!r}")
            fields[key] = float(value)
        else:
            fields[key] = _integer(where, value, 1 if key in ("limit", "window_s", "history_orders") else 0)
    return dataclasses.replace(DEFAULT_RULES[name], **fields)


def _cidrs(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise ConfigError(f"trusted_proxy_cidrs must be a list of CIDR strings, got {raw!r}")
    for cidr in raw:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ConfigError(f"trusted_proxy_cidrs: {cidr!r} is not a CIDR block") from None
    return tuple(raw)


def parse(raw: Mapping[str, object]) -> FraudConfig:
    """A FraudConfig from overrides (a JSON object's contents); ConfigError names bad keys."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"the fraud configuration must be a JSON object, got {raw!r}")
    known = {f.name for f in dataclasses.fields(FraudConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    fields: dict[str, object] = {}
    if "rules" in raw:
        rules = raw["rules"]
        if not isinstance(rules, Mapping):
            raise ConfigError(f"rules must be an object, got {rules!r}")
        bad = sorted(set(rules) - set(RULE_NAMES))
        if bad:
            raise ConfigError(f"rules: unknown rule(s) {', '.join(bad)}; known: {', '.join(RULE_NAMES)}")
        fields["rules"] = {**DEFAULT_RULES, **{name: _rule(name, value) for name, value in rules.items()}}
    for key in ("review_at", "deny_at", "model_weight"):
        if key in raw:
            fields[key] = _integer(key, raw[key], 1 if key != "model_weight" else 0)
    if "disposable_domains" in raw:
        domains = raw["disposable_domains"]
        if not isinstance(domains, list) or not all(isinstance(d, str) and "." in d for d in domains):
            raise ConfigError(f"disposable_domains must be a list of domain names, got {domains!r}")
        fields["disposable_domains"] = tuple(d.lower() for d in domains)
    if "trusted_proxy_cidrs" in raw:
        fields["trusted_proxy_cidrs"] = _cidrs(raw["trusted_proxy_cidrs"])
    config = FraudConfig(**fields)
    if config.deny_at <= config.review_at:
        raise ConfigError(f"deny_at ({config.deny_at}) must be above review_at ({config.review_at})")
    return config


def from_json(text: str | None) -> FraudConfig:
    if not text:
        return FraudConfig()
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"{settings.FRAUD_CONFIG} is not valid JSON: {error}") from None
    try:
        return parse(raw)
    except ConfigError as error:
        raise ConfigError(f"{settings.FRAUD_CONFIG}: {error}") from None

