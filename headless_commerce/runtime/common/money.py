"""Money is integer minor units plus an ISO currency."""

from __future__ import annotations


def money(amount: int, currency: str) -> dict:
    return {"amount": int(amount), "currency": currency}
