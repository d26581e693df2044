"""cdk-nag v3 acknowledgments that carry their reason next to the resource they cover."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

MIN_REASON_LENGTH = 20


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding on `scope` (and its children) with a concrete reason.

    The reason is an auditor's only record of why the finding is acceptable, so a short or
    generic one ("suppressed", "not needed") is refused at synth time.
    """
    text = reason.strip()
    if len(text) < MIN_REASON_LENGTH or "suppress" in text.lower():
        raise ValueError(
            f"acknowledgment of {rule_id} on {scope.node.path} needs a concrete reason "
            f"(at least {MIN_REASON_LENGTH} characters saying why it is right), got {reason!r}"
        )
    # cdk-nag 3 reports findings as "<pack>::<rule>"; the pack is the rule id's prefix.
    # CDK's own template validation reports "CloudFormation-Validate::<cfn-lint rule>".
    full_id = rule_id if "::" in rule_id else f"{rule_id.split('-', 1)[0]}::{rule_id}"
    Validations.of(scope).acknowledge(Acknowledgment(id=full_id, reason=text))

