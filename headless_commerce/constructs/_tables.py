"""DynamoDB tables defined once, as boto3 `create_table` kwargs in `model.py`, and built here
for CDK, so tests, local mode and the stacks never disagree on a key."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..config import Profile
from ._checkov import skip_checkov
from ._nag import acknowledge

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER,
          "B": dynamodb.AttributeType.BINARY}


def key_attributes(definition: dict) -> dict:
    """partition_key / sort_key props from boto3 KeySchema + AttributeDefinitions."""
    types = {a["AttributeName"]: _TYPES[a["AttributeType"]] for a in definition["AttributeDefinitions"]}
    roles = {"HASH": "partition_key", "RANGE": "sort_key"}
    return {roles[k["KeyType"]]: dynamodb.Attribute(name=k["AttributeName"], type=types[k["AttributeName"]])
            for k in definition["KeySchema"]}


def acknowledge_dev_pitr(table: dynamodb.TableV2) -> None:
    reason = ("The dev profile holds only disposable data and is destroyed with the stack; "
              "the prod profile turns point-in-time recovery on.")
    acknowledge(table, "AwsSolutions-DDB3", reason)
    acknowledge(table, "PCI.DSS.321-DynamoDBPITREnabled", reason)
    skip_checkov(table.node.default_child, "CKV_AWS_165", reason)


def secure_table(scope: Construct, id: str, *, definition: dict, profile: Profile,
                 encryption_key: kms.IKey | None, **overrides) -> dynamodb.TableV2:
    """On-demand, CMK-encrypted, PITR and deletion protection per profile."""
    table = dynamodb.TableV2(
        scope, id, **key_attributes(definition),
        billing=dynamodb.Billing.on_demand(),
        encryption=(dynamodb.TableEncryptionV2.customer_managed_key(encryption_key) if encryption_key
                    else dynamodb.TableEncryptionV2.aws_managed_key()),
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=profile.point_in_time_recovery),
        deletion_protection=profile.deletion_protection,
        removal_policy=profile.removal_policy,
        **overrides)
    if not profile.point_in_time_recovery:
        acknowledge_dev_pitr(table)
    return table


def _nag_text(value) -> str:
    """A resolved template value as cdk-nag writes it in a finding (`<AWS::Region>`, `<Id.Arn>`)."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_nag_text(part) for part in parts)
    raise ValueError(f"cannot name {value!r} in an acknowledgment")


def acknowledge_index_grant(role: iam.IRole, table: dynamodb.ITableV2) -> None:
    """CDK's table grants cover `<table>/index/*` so queries on the table's own GSIs work."""
    cfn = table.node.default_child
    if cfn is not None:
        index_arn = f"<{Stack.of(cfn).get_logical_id(cfn)}.Arn>/index/*"
    else:
        # An imported table (`from_table_name`, `from_table_attributes`): its ARN is built from
        # the stack's partition, region and account, which the finding names as tokens.
        index_arn = _nag_text(Stack.of(role).resolve(f"{table.table_arn}/index/*"))
    acknowledge(role, f"AwsSolutions-IAM5[Resource::{index_arn}]",
                "Queries use this table's own global secondary indexes; the wildcard covers only "
                "the indexes of this one table.")
