"""Cognito post-confirmation trigger: create the customer profile once.

Cognito retries triggers, so creation is conditional (attribute_not_exists); the event is
returned unchanged, as Cognito requires.
"""

from __future__ import annotations

from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.customers import repository as customers


def handler(event: dict, context: object = None) -> dict:
    if event.get("triggerSource") != "PostConfirmation_ConfirmSignUp":
        return event  # e.g. PostConfirmation_ConfirmForgotPassword: nothing to create
    attributes = (event.get("request") or {}).get("userAttributes") or {}
    sub = attributes.get("sub")
    if not sub:
        logger.error("post-confirmation event without sub")
        return event
    created = customers.create_profile(sub, attributes.get("email"))
    logger.info("profile created" if created else "profile already existed")
    return event
