"""Nested stacks read as part of their parent: what the cost estimate, the diagram and the tests see."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, NestedStack, Stack
from aws_cdk import aws_sqs as sqs

from headless_commerce.assembly import inline_nested_stacks, nested_templates


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("nested")
    app = App(outdir=str(outdir))
    parent = Stack(app, "Parent")
    upstream = sqs.Queue(parent, "Upstream")
    child = NestedStack(parent, "Child")
    # Parent -> nested: a parameter; nested -> parent: an output the parent reads.
    downstream = sqs.Queue(child, "Downstream", dead_letter_queue=sqs.DeadLetterQueue(queue=upstream,
                                                                                      max_receive_count=3))
    sqs.Queue(parent, "Reader", dead_letter_queue=sqs.DeadLetterQueue(queue=downstream, max_receive_count=3))
    app.synth()
    return outdir, json.loads((outdir / "Parent.template.json").read_text())


def _logical_id(template, prefix):
    return next(key for key in template["Resources"] if key.startswith(prefix))


def test_nested_resources_join_the_parent_with_the_parents_own_references(assembly):
    outdir, top = assembly
    flat = inline_nested_stacks(top, outdir)
    downstream = flat["Resources"][_logical_id(flat, "Downstream")]
    upstream_id = _logical_id(flat, "Upstream")
    # The nested parameter became the parent's GetAtt on its own queue.
    assert downstream["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [upstream_id, "Arn"]}
    reader = flat["Resources"][_logical_id(flat, "Reader")]
    # The parent's read of the nested output became the nested resource itself.
    assert reader["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [_logical_id(flat, "Downstream"), "Arn"]}
    # The stack resource stays (it is deployed and listed), and the input is not changed.
    assert any(r["Type"] == "AWS::CloudFormation::Stack" for r in flat["Resources"].values())
    assert not any(key.startswith("Downstream") for key in top["Resources"])


def test_each_nested_template_file_is_listed(assembly):
    outdir, top = assembly
    (listed,) = list(nested_templates(top, outdir))
    stack_id, path, template = listed
    assert top["Resources"][stack_id]["Type"] == "AWS::CloudFormation::Stack"
    assert path.name.endswith(".nested.template.json")
    assert any(key.startswith("Downstream") for key in template["Resources"])


def test_a_logical_id_in_both_templates_is_an_error(assembly):
    outdir, top = assembly
    (_, _, nested) = next(iter(nested_templates(top, outdir)))
    clashing = json.loads(json.dumps(top))
    clashing["Resources"][_logical_id(nested, "Downstream")] = {"Type": "AWS::SQS::Queue"}
    with pytest.raises(ValueError, match="reuses the parent's logical id"):
        inline_nested_stacks(clashing, outdir)
