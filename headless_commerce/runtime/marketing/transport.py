"""Hands a rendered message to its channel: SES (email), AWS End User Messaging (SMS), SNS
mobile push, or local mode's outbox. Returns the provider's message id."""

from __future__ import annotations

from botocore.exceptions import ClientError

from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.marketing import outbox
from headless_commerce.runtime.marketing.messages import Message

ONE_CLICK = "List-Unsubscribe=One-Click"


class ChannelUnavailable(Exception):
    """The channel is not configured here (no sender identity, no origination identity)."""


class AddressGone(Exception):
    """The address will never deliver again: SNS disabled the push endpoint because the push
    service invalidated its token (the app was removed, the token rotated)."""


def unsubscribe_headers(url: str | None) -> dict[str, str]:
    """RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs to `url`."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK} if url else {}


def send(channel: str, address: str, message: Message, *, unsubscribe_url: str | None,
         transactional: bool = False) -> str:
    if settings.marketing_transport() == "outbox":
        return outbox.write({"channel": channel, "to": address, "kind": message.kind,
                             "subject": message.subject, "text": message.text,
                             "html": message.html(unsubscribe_url) if channel == "email" else None,
                             "headers": unsubscribe_headers(unsubscribe_url) if channel == "email" else {},
                             "unsubscribe_url": unsubscribe_url})
    if channel == "email":
        return _email(address, message, unsubscribe_url)
    if channel == "sms":
        return _sms(address, message, transactional)
    if channel == "push":
        return _push(address, message)
    raise ChannelUnavailable(channel)


def _email(address: str, message: Message, unsubscribe_url: str | None) -> str:
    sender = settings.marketing_email_from()
    if sender is None:
        raise ChannelUnavailable("email: no sender identity (MARKETING_EMAIL_FROM)")
    content = {
        "Subject": {"Data": message.subject, "Charset": "UTF-8"},
        "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"},
                 "Html": {"Data": message.html(unsubscribe_url), "Charset": "UTF-8"}},
        "Headers": [{"Name": k, "Value": v} for k, v in unsubscribe_headers(unsubscribe_url).items()],
    }
    kwargs: dict = {"FromEmailAddress": sender, "Destination": {"ToAddresses": [address]},
                    "Content": {"Simple": content},
                    "EmailTags": [{"Name": "kind", "Value": message.kind}]}
    configuration_set = settings.marketing_ses_configuration_set()
    if configuration_set:
        # Bounces and complaints of this message reach the suppression consumer through it.
        kwargs["ConfigurationSetName"] = configuration_set
    return aws.sesv2().send_email(**kwargs)["MessageId"]


def _sms(number: str, message: Message, transactional: bool) -> str:
    origination = settings.marketing_sms_origination_identity()
    if origination is None:
        raise ChannelUnavailable("sms: no origination identity (turn on -c marketing_sms=true)")
    kwargs: dict = {"DestinationPhoneNumber": number, "OriginationIdentity": origination,
                    "MessageBody": message.sms(),
                    "MessageType": "TRANSACTIONAL" if transactional else "PROMOTIONAL"}
    configuration_set = settings.marketing_sms_configuration_set()
    if configuration_set:
        kwargs["ConfigurationSetName"] = configuration_set
    return aws.sms_voice().send_text_message(**kwargs)["MessageId"]


def _push(endpoint_arn: str, message: Message) -> str:
    try:
        return aws.sns().publish(TargetArn=endpoint_arn, Subject=message.subject[:100],
                                 Message=message.text)["MessageId"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("EndpointDisabled", "NotFound"):
            raise AddressGone(endpoint_arn) from None
        raise
