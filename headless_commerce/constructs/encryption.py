"""The customer-managed KMS key every other construct encrypts with."""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..config import Profile
from . import _defaults as defaults
from ._props import check_exclusive, merge


class EncryptionKey(Construct):
    """A symmetric CMK with yearly rotation, usable by CloudWatch Logs in this account/region.

    `key` is the resource to pass to other constructs. Logs needs a key-policy statement
    (a grant is not enough) because log groups encrypt on the service's behalf.

    Parameters: `profile` (removal policy, deletion window); `existing_key` (default None: a
    new key from `_defaults.encryption_key`; an imported key must already let CloudWatch Logs
    and EventBridge use it) or `key_props` (overrides of those defaults).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile,
                 existing_key: kms.IKey | None = None, key_props: dict | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_key=existing_key, key_props=key_props)
        if existing_key is not None:
            self.key: kms.IKey = existing_key
            return
        key = kms.Key(self, "Key", **merge(defaults.encryption_key(profile, Stack.of(self).stack_name), key_props))
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowCloudWatchLogsInThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={"ArnLike": {
                "kms:EncryptionContext:aws:logs:arn":
                    f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*",
            }},
        ))
        # EventBridge encrypts the bus and delivers to CMK-encrypted queues as the service.
        key.add_to_resource_policy(iam.PolicyStatement(
            sid="AllowEventBridgeInThisAccount",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        ))
        self.key = key
