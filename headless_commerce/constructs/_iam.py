"""Turn CDK's inline grant policies into customer-managed policies.

CDK writes every `grant_*` into an inline `DefaultPolicy`. PCI DSS 3.2.1 (IAMNoInlinePolicy)
wants managed policies: they are versioned, so a bad permission change can be rolled back.
The statements stay exactly as least-privilege as the grants that produced them.
"""

from __future__ import annotations

import jsii
from aws_cdk import IAspect
from aws_cdk import aws_iam as iam
from constructs import IConstruct


@jsii.implements(IAspect)
class ManagedGrantPolicies:
    """Aspect: replace each inline `AWS::IAM::Policy` with an `AWS::IAM::ManagedPolicy`.

    The managed policy is created inside the same L2 `Policy` construct, so every resource
    that depends on the policy (a function waiting for its permissions) still waits for it.
    """

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, iam.CfnPolicy):
            return
        owner = node.node.scope
        if owner is None or owner.node.try_find_child("Managed") is not None:
            return
        managed = iam.CfnManagedPolicy(
            owner, "Managed",
            policy_document=node.policy_document,
            roles=node.roles, users=node.users, groups=node.groups,
        )
        checkov = node.get_metadata("checkov")
        if checkov:
            managed.add_metadata("checkov", checkov)
        owner.node.try_remove_child(node.node.id)
