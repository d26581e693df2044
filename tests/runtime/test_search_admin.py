"""`headless-commerce search reindex` against AWS: which function it invokes with what, and
how it reports a failed rebuild (botocore's Stubber answers as Lambda and CloudFormation)."""

import io
import json

import boto3
from botocore.response import StreamingBody
from botocore.stub import Stubber

from headless_commerce import search_admin


def _payload(document) -> StreamingBody:
    raw = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_stack_output_names_the_indexer():
    cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
    with Stubber(cloudformation) as stub:
        stub.add_response("describe_stacks", {"Stacks": [{
            "StackName": "HeadlessCommerce-Commerce", "CreationTime": "2026-11-25T00:00:00Z",
            "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": "ApiUrl", "OutputValue": "https://x"},
                        {"OutputKey": "SearchIndexerFunction", "OutputValue": "hc-indexer"}]}]},
            {"StackName": "HeadlessCommerce-Commerce"})
        assert search_admin.indexer_function(cloudformation, "HeadlessCommerce-Commerce") == "hc-indexer"


def test_reindex_invokes_the_indexer_synchronously_with_the_reindex_event():
    client = boto3.client("lambda", region_name="eu-west-1")
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "Payload": _payload(
            {"index": "products-20261125-001", "documents": 240, "seconds": 1.2})},
            {"FunctionName": "hc-indexer", "InvocationType": "RequestResponse",
             "Payload": json.dumps({"action": "reindex"}).encode()})
        result, error = search_admin.reindex_on_aws(client, "hc-indexer")
    assert error is None and result["documents"] == 240


def test_a_failed_rebuild_is_reported_with_its_message():
    client = boto3.client("lambda", region_name="eu-west-1")
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _payload(
            {"errorMessage": "rebuild: 3 documents failed", "errorType": "RuntimeError"})})
        result, error = search_admin.reindex_on_aws(client, "hc-indexer")
    assert result is None and "rebuild: 3 documents failed" in error
