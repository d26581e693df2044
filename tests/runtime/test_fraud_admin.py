"""`headless-commerce fraud review` against AWS: the function it invokes, and errors as one line."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from headless_commerce import cli, fraud_admin


def _payload(document) -> StreamingBody:
    raw = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.fixture
def clients(monkeypatch):
    made = {name: boto3.client(name, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
            for name in ("cloudformation", "lambda")}
    monkeypatch.setattr(boto3.session.Session, "client", lambda self, name, **_: made[name])
    return made


def _run(*argv: str) -> int:
    return fraud_admin.run(cli._parser().parse_args(["fraud", "review", *argv]))


def test_release_through_the_stack_output_invokes_the_review_function(clients, capsys):
    with Stubber(clients["cloudformation"]) as cfn, Stubber(clients["lambda"]) as fn:
        cfn.add_response("describe_stacks", {"Stacks": [{
            "StackName": "HC-Commerce", "CreationTime": "2026-11-25T00:00:00Z", "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": "FraudReviewFunctionA1B2", "OutputValue": "hc-review"}]}]},
            {"StackName": "HC-Commerce"})
        fn.add_response("invoke", {"StatusCode": 200, "Payload": _payload({"order_id": "o-1", "status": "CONFIRMED"})},
                        {"FunctionName": "hc-review", "InvocationType": "RequestResponse",
                         "Payload": json.dumps({"action": "release", "order_id": "o-1", "reviewer": "ann",
                                                "note": ""}).encode()})
        assert _run("--stack", "HC-Commerce", "--release", "o-1", "--reviewer", "ann") == 0
    assert json.loads(capsys.readouterr().out)["status"] == "CONFIRMED"


def test_a_refused_review_exits_1_with_the_functions_message(clients, capsys):
    with Stubber(clients["lambda"]) as fn:
        fn.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled",
                                   "Payload": _payload({"errorMessage": "order o-1 is not held"})})
        assert _run("--function", "hc-review", "--reject", "o-1") == 1
    assert "order o-1 is not held" in capsys.readouterr().out


def test_aws_errors_are_one_line_not_a_traceback(clients, capsys):
    with Stubber(clients["cloudformation"]) as cfn:
        cfn.add_client_error("describe_stacks", "ValidationError", "Stack with id nope does not exist")
        assert _run("--stack", "nope") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "does not exist" in err and "Traceback" not in err


def test_a_stack_without_the_output_is_a_usage_error(clients, capsys):
    with Stubber(clients["cloudformation"]) as cfn:
        cfn.add_response("describe_stacks", {"Stacks": [{
            "StackName": "HC-Commerce", "CreationTime": "2026-11-25T00:00:00Z", "StackStatus": "CREATE_COMPLETE",
            "Outputs": []}]})
        assert _run("--stack", "HC-Commerce") == 2
    assert "is fraud on?" in capsys.readouterr().err
