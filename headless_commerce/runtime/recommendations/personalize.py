"""Amazon Personalize recommenders, as the recommendations service sees them.

A recommender's ARN is read from its SSM parameter (PutParameter'd by the reconciler in
resources.py once the recommender is ACTIVE; "NONE" before), cached briefly, so turning
recommenders on or off needs no redeploy of the API. Every call has a short timeout and no
retries: the caller serves the fallback ranking instead of waiting.
"""

from __future__ import annotations

import json
import time

from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.recommendations.params import KINDS

NO_RECOMMENDER = "NONE"
DEFAULT_TIMEOUT_MS = 300
# A recommender turned on or off is noticed within this long.
PARAMETER_TTL_S = 60.0

_arns: dict[str, tuple[float, str | None]] = {}


class PersonalizeUnavailable(Exception):
    """Personalize (or the parameter naming the recommender) failed, throttled or was slow."""


def parameters() -> dict[str, str]:
    raw = settings.recommender_parameters()
    if not raw:
        return {}
    names = json.loads(raw)
    return {kind: names[kind] for kind in KINDS if kind in names}


def _timeout_s() -> float:
    raw = settings.personalize_timeout_ms()
    return (int(raw) if raw else DEFAULT_TIMEOUT_MS) / 1000


def runtime_client():
    return aws.fail_fast_client("personalize-runtime", _timeout_s())


def ssm_client():
    return aws.fail_fast_client("ssm", _timeout_s())


def reset() -> None:
    """Forget cached clients and ARNs (tests switch stubs and parameters)."""
    aws.reset_fail_fast_clients()
    _arns.clear()


def recommender_arn(kind: str) -> str | None:
    """The ACTIVE recommender for `kind`, or None (not configured, not active yet)."""
    name = parameters().get(kind)
    if name is None:
        return None
    now = time.monotonic()
    cached = _arns.get(kind)
    if cached is not None and now - cached[0] < PARAMETER_TTL_S:
        return cached[1]
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        value = ssm_client().get_parameter(Name=name)["Parameter"]["Value"]
    except (BotoCoreError, ClientError) as error:
        raise PersonalizeUnavailable(f"parameter {name}: {error}") from error
    arn = None if value == NO_RECOMMENDER else value
    _arns[kind] = (now, arn)
    return arn


def recommend(arn: str, *, limit: int, item_id: str | None = None, user_id: str | None = None) -> list[str]:
    """Item ids from one recommender, best first."""
    from botocore.exceptions import BotoCoreError, ClientError

    request: dict = {"recommenderArn": arn, "numResults": limit}
    if item_id is not None:
        request["itemId"] = item_id
    if user_id is not None:
        request["userId"] = user_id
        # Interaction filters need the user: never recommend what they already bought.
        filter_arn = settings.personalize_filter_arn()
        if filter_arn:
            request["filterArn"] = filter_arn
    try:
        response = runtime_client().get_recommendations(**request)
    except (BotoCoreError, ClientError) as error:
        raise PersonalizeUnavailable(str(error)) from error
    return [entry["itemId"] for entry in response.get("itemList", []) if entry.get("itemId")]
