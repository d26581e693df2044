"""The optional risk model: a SageMaker endpoint asked once per checkout, with a short timeout.

Request (JSON): {"amount", "currency", "line_count", "item_count", "rule_score", "triggered"}.
Response (JSON): {"score": p} or a bare number p, the probability of fraud in [0, 1].
Anything else, a timeout or an error raises ModelError; the scorer then holds the order for
review rather than approve it unscreened.
"""

from __future__ import annotations

import json
import math

from headless_commerce.runtime import settings
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.fraud.screen import FraudContext

DEFAULT_TIMEOUT_MS = 300


class ModelError(RuntimeError):
    """The endpoint did not give a usable score."""


def timeout_s() -> float:
    raw = settings.fraud_model_timeout_ms()
    if raw is None:
        return DEFAULT_TIMEOUT_MS / 1000
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 50 <= value <= 5000:
        raise ValueError(f"{settings.FRAUD_MODEL_TIMEOUT_MS} must be whole milliseconds from 50 to 5000 "
                         f"(default {DEFAULT_TIMEOUT_MS}); got {raw!r}")
    return value / 1000


def features(context: FraudContext, rule_score: int, triggered: tuple[str, ...]) -> dict:
    return {"amount": context.amount, "currency": context.currency, "line_count": len(context.lines),
            "item_count": sum(line["quantity"] for line in context.lines), "rule_score": rule_score,
            "triggered": list(triggered)}


def _score(body: object) -> float:
    value = body.get("score") if isinstance(body, dict) else body
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= 1:
        raise ModelError(f"the model endpoint answered {body!r}, not a score in [0, 1]")
    return float(value)


def invoke(endpoint: str, payload: dict) -> float:
    """The endpoint's fraud probability for `payload`; ModelError on anything else."""
    try:
        response = aws.fail_fast_client("sagemaker-runtime", timeout_s()).invoke_endpoint(
            EndpointName=endpoint, ContentType="application/json", Accept="application/json",
            Body=json.dumps(payload).encode())
        body = json.loads(response["Body"].read())
    except ModelError:
        raise
    except Exception as error:
        raise ModelError(f"model endpoint {endpoint} failed: {type(error).__name__}") from error
    return _score(body)
