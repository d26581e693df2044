"""Lambda entry point and service: SES bounce and complaint events -> the suppression list.

SES publishes the events of messages sent with our configuration set to the account's default
EventBridge bus (`source` aws.ses, `detail-type` "Email Bounced" / "Email Complaint Received");
a rule there feeds this function's queue. SES reports a soft bounce only once it has stopped
retrying, so every bounce it reports is suppressed, like every complaint: such an address is
never mailed again (service.deliver checks before each send).

Env: MARKETING_TABLE_NAME, DEAD_LETTER_QUEUE_URL.
"""

from __future__ import annotations

import json

from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.common.logging import count, lambda_entry, logger
from headless_commerce.runtime.marketing import repository
from headless_commerce.runtime.marketing.batch import run_records
from headless_commerce.runtime.marketing.names import BOUNCED, COMPLAINED
from headless_commerce.runtime.marketing.names import SES_SOURCE as SOURCE

_RECIPIENTS = {BOUNCED: ("bounce", "bouncedRecipients"), COMPLAINED: ("complaint", "complainedRecipients")}


class UnreadableEvent(ValueError):
    pass


def recipients(event: dict) -> tuple[str, list[str], str]:
    """(reason, addresses, SES message id) of a bounce or complaint event."""
    if not isinstance(event, dict) or event.get("source") != SOURCE or event.get("detail-type") not in _RECIPIENTS:
        raise UnreadableEvent("not an SES bounce or complaint event")
    reason, field = _RECIPIENTS[event["detail-type"]]
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    listed = (detail.get(reason) or {}).get(field) if isinstance(detail.get(reason), dict) else None
    addresses = [r.get("emailAddress") for r in listed or [] if isinstance(r, dict)]
    addresses = [a for a in addresses if isinstance(a, str) and "@" in a and len(a) <= 320]
    if not addresses:
        raise UnreadableEvent(f"{reason} event without recipients")
    message_id = str((detail.get("mail") or {}).get("messageId") or event.get("id") or "")
    return reason, addresses, message_id


def apply(event: dict) -> int:
    """Suppress the event's recipients; how many were newly suppressed."""
    reason, addresses, message_id = recipients(event)
    at = now_iso()
    added = sum(repository.suppress("email", address, reason, at, message_id) for address in addresses)
    count("MarketingSuppressions")
    logger.info("addresses suppressed", extra={"reason": reason, "new": added, "ses_message_id": message_id})
    return added


def parse(body: str) -> dict:
    try:
        event = json.loads(body)
    except ValueError:
        raise UnreadableEvent("body is not JSON") from None
    recipients(event)   # raises UnreadableEvent
    return event


@lambda_entry
def handler(event: dict, context: object = None) -> dict:
    return run_records(event, parse, apply)
