"""What each message says. Plain text is the source; the HTML part is the same text escaped,
so nothing a customer or an operator typed can inject markup."""

from __future__ import annotations

import html
from dataclasses import dataclass

WELCOME = "welcome"
ORDER_CONFIRMATION = "order_confirmation"
ABANDONED_CART = "abandoned_cart"
CAMPAIGN = "campaign"
KINDS = (WELCOME, ORDER_CONFIRMATION, ABANDONED_CART, CAMPAIGN)
MAX_SMS_CHARS = 300


@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    text: str

    def html(self, unsubscribe_url: str | None) -> str:
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in self.text.split("\n\n"))
        if unsubscribe_url:
            paragraphs += (f'<p style="font-size:small"><a href="{html.escape(unsubscribe_url, quote=True)}">'
                           "Unsubscribe</a> from these messages.</p>")
        return f"<!doctype html><html><body>{paragraphs}</body></html>"

    def sms(self) -> str:
        # Carriers bill per segment; STOP handling belongs to End User Messaging's opt-out list.
        return f"{self.subject}: {self.text}"[:MAX_SMS_CHARS]


def _amount(minor: int, currency: str) -> str:
    # Two decimals covers USD, the store's currency (model.CURRENCY).
    return f"{minor / 100:.2f} {currency}"


def _name(profile: dict) -> str:
    return profile.get("given_name") or "there"


def welcome(profile: dict) -> Message:
    return Message(WELCOME, "Welcome to the shop",
                   f"Hi {_name(profile)},\n\nthanks for signing up. We will tell you about new products "
                   "and offers on the channels you chose; change that any time in your account.")


def order_confirmation(profile: dict, order: dict) -> Message:
    lines = "\n".join(f"{line['quantity']} x {line['sku']}" for line in order["lines"])
    total = _amount(order["total"], order["currency"])
    return Message(ORDER_CONFIRMATION, f"Order {order['order_id']} received",
                   f"Hi {_name(profile)},\n\nwe received your order {order['order_id']}.\n\n{lines}\n\n"
                   f"Total: {total}")


def abandoned_cart(profile: dict, cart: dict) -> Message:
    count = sum(int(line.get("quantity", 0)) for line in cart.get("lines", {}).values())
    return Message(ABANDONED_CART, "You left something in your cart",
                   f"Hi {_name(profile)},\n\nyour cart still holds {count} item(s). "
                   "They are waiting for you whenever you are ready.")


def campaign(profile: dict, subject: str, text: str) -> Message:
    return Message(CAMPAIGN, subject, text.replace("{name}", _name(profile)))
