"""The risk rules, one function each: `rule(context, settings, config) -> Finding`.

A rule says whether it triggered and what it saw (kept in the audit record). It may raise:
the scorer turns any exception into a forced review, never an approval.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from headless_commerce import model
from headless_commerce.runtime.customers import repository as customers
from headless_commerce.runtime.fraud import repository
from headless_commerce.runtime.fraud.config import FraudConfig, Rule
from headless_commerce.runtime.fraud.screen import FraudContext
from headless_commerce.runtime.orders import repository as orders
from headless_commerce.runtime.payments.sandbox import APPROVED as _SANDBOX_APPROVED
from headless_commerce.runtime.payments.sandbox import DECLINES as _SANDBOX_DECLINES


@dataclass(frozen=True)
class Finding:
    triggered: bool
    seen: dict = field(default_factory=dict)


NOT_APPLICABLE = Finding(False, {"applies": False})
# Providers' well-known test tokens (tok_visa, ... in the sandbox and in Stripe's test mode) are
# shared by every tester: they identify no card, so they never count for token velocity.
SHARED_TEST_TOKENS = frozenset(_SANDBOX_APPROVED) | frozenset(_SANDBOX_DECLINES)
_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"
# Orders that never went through: they are no history of what the customer spends.
_NOT_SPENT = frozenset({model.OrderStatus.PAYMENT_FAILED.value, model.OrderStatus.CANCELLED.value,
                        model.OrderStatus.ON_HOLD.value})


def _attempt(context: FraudContext) -> str:
    return context.attempt_key or f"{context.customer_id}:{id(context)}"


def _velocity(dimension: str, value: str, context: FraudContext, rule: Rule) -> Finding:
    count = repository.record_attempt(dimension, value, _attempt(context), rule.window_s)
    return Finding(count > rule.limit, {"count": count, "limit": rule.limit, "window_s": rule.window_s})


def customer_velocity(context: FraudContext, rule: Rule, config: FraudConfig) -> Finding:
    """More than `limit` checkout attempts by this customer in the window."""
    return _velocity(repository.CUSTOMER, context.customer_id, context, rule)


def payment_token_velocity(context: FraudContext, rule: Rule, config: FraudConfig) -> Finding:
    """More than `limit` checkout attempts with this payment token (any customer) in the window."""
    if not context.payment_token or context.payment_token in SHARED_TEST_TOKENS:
        return NOT_APPLICABLE
    return _velocity(repository.PAYMENT_TOKEN, context.payment_token, context, rule)


def _shopper_address(ip: str | None, config: FraudConfig) -> bool:
    """A public address that is not one of our own proxies: loopback, private and link-local
    addresses are load balancers, NAT or local mode, and would pool every shopper together."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    if not address.is_global:
        return False
    return not any(address in ipaddress.ip_network(cidr, strict=False) for cidr in config.trusted_proxy_cidrs)


def ip_velocity(context: FraudContext, rule: Rule, config: FraudConfig) -> Finding:
    """More than `limit` checkout attempts from this public address in the window."""
    if not _shopper_address(context.source_ip, config):
        return NOT_APPLICABLE
    return _velocity(repository.IP, context.source_ip, context, rule)


def amount_vs_history(context: FraudContext, rule: Rule, config: FraudConfig) -> Finding:
    """At least `min_amount` and more than `multiplier` x the customer's average order; a
    customer without past orders is new_account_high_value's business."""
    if context.amount < rule.min_amount:
        return Finding(False, {"amount": context.amount, "min_amount": rule.min_amount})
    past, _ = orders.list_for_customer(context.customer_id, rule.history_orders, None)
    totals = [o["total"] for o in past if o.get("status") not in _NOT_SPENT]
    if not totals:
        return Finding(False, {"history_orders": 0})
    average = sum(totals) / len(totals)
    return Finding(context.amount > rule.multiplier * average,
                   {"amount": context.amount, "average": round(average), "history_orders": len(totals),
                    "multiplier": rule.multiplier})


def country_mismatch(context: FraudContext, rule: Rule, config: FraudConfig) -> Finding:
    """Shipping and billing addresses in different countries (both given)."""
    shipping = (context.shipping_address or {}).get("country")
    billing = (context.billing_address or {}).get("country")
    if not shipping or not billing:
        return NOT_APPLICABLE
    return Finding(shipping != billing, {"shipping": shipping, "billing": billing})


def new_account_high_value(context: FraudContext, rule: Rule, config: FraudConfig) -> Finding:
    """At least `min_amount` from an account younger than `max_account_age_days` (an account
    without a profile counts as new: sign-up always creates one)."""
    if context.amount < rule.min_amount:
        return Finding(False, {"amount": context.amount, "min_amount": rule.min_amount})
    profile = customers.get_profile(context.customer_id)
    created = (profile or {}).get("created_at")
    age_days = 0.0
    if created:
        then = datetime.strptime(created, _ISO).replace(tzinfo=UTC)
        age_days = (datetime.now(UTC) - then).total_seconds() / 86400
    return Finding(age_days < rule.max_account_age_days,
                   {"amount": context.amount, "account_age_days": round(age_days, 2),
                    "profile": profile is not None})


def disposable_email(context: FraudContext, rule: Rule, config: FraudConfig) -> Finding:
    """The e-mail address is at a throwaway-inbox domain (or a subdomain of one)."""
    if not context.email or "@" not in context.email:
        return NOT_APPLICABLE
    domain = context.email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    hit = any(domain == d or domain.endswith("." + d) for d in config.disposable_domains)
    return Finding(hit, {"domain": domain})


RuleFunction = Callable[[FraudContext, Rule, FraudConfig], Finding]

RULES: dict[str, RuleFunction] = {
    "customer_velocity": customer_velocity,
    "payment_token_velocity": payment_token_velocity,
    "ip_velocity": ip_velocity,
    "amount_vs_history": amount_vs_history,
    "country_mismatch": country_mismatch,
    "new_account_high_value": new_account_high_value,
    "disposable_email": disposable_email,
}
