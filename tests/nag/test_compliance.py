"""The compliance gate: AwsSolutions, PCI DSS 3.2.1 and Serverless with no open finding."""

import json

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sqs as sqs

from headless_commerce.app_builder import add_compliance_gate
from headless_commerce.constructs._nag import acknowledge

NAG_PACKS = ("AwsSolutions::", "PCI.DSS.321::", "Serverless::")


def _acknowledgments(app):
    for path, entries in app.metadata().items():
        for entry in entries:
            if entry["type"] == "aws:cdk:acknowledged-rules":
                for rule, reason in entry["data"].items():
                    if rule.startswith(NAG_PACKS):
                        yield path, rule, reason


def test_full_app_synthesizes_with_no_finding(any_app):
    # Synthesis itself raises on any unacknowledged finding; a report, if written, must be clean.
    report = any_app.outdir / "validation-report.json"
    if report.exists():
        violations = [v for p in json.loads(report.read_text())["pluginReports"] for v in p["violations"]]
        assert violations == []


def test_every_acknowledgment_has_a_concrete_reason(any_app):
    acks = list(_acknowledgments(any_app))
    assert acks, "expected the documented acknowledgments to be recorded in metadata"
    for path, rule, reason in acks:
        assert len(reason) >= 20, (path, rule)
        assert "suppress" not in reason.lower(), (path, rule)


def test_prod_needs_fewer_acknowledgments_than_dev(dev_app, prod_app):
    dev_rules = {rule for _, rule, _ in _acknowledgments(dev_app)}
    prod_rules = {rule for _, rule, _ in _acknowledgments(prod_app)}
    assert "AwsSolutions::AwsSolutions-COG2" in dev_rules - prod_rules


def test_gate_fails_synth_on_a_finding(tmp_path):
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Bad")
    sqs.Queue(stack, "Queue")  # no DLQ, no SSL enforcement
    add_compliance_gate(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert "AwsSolutions-SQS4" in rules


@pytest.mark.parametrize("reason", ["", "ok", "suppressed because reasons here"])
def test_vague_acknowledgments_are_refused(reason):
    stack = Stack(App(), "S")
    with pytest.raises(ValueError, match="needs a concrete reason"):
        acknowledge(stack, "AwsSolutions-SQS3", reason)
