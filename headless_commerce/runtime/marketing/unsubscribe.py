"""Lambda entry point for the one-click unsubscribe links (RFC 8058), no sign-in needed:
the signed token in the link names the customer and the channel (tokens.py).

GET shows whether the link's channel is still subscribed and changes nothing (mail scanners
and link previews fetch links); POST withdraws that channel's consent through the customers
service, so the withdrawal is a CustomerConsentChanged event like any other: it lands in the
consent ledger and the audience. A missing, forged or tampered token is a 403.
"""

from __future__ import annotations

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.common.domain_errors import NotFound
from headless_commerce.runtime.customers import repository as customers
from headless_commerce.runtime.customers import service as customer_service
from headless_commerce.runtime.marketing import tokens


def status(token: str | None) -> dict:
    customer_id, channel = tokens.verify(token)
    profile = customers.get_profile(customer_id)
    if profile is None:
        raise NotFound("Subscription")
    return {"channel": channel, "subscribed": bool((profile.get("consents") or {}).get(channel))}


def unsubscribe(token: str | None) -> dict:
    customer_id, channel = tokens.verify(token)
    try:
        profile = customer_service.withdraw_consent(customer_id, channel)
    except NotFound:
        raise NotFound("Subscription") from None
    return {"channel": channel, "subscribed": bool(profile["consents"].get(channel))}


handler = api_handler("unsubscribe", {
    "getSubscription": lambda r: status(r.query.get("token")),
    "unsubscribe": lambda r: unsubscribe(r.query.get("token")),
})
