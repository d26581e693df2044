"""The chatbot's way to the store locator: FindStore asks the location capability's stores
service, never a list of its own.

While no stores service is deployed with the chatbot (the location capability is off, or not
part of this build), `find` raises StoresUnavailable and the bot says the store locator is not
available.
"""

from __future__ import annotations

from dataclasses import dataclass


class StoresUnavailable(Exception):
    """No store locator can answer (not deployed, or not reachable)."""


@dataclass(frozen=True)
class Store:
    name: str
    address: str


def find(location: str, limit: int) -> list[Store]:
    """Stores near a city or postcode, nearest first."""
    raise StoresUnavailable("no stores service is connected to the chatbot")
