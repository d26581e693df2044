"""IAM built one way: service roles with confused-deputy conditions, exact table and queue
grants, and CDK's inline grant policies turned into customer-managed policies.

CDK writes every `grant_*` into an inline `DefaultPolicy`. PCI DSS 3.2.1 (IAMNoInlinePolicy)
wants managed policies: they are versioned, so a bad permission change can be rolled back.
The statements stay exactly as least-privilege as the grants that produced them.
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Aws, IAspect
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct


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


# KMS actions a principal needs on the key of a CMK-encrypted table or queue it uses. CDK's
# grant families add `kms:ReEncrypt*`, which only re-encrypting ciphertext under another key
# needs; no function, pipe or DAX cluster here ever does that.
KMS_READ_ACTIONS = ("kms:Decrypt",)
KMS_WRITE_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")


def service_role(scope: Construct, id: str, *, service: str, source_arn: str, description: str) -> iam.Role:
    """A role only `service` can assume, and only on behalf of this account's resources whose
    ARN matches `source_arn` (confused-deputy protection: aws:SourceAccount + aws:SourceArn)."""
    return iam.Role(scope, id, description=description, assumed_by=iam.ServicePrincipal(service, conditions={
        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
        "ArnLike": {"aws:SourceArn": source_arn},
    }))


def source_arn_pattern(service: str, resource: str) -> str:
    """`arn:<partition>:<service>:<region>:<account>:<resource>` for a trust-policy condition."""
    return f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"


def grant_table_actions(table: dynamodb.ITableV2, grantee: iam.IGrantable, actions: Sequence[str], *,
                        leading_key_prefix: str | None = None,
                        query_indexes: Sequence[str] | None = None) -> iam.Grant:
    """Exactly `actions` on `table` (and its indexes when the grantee queries), plus the key
    actions they need; `leading_key_prefix` confines every request to items whose partition
    key starts with it; `query_indexes` (default None: every index of the table) names the
    only indexes a Query may read (empty: the table itself only)."""
    resources = [table.table_arn]
    if "dynamodb:Query" in actions:
        resources += ([f"{table.table_arn}/index/*"] if query_indexes is None
                      else [f"{table.table_arn}/index/{name}" for name in query_indexes])
    conditions = ({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{leading_key_prefix}*"]}}
                  if leading_key_prefix else None)
    grant = iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=resources,
                                       conditions=conditions)
    if table.encryption_key is not None:
        writes = any(a in actions for a in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                                            "dynamodb:BatchWriteItem"))
        table.encryption_key.grant(grantee, *(KMS_WRITE_ACTIONS if writes else KMS_READ_ACTIONS))
    return grant


def grant_send(queue: sqs.IQueue, grantee: iam.IGrantable) -> iam.Grant:
    """sqs:SendMessage on `queue` and, when it is CMK-encrypted, the two key actions SQS
    needs to encrypt the message for the sender."""
    grant = iam.Grant.add_to_principal(grantee=grantee, actions=["sqs:SendMessage"],
                                       resource_arns=[queue.queue_arn])
    if queue.encryption_master_key is not None:
        queue.encryption_master_key.grant(grantee, "kms:GenerateDataKey", "kms:Decrypt")
    return grant
