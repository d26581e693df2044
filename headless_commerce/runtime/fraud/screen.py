"""The fraud screen checkout calls with the priced order, before anything is reserved.

A screen returns approve, review (the order is held ON_HOLD for a person to look at) or deny,
with the reasons. Two screens exist: the transaction risk scorer (runtime/fraud/scorer.py, the
default) and `pass_through`, which performs no screening and is what a deployment with the
fraud capability switched off (FRAUD_SCREEN=off, `-c fraud=false`) runs.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


class Outcome(enum.StrEnum):
    APPROVE = "approve"
    REVIEW = "review"
    DENY = "deny"


@dataclass(frozen=True)
class FraudContext:
    customer_id: str
    email: str | None
    amount: int
    currency: str
    lines: tuple[dict, ...]
    shipping_address: dict | None
    billing_address: dict | None = None
    # The caller's address as API Gateway saw it (requestContext.identity.sourceIp).
    source_ip: str | None = None
    payment_token: str | None = None
    # Identifies this checkout attempt (customer + Idempotency-Key), so retries of one request
    # count once towards velocity limits.
    attempt_key: str | None = None


@dataclass(frozen=True)
class FraudDecision:
    outcome: Outcome
    score: int = 0
    # Why: the rules that triggered ("customer_velocity", ...), "model", and any failure that
    # forced a review ("error:ip_velocity", "error:model"). Never shown to the client.
    reasons: tuple[str, ...] = ()
    # What each rule saw (counts, amounts, countries), for the audit record.
    details: dict = field(default_factory=dict)
    screen: str = "rules"

    @property
    def allow(self) -> bool:
        """Whether the order may be placed at all (approved, or held for review)."""
        return self.outcome is not Outcome.DENY


FraudScreen = Callable[[FraudContext], FraudDecision]


def pass_through(context: FraudContext) -> FraudDecision:
    """Performs NO fraud screening and approves every order: what runs when the fraud
    capability is switched off. Its decisions say so (screen "off") in the audit record."""
    return FraudDecision(outcome=Outcome.APPROVE, reasons=("screening off",), screen="off")


# The old name, kept for code that passed it explicitly.
allow_all = pass_through
