"""Buckets that AWS services deliver access logs into (load balancers, CloudFront, S3)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ..config import Profile
from ._checkov import skip_checkov
from ._nag import acknowledge


def log_bucket(scope: Construct, id: str, *, profile: Profile, what: str,
               object_ownership: s3.ObjectOwnership = s3.ObjectOwnership.BUCKET_OWNER_ENFORCED) -> s3.Bucket:
    """A bucket for service-delivered access logs: S3-managed keys (ALB and CloudFront standard
    logs cannot write with KMS keys), TLS only, no public access, expiring with log retention.

    Retained in every profile: logs are audit evidence, and a non-empty bucket would fail the
    stack deletion in dev anyway.
    """
    bucket = s3.Bucket(scope, id, encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
                       block_public_access=s3.BlockPublicAccess.BLOCK_ALL, object_ownership=object_ownership,
                       versioned=True, removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
                       lifecycle_rules=[s3.LifecycleRule(
                           expiration=Duration.days(365 if profile.is_production else 30),
                           noncurrent_version_expiration=Duration.days(7),
                           abort_incomplete_multipart_upload_after=Duration.days(1))])
    acknowledge(bucket, "AwsSolutions-S1", f"This bucket receives {what}; logging its own access would "
                "write a log record for every delivered log object, forever.")
    acknowledge(bucket, "PCI.DSS.321-S3BucketLoggingEnabled", f"This bucket receives {what}; it is the log "
                "destination, so it does not log into itself.")
    sse_s3 = (f"{what} are delivered only to buckets with S3-managed encryption (SSE-S3); a KMS key would "
              "make delivery fail.")
    acknowledge(bucket, "PCI.DSS.321-S3DefaultEncryptionKMS", sse_s3)
    acknowledge(bucket, "PCI.DSS.321-S3BucketReplicationEnabled",
                "Access logs are kept for their retention in one region; replicating them would double "
                "storage for records that are also summarized in CloudWatch metrics.")
    cfn = bucket.node.default_child
    skip_checkov(cfn, "CKV_AWS_18", f"This bucket receives {what}; it does not log into itself.")
    skip_checkov(cfn, "CKV_AWS_145", sse_s3)
    return bucket
