"""Architecture diagram generated from a synthesized cloud assembly (`make diagram`).

Stacks are clusters and each top-level construct of a stack (a capability: `Network`,
`AppTier`, `Search`, ...) is a node, labelled with the kinds of resources it holds. An edge
A -> B means a resource of A refers to one of B: a `Ref`/`Fn::GetAtt` inside a stack, or a
cross-stack reference (`Fn::GetStackOutput`, `Fn::ImportValue`) resolved to the construct whose
resource the output exposes. Edges whose referring resource is an EventBridge rule are dashed
and labelled "events". The DOT text is deterministic (sorted, no ids that change between
synths), so a test can regenerate it and compare it with the committed file; the SVG comes from
Graphviz `dot`, whose layout may differ slightly between Graphviz versions.

    python -m headless_commerce.diagram docs/architecture     # writes .dot and, with `dot`, .svg
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .cost.estimate import StackTemplate, read_assembly

# The context `make diagram` synthesizes: what `make synth` builds by default.
DIAGRAM_CONTEXT = {"profile": "dev"}
# Resource kinds worth naming in a node; the rest (IAM, policies, security groups, log groups,
# permissions, routes, ...) is plumbing every construct has.
SHOWN_TYPES = {
    "AWS::EC2::VPC": "VPC", "AWS::EC2::NatGateway": "NAT gateway", "AWS::EC2::VPCEndpoint": "VPC endpoints",
    "AWS::KMS::Key": "KMS key", "AWS::EFS::FileSystem": "EFS", "AWS::Events::EventBus": "EventBridge bus",
    "AWS::Events::Archive": "archive", "AWS::EventSchemas::Registry": "schema registry",
    "AWS::SQS::Queue": "SQS", "AWS::SNS::Topic": "SNS", "AWS::Pipes::Pipe": "EventBridge Pipes",
    "AWS::Cognito::UserPool": "Cognito user pool", "AWS::DynamoDB::GlobalTable": "DynamoDB",
    "AWS::DynamoDB::Table": "DynamoDB", "AWS::DAX::Cluster": "DAX", "AWS::ApiGateway::RestApi": "API Gateway",
    "AWS::WAFv2::WebACL": "WAF", "AWS::Lambda::Function": "Lambda", "AWS::ECS::Service": "Fargate",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "load balancer",
    "AWS::OpenSearchService::Domain": "OpenSearch", "AWS::ElastiCache::ServerlessCache": "Valkey",
    "AWS::ElastiCache::ReplicationGroup": "Valkey", "AWS::MSK::Cluster": "MSK",
    "AWS::Personalize::DatasetGroup": "Personalize", "AWS::SES::ConfigurationSet": "SES",
    "AWS::Scheduler::Schedule": "Scheduler", "AWS::CloudFront::Distribution": "CloudFront",
    "AWS::S3::Bucket": "S3", "AWS::CloudWatch::Alarm": "alarms", "AWS::CloudWatch::Dashboard": "dashboard",
    "AWS::Location::Tracker": "Location", "AWS::Location::GeofenceCollection": "Location",
    "AWS::Location::APIKey": "Location", "AWS::Lex::Bot": "Lex", "AWS::SecretsManager::Secret": "secrets",
    "AWS::Route53::RecordSet": "Route 53", "AWS::SMSVOICE::PhoneNumber": "End User Messaging",
}


# CDK's own custom-resource providers (singleton functions named by a hash) are plumbing.
_PLUMBING = re.compile(r"^(Custom::.*|AWS[0-9a-f]{32}|.*Provider)$")
# A key or topic most constructs refer to (the CMK, the alarm topic) gets a note instead of an edge each.
HUB_SHARE = 0.4
HUB_KINDS = {"KMS key", "SNS"}


def _short_stack(name: str) -> str:
    """`HeadlessCommerce[-stage]-Web` -> `Web`: the diagram does not depend on the stage."""
    return name.rsplit("-", 1)[-1]


def _construct(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) > 2 else None


def _references(value: Any) -> Iterator[tuple[str, str]]:
    """("local", logical id) and ("output", "stack/output") references anywhere in `value`."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield "local", value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            name = target[0] if isinstance(target, list) else str(target).split(".")[0]
            if isinstance(name, str):
                yield "local", name
        if "Fn::GetStackOutput" in value:
            spec = value["Fn::GetStackOutput"]
            if isinstance(spec.get("StackName"), str) and isinstance(spec.get("OutputName"), str):
                yield "output", f"{spec['StackName']}/{spec['OutputName']}"
        if "Fn::ImportValue" in value and isinstance(value["Fn::ImportValue"], str):
            yield "export", value["Fn::ImportValue"]
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def graph(stacks: list[StackTemplate]) -> tuple[dict[str, dict[str, list[str]]], set[tuple[str, str, bool]]]:
    """Nodes per stack ({stack: {construct: [resource kinds]}}) and edges (from, to, is_event_rule);
    node names are `stack/construct`."""
    nodes: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    owner: dict[tuple[str, str], str] = {}
    outputs: dict[str, str] = {}
    exports: dict[str, str] = {}
    for stack in stacks:
        short = _short_stack(stack.name)
        for logical_id, resource in stack.template.get("Resources", {}).items():
            construct = _construct(stack.paths.get(logical_id, ""))
            if construct is None:
                continue
            owner[(stack.name, logical_id)] = f"{short}/{construct}"
            nodes[short][construct]  # every construct with a resource is a node
            if resource["Type"] in SHOWN_TYPES:
                nodes[short][construct].add(SHOWN_TYPES[resource["Type"]])
    for stack in stacks:
        for name, output in stack.template.get("Outputs", {}).items():
            refs = [ref for kind, ref in _references(output.get("Value")) if kind == "local"]
            targets = [owner[(stack.name, ref)] for ref in refs if (stack.name, ref) in owner]
            if targets:
                outputs[f"{stack.name}/{name}"] = targets[0]
                export = (output.get("Export") or {}).get("Name")
                if isinstance(export, str):
                    exports[export] = targets[0]
    edges: set[tuple[str, str, bool]] = set()
    for stack in stacks:
        for logical_id, resource in stack.template.get("Resources", {}).items():
            source = owner.get((stack.name, logical_id))
            if source is None:
                continue
            is_rule = resource["Type"] == "AWS::Events::Rule"
            for kind, ref in _references(resource.get("Properties", {})):
                target = (owner.get((stack.name, ref)) if kind == "local"
                          else outputs.get(ref) if kind == "output" else exports.get(ref))
                if target and target != source:
                    edges.add((source, target, is_rule))
    # An event edge wins over a plain one between the same two constructs.
    edges = {e for e in edges if e[2] or (e[0], e[1], True) not in edges}
    return {s: {c: sorted(kinds) for c, kinds in cs.items()} for s, cs in nodes.items()}, edges


