"""Push devices: `PUT /me/push-device` turns a device token into an SNS platform endpoint under
the configured platform application and stores its ARN on the caller's profile, where the
senders read it (names.CONTACT_ATTRIBUTE); `DELETE /me/push-device` deletes it.

One device per customer: the latest registration receives pushes. CreatePlatformEndpoint is
idempotent for a token (the same token returns the same endpoint), so an app may register on
every start. SNS disables an endpoint whose token the push service invalidated; registering
the token again re-enables it, and a send that finds it disabled clears it from the profile
(service.deliver).

Env: TABLE_NAME, PUSH_PLATFORM_APPLICATIONS (JSON {platform: application ARN}; unset: push is
not configured and registering is a 422 `push_not_configured`).
"""

from __future__ import annotations

import json
import re

from botocore.exceptions import ClientError

from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.domain_errors import InvalidPushToken, PushNotConfigured
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.customers import repository as customers
from headless_commerce.runtime.customers import service as customer_service

# SNS answers a token registered before with other attributes (e.g. disabled) this way.
_EXISTING = re.compile(r"Endpoint (arn:\S+) already exists")


def applications() -> dict[str, str]:
    raw = settings.push_platform_applications()
    if not raw:
        return {}
    try:
        configured = json.loads(raw)
    except ValueError:
        logger.error("PUSH_PLATFORM_APPLICATIONS is not JSON; push is off")
        return {}
    return {k: v for k, v in configured.items() if isinstance(k, str) and isinstance(v, str) and v}


def view(profile: dict) -> dict:
    registered = bool(profile.get("push_endpoint_arn"))
    return {"registered": registered, "platform": profile.get("push_platform") if registered else None}


def _endpoint(application_arn: str, token: str) -> str:
    sns = aws.sns()
    try:
        arn = sns.create_platform_endpoint(PlatformApplicationArn=application_arn, Token=token)["EndpointArn"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "InvalidParameter":
            raise
        found = _EXISTING.search(error.response["Error"].get("Message", ""))
        if found is None:
            raise InvalidPushToken() from None
        arn = found.group(1)
    # A token SNS disabled (the push service invalidated it) is valid again when the app
    # registers it anew: re-enable, so the endpoint delivers.
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Token": token, "Enabled": "true"})
    return arn


def _delete_endpoint(arn: str) -> None:
    try:
        aws.sns().delete_endpoint(EndpointArn=arn)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NotFound":
            raise


def register(sub: str, email: str | None, platform: str, token: str) -> dict:
    application = applications().get(platform)
    if application is None:
        raise PushNotConfigured(platform)
    previous = customer_service.ensure_profile(sub, email).get("push_endpoint_arn")
    arn = _endpoint(application, token)
    profile = customers.set_push_endpoint(sub, platform, arn)
    if previous and previous != arn:
        _delete_endpoint(previous)      # the device's old token: nothing reaches it any more
    return view(profile)


def unregister(sub: str, email: str | None) -> dict:
    profile = customer_service.ensure_profile(sub, email)
    arn = profile.get("push_endpoint_arn")
    if arn and customers.clear_push_endpoint(sub, arn):
        _delete_endpoint(arn)
        return view({})
    # Nothing registered, or a registration that won a race with this call: keep it.
    return view(customers.get_profile(sub) or {})
