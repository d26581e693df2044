"""Per-resource checkov skips (and cfn-lint ignores), written into the template next to the
resource they cover.

A skip in `.checkov.yaml` would switch a check off for every resource; these stay narrow.
"""

from __future__ import annotations

import jsii
from aws_cdk import CfnResource, IAspect
from constructs import IConstruct


def skip_checkov(resource: CfnResource, check_id: str, reason: str) -> None:
    metadata = resource.get_metadata("checkov") or {"skip": []}
    metadata["skip"].append({"id": check_id, "comment": reason})
    resource.add_metadata("checkov", metadata)


def ignore_cfn_lint(resource: CfnResource, rule_id: str) -> None:
    """cfn-lint's per-resource ignore, for a warning whose trade-off the caller documents."""
    metadata = resource.get_metadata("cfn-lint") or {"config": {"ignore_checks": []}}
    metadata["config"]["ignore_checks"].append(rule_id)
    resource.add_metadata("cfn-lint", metadata)


# CDK's own singleton custom-resource handlers (e.g. the one that strips the default security
# group's rules) run once per deployment, are invoked synchronously by CloudFormation and
# call only public AWS APIs.
_PROVIDER_SKIPS = {
    "CKV_AWS_116": "CloudFormation invokes this CDK provider synchronously and retries the stack "
                   "operation itself; an async DLQ would never receive anything.",
    "CKV_AWS_117": "CDK's provider handler calls only public AWS control-plane APIs during deployment "
                   "and needs no VPC resources.",
    "CKV_AWS_115": "Invoked only by CloudFormation during deployments; a reserved concurrency would "
                   "take capacity from the account pool for no benefit.",
}


@jsii.implements(IAspect)
class CdkProviderCheckovSkips:
    def visit(self, node: IConstruct) -> None:
        if (isinstance(node, CfnResource) and node.cfn_resource_type == "AWS::Lambda::Function"
                and node.node.scope is not None and node.node.scope.node.id.endswith("CustomResourceProvider")):
            for check_id, reason in _PROVIDER_SKIPS.items():
                skip_checkov(node, check_id, reason)
