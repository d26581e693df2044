"""Copies the consent webhook's API key from its Secrets Manager secret into the EventBridge
connection that signs the webhook calls.

Why this exists: the connection reads the secret through a CloudFormation dynamic reference,
which CloudFormation resolves only when the Connection resource itself changes. When an
operator puts the real key in the secret, nothing would reach EventBridge; this function
does, calling UpdateConnection once per new secret version.

The version the connection holds is recorded on the secret itself, as the staging label
`SYNCED_LABEL`, so the function is stateless, idempotent and auditable: `describe-secret`
shows which version the webhook is using. Runs on a schedule (always works) and on the
CloudTrail event of a secret change (immediate where a trail delivers management events).

Environment: CONNECTION_NAME, CONNECTION_SECRET_ARN, API_KEY_HEADER.
"""

from __future__ import annotations

import os

from headless_commerce.runtime.common import aws

SYNCED_LABEL = "SYNCED_TO_CONNECTION"
CURRENT_LABEL = "AWSCURRENT"
ENV_CONNECTION_NAME = "CONNECTION_NAME"
ENV_SECRET_ARN = "CONNECTION_SECRET_ARN"
ENV_API_KEY_HEADER = "API_KEY_HEADER"


def sync(connection_name: str, secret_arn: str, header: str) -> dict:
    """Push the secret's current version to the connection unless it is already there."""
    secrets = aws.secretsmanager()
    stages = secrets.describe_secret(SecretId=secret_arn).get("VersionIdsToStages", {})
    current = next(v for v, labels in stages.items() if CURRENT_LABEL in labels)
    synced = next((v for v, labels in stages.items() if SYNCED_LABEL in labels), None)
    if synced == current:
        return {"updated": False, "version": current}
    key = secrets.get_secret_value(SecretId=secret_arn, VersionId=current)["SecretString"]
    aws.eventbridge().update_connection(
        Name=connection_name, AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": header, "ApiKeyValue": key}})
    # Labelled only after the connection accepted the key: a failed update is retried next run.
    move = {"RemoveFromVersionId": synced} if synced else {}
    secrets.update_secret_version_stage(SecretId=secret_arn, VersionStage=SYNCED_LABEL,
                                        MoveToVersionId=current, **move)
    from headless_commerce.runtime.common.logging import logger  # deferred: CDK imports the names above

    logger.info("connection key updated", extra={"connection": connection_name, "version": current})
    return {"updated": True, "version": current}


def handler(event: dict, context: object = None) -> dict:
    return sync(os.environ[ENV_CONNECTION_NAME], os.environ[ENV_SECRET_ARN], os.environ[ENV_API_KEY_HEADER])
