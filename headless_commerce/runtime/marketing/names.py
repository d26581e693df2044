"""Names the Marketing construct, local mode and the marketing functions share. Pure data: CDK
imports it without boto3 or Powertools."""

from __future__ import annotations

_PKG = "headless_commerce.runtime.marketing"

# The profile attribute that reaches a customer on each channel. Push: the SNS platform endpoint
# of the customer's device (PUT /me/push-device stores it). Audiences follow consent alone, so a
# customer who consents to push before registering a device is a member; the sender re-reads the
# profile and records `no_contact` until a device is registered.
CONTACT_ATTRIBUTE = {"email": "email", "sms": "phone", "push": "push_endpoint_arn"}

# Audience jobs (campaign pages, the abandoned-cart check) from the jobs queue.
JOBS_FUNCTION = "marketing_jobs"
JOBS_HANDLER = f"{_PKG}.jobs.handler"
CAMPAIGN = "campaign"
ABANDONED_CART = "abandoned_cart"
ABANDONED_CART_JOB_ID = "abandoned-cart"
# The run of a schedule: EventBridge Scheduler fills in the scheduled time.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"

# SES bounce and complaint events from the account's default bus.
SUPPRESSION_FUNCTION = "marketing_suppression"
SUPPRESSION_HANDLER = f"{_PKG}.suppression.handler"
SES_SOURCE = "aws.ses"
BOUNCED = "Email Bounced"
COMPLAINED = "Email Complaint Received"
SES_DETAIL_TYPES = (BOUNCED, COMPLAINED)
