"""Sending one message to one customer, with every rule that guards it, in this order:

1. consent at send time: the profile's own consent for the channel, read now (consistent), not
   the audience or the event that triggered the send: a withdrawal between scheduling and
   sending wins;
2. a contact on the channel, not suppressed (bounced or complained);
3. at most once: a delivery record (customer, kind, ref) is claimed with a conditional put
   before sending; a send that fails releases the claim so the retry may send it.
"""

from __future__ import annotations

from collections.abc import Callable

from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.common.logging import count, logger
from headless_commerce.runtime.customers import repository as customers
from headless_commerce.runtime.marketing import repository, tokens, transport
from headless_commerce.runtime.marketing.messages import Message
from headless_commerce.runtime.marketing.names import CONTACT_ATTRIBUTE

SENT = "sent"
NO_PROFILE = "no_profile"
NO_CONSENT = "no_consent"
NO_CONTACT = "no_contact"
SUPPRESSED = "suppressed"
DUPLICATE = "duplicate"
CHANNEL_UNAVAILABLE = "channel_unavailable"
ADDRESS_GONE = "address_gone"


def consented(profile: dict | None, channel: str) -> bool:
    return bool(profile) and (profile.get("consents") or {}).get(channel) is True


def deliver(customer_id: str, profile: dict | None, channel: str, kind: str, ref: str,
            build: Callable[[dict], Message], *, transactional: bool = False) -> str:
    """Send `build(profile)` on `channel` if every rule allows; returns what happened."""
    outcome = _deliver(customer_id, profile, channel, kind, ref, build, transactional)
    count(f"Marketing_{outcome}")
    logger.info("marketing message", extra={"customer_id": customer_id, "channel": channel,
                                             "kind": kind, "ref": ref, "outcome": outcome})
    return outcome


def _deliver(customer_id, profile, channel, kind, ref, build, transactional) -> str:
    if profile is None:
        return NO_PROFILE
    if not consented(profile, channel):
        return NO_CONSENT
    address = profile.get(CONTACT_ATTRIBUTE[channel])
    if not address:
        return NO_CONTACT
    if repository.is_suppressed(channel, address):
        return SUPPRESSED
    claimed_at = now_iso()
    if not repository.claim_delivery(customer_id, kind, ref, channel=channel, at=claimed_at):
        return DUPLICATE
    try:
        message_id = transport.send(channel, address, build(profile), transactional=transactional,
                                    unsubscribe_url=tokens.unsubscribe_url(customer_id, channel))
    except transport.AddressGone:
        repository.release_delivery(customer_id, kind, ref, claimed_at)
        # Stop sending to it: the app registers its new token with PUT /me/push-device.
        customers.clear_push_endpoint(customer_id, address)
        return ADDRESS_GONE
    except transport.ChannelUnavailable as unavailable:
        repository.release_delivery(customer_id, kind, ref, claimed_at)
        logger.warning("channel not configured", extra={"channel": channel, "reason": str(unavailable)})
        return CHANNEL_UNAVAILABLE
    except Exception:
        repository.release_delivery(customer_id, kind, ref, claimed_at)
        raise
    repository.record_sent(customer_id, kind, ref, message_id, now_iso())
    return SENT