def _id(name: str) -> str:
    return json.dumps(name)


def to_dot(stacks: list[StackTemplate]) -> str:
    nodes, edges = graph(stacks)
    nodes = {stack: {c: kinds for c, kinds in constructs.items() if kinds and not _PLUMBING.match(c)}
             for stack, constructs in nodes.items()}
    names = {f"{stack}/{c}" for stack, constructs in nodes.items() for c in constructs}
    edges = {e for e in edges if e[0] in names and e[1] in names}
    referrers: dict[str, set[str]] = defaultdict(set)
    for source, target, _ in edges:
        referrers[target].add(source)
    kinds_of = {f"{stack}/{c}": set(kinds) for stack, constructs in nodes.items() for c, kinds in constructs.items()}
    hubs = {target for target, sources in referrers.items()
            if len(sources) >= HUB_SHARE * len(names) and kinds_of[target] <= HUB_KINDS}
    edges = {e for e in edges if e[1] not in hubs}
    order = [_short_stack(s.name) for s in stacks]
    lines = ["// Generated by `make diagram` (headless_commerce/diagram.py) from the synthesized dev app.",
             "digraph architecture {",
             '  graph [rankdir=LR, fontname="Helvetica", fontsize=12, compound=true, nodesep=0.25, ranksep=0.9];',
             '  node [shape=box, style="rounded,filled", fillcolor="#f5f7fa", fontname="Helvetica", fontsize=10];',
             '  edge [color="#6b7280", arrowsize=0.6, fontname="Helvetica", fontsize=8];']
    for index, stack in enumerate(order):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f'    label={_id(stack + " stack")}; style="rounded"; color="#94a3b8";')
        for construct, kinds in sorted(nodes.get(stack, {}).items()):
            note = "\\n(used by most constructs)" if f"{stack}/{construct}" in hubs else ""
            label = construct + "\\n" + ", ".join(kinds) + note
            lines.append(f"    {_id(stack + '/' + construct)} [label=\"{label}\"];")
        lines.append("  }")
    for source, target, is_rule in sorted(edges):
        style = ' [style=dashed, label="events"]' if is_rule else ""
        lines.append(f"  {_id(source)} -> {_id(target)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_of_assembly(outdir: str | Path) -> str:
    return to_dot(read_assembly(outdir))


def write(base: Path, context: Mapping[str, str] = DIAGRAM_CONTEXT) -> list[Path]:
    """Synthesize `context`, write `<base>.dot` and, when Graphviz is installed, `<base>.svg`."""
    from .app_builder import build

    with tempfile.TemporaryDirectory(prefix="hc-diagram-") as outdir:
        build(dict(context), outdir=outdir).app.synth()
        dot = dot_of_assembly(outdir)
    written = [base.with_suffix(".dot")]
    written[0].write_text(dot)
    if shutil.which("dot") is None:
        print("note: Graphviz `dot` is not installed (Debian: apt-get install graphviz); wrote only the .dot",
              file=sys.stderr)
        return written
    svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True).stdout
    base.with_suffix(".svg").write_text(svg)
    return [*written, base.with_suffix(".svg")]


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/architecture")
    for path in write(target):
        print(f"wrote {path}")
