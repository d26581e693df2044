"""Fraud screening hook for checkout.

Checkout calls a FraudScreen with the priced order before reserving stock. A rules-based
transaction risk scorer (velocity, amount, address mismatch, model endpoint) replaces the
default in a later issue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FraudContext:
    customer_id: str
    email: str | None
    amount: int
    currency: str
    lines: tuple[dict, ...]
    shipping_address: dict | None


@dataclass(frozen=True)
class FraudDecision:
    allow: bool
    reason: str | None = None


FraudScreen = Callable[[FraudContext], FraudDecision]


def allow_all(context: FraudContext) -> FraudDecision:
    """Pass-through screen: performs NO fraud screening and allows every order.

    It exists so checkout always has a screen to call; deployments must not mistake it for
    protection until the rules implementation lands.
    """
    return FraudDecision(allow=True, reason="no screening configured")
