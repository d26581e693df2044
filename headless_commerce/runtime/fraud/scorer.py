"""The transaction risk scorer: checkout's default fraud screen.

Each enabled rule (runtime/fraud/rules.py) that triggers adds its weight to the score; a
configured model endpoint adds its probability x `model_weight`. The score against the
thresholds decides: deny at `deny_at`, review (hold the order) at `review_at`, else approve.

Fails safe: a rule that raises (the velocity counters' store failing, a history read timing
out) or a model endpoint that times out or errs never lets an order through unscreened: the
decision is at least `review`, with `error:<rule>` among the reasons. A deny stays a deny.
"""

from __future__ import annotations

from functools import cache

from headless_commerce.runtime import settings
from headless_commerce.runtime.common.logging import logger
from headless_commerce.runtime.fraud import config as fraud_config
from headless_commerce.runtime.fraud import model_endpoint
from headless_commerce.runtime.fraud.config import FraudConfig
from headless_commerce.runtime.fraud.rules import RULES
from headless_commerce.runtime.fraud.screen import (
    FraudContext,
    FraudDecision,
    FraudScreen,
    Outcome,
    pass_through,
)


class RiskScorer:
    """A FraudScreen: call it with a FraudContext. `model` is the endpoint client (tests pass
    their own)."""

    def __init__(self, config: FraudConfig | None = None, *, model_endpoint_name: str | None = None,
                 model=model_endpoint.invoke) -> None:
        self.config = config or FraudConfig()
        self.model_endpoint_name = model_endpoint_name
        self._model = model

    def outcome(self, score: int) -> Outcome:
        if score >= self.config.deny_at:
            return Outcome.DENY
        if score >= self.config.review_at:
            return Outcome.REVIEW
        return Outcome.APPROVE

    def __call__(self, context: FraudContext) -> FraudDecision:
        score, reasons, failures, seen = 0, [], [], {}
        for name, check in RULES.items():
            rule = self.config.rule(name)
            if not rule.enabled:
                continue
            try:
                finding = check(context, rule, self.config)
            except Exception as error:
                logger.exception("fraud rule failed; the order will be reviewed", extra={"rule": name})
                failures.append(f"error:{name}")
                seen[name] = {"error": type(error).__name__}
                continue
            seen[name] = finding.seen
            if finding.triggered:
                score += rule.weight
                reasons.append(name)
        if self.model_endpoint_name:
            try:
                probability = self._model(self.model_endpoint_name,
                                          model_endpoint.features(context, score, tuple(reasons)))
            except Exception as error:
                logger.warning("fraud model endpoint failed; the order will be reviewed",
                               extra={"error": str(error)})
                failures.append("error:model")
                seen["model"] = {"error": type(error).__name__}
            else:
                points = round(probability * self.config.model_weight)
                seen["model"] = {"probability": probability, "points": points}
                if points:
                    score += points
                    reasons.append("model")
        outcome = self.outcome(score)
        if failures and outcome is Outcome.APPROVE:
            outcome = Outcome.REVIEW
        return FraudDecision(outcome=outcome, score=score, reasons=tuple(reasons + failures), details=seen)


@cache
def _screen(mode: str, config_json: str | None, endpoint: str | None, timeout: str | None) -> FraudScreen:
    if mode == "off":
        return pass_through
    if mode != "rules":
        raise ValueError(f"{settings.FRAUD_SCREEN} must be 'rules' or 'off', got {mode!r}")
    model_endpoint.timeout_s()  # validates FRAUD_MODEL_TIMEOUT_MS with the rest
    return RiskScorer(fraud_config.from_json(config_json), model_endpoint_name=endpoint)


def from_environment() -> FraudScreen:
    """The screen the environment asks for (FRAUD_SCREEN, FRAUD_CONFIG, FRAUD_MODEL_*), built
    once per distinct setting; ValueError with the variable's name when one is invalid."""
    return _screen(settings.fraud_screen(), settings.fraud_config(), settings.fraud_model_endpoint(),
                   settings.fraud_model_timeout_ms())
