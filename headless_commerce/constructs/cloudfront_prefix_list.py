"""The id of AWS's CloudFront origin-facing managed prefix list in the stack's region.

Its id differs per region and AWS publishes no parameter for it. `ec2.PrefixList.from_lookup`
would call EC2 at synth time (credentials, a fixed account, a cached context value); this looks
it up at deploy time instead, so the template works in any account and region unchanged.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from ..config import Profile
from ._checkov import skip_checkov
from ._nag import acknowledge

CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"
# A security group rule that names a prefix list counts as the list's max entries against the
# group's rule quota (60 inbound by default); this list is sized 55, so one such rule per group.
PREFIX_LIST_RULE_WEIGHT = 55


class CloudFrontPrefixList(Construct):
    """`prefix_list_id`: resolved at deploy time by DescribeManagedPrefixLists (read-only).

    Parameters: `profile` (log retention, removal); `encryption_key` (default None: AWS-managed
    log encryption) for the lookup function's logs.
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, encryption_key: kms.IKey | None = None) -> None:
        super().__init__(scope, id)
        # Its own role and log group: CDK's default role carries the AWS-managed basic execution policy.
        log_group = logs.LogGroup(self, "Logs", retention=profile.log_retention,
                                  removal_policy=profile.removal_policy, encryption_key=encryption_key)
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Looks up the CloudFront origin-facing prefix list id at deploy time")
        log_group.grant_write(role)
        call = cr.AwsSdkCall(
            service="EC2", action="describeManagedPrefixLists",
            parameters={"Filters": [{"Name": "prefix-list-name", "Values": [CLOUDFRONT_ORIGIN_FACING]}]},
            physical_resource_id=cr.PhysicalResourceId.of(CLOUDFRONT_ORIGIN_FACING),
            output_paths=["PrefixLists.0.PrefixListId"])
        self.lookup = cr.AwsCustomResource(
            self, "Lookup", on_create=call, on_update=call, install_latest_aws_sdk=False,
            role=role, log_group=log_group, memory_size=256,
            policy=cr.AwsCustomResourcePolicy.from_statements([iam.PolicyStatement(
                actions=["ec2:DescribeManagedPrefixLists"], resources=["*"])]))
        acknowledge(self.lookup, "AwsSolutions-IAM5[Resource::*]",
                    "ec2:DescribeManagedPrefixLists has no resource-level permissions; the call only reads "
                    "the AWS-managed CloudFront prefix list.")
        # CDK's provider function for every AwsCustomResource in the stack (a singleton).
        handler = Stack.of(self).node.try_find_child(_SINGLETON)
        if handler is not None:
            _acknowledge_provider(handler)
        self.prefix_list_id = self.lookup.get_response_field("PrefixLists.0.PrefixListId")


# AwsCustomResource's singleton function id (fixed in aws-cdk-lib).
_SINGLETON = "AWS679f53fac002430cb0da5b7982bd2287"


def _acknowledge_provider(handler: Construct) -> None:
    cfn = handler.node.default_child
    deploy_time = ("Runs only while CloudFormation deploys the stack, invoked synchronously by it; it calls one "
                   "read-only EC2 API")
    acknowledge(cfn, "PCI.DSS.321-LambdaInsideVPC", deploy_time + " on the public AWS endpoint, no VPC resource.")
    acknowledge(cfn, "Serverless-LambdaDLQ", deploy_time + "; CloudFormation reports a failure itself.")
    acknowledge(cfn, "Serverless-LambdaTracing", deploy_time + "; its log group records each call.")
    skip_checkov(cfn, "CKV_AWS_116", deploy_time + "; CloudFormation reports a failure itself.")
    skip_checkov(cfn, "CKV_AWS_117", deploy_time + " on the public AWS endpoint, no VPC resource.")
    skip_checkov(cfn, "CKV_AWS_115", deploy_time + "; reserving concurrency would take it from the account pool.")
