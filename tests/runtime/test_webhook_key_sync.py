"""The consent webhook's API key reaches the EventBridge connection after the operator puts
it in the secret, once per version (moto's EventBridge keeps the connection's auth params)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from headless_commerce.runtime.common import aws
from headless_commerce.runtime.consents import webhook_key_sync
from headless_commerce.runtime.consents.webhook_key_sync import SYNCED_LABEL, handler, sync

HEADER = "x-api-key"


@pytest.fixture
def webhook(monkeypatch):
    with mock_aws():
        aws.reset_clients()
        # What the stack deploys: a generated placeholder the connection was created with.
        arn = aws.secretsmanager().create_secret(Name="consent-webhook", SecretString="generated-placeholder")["ARN"]
        aws.eventbridge().create_connection(
            Name="consent-webhook", AuthorizationType="API_KEY",
            AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": HEADER, "ApiKeyValue": "generated-placeholder"}})
        monkeypatch.setenv("CONNECTION_NAME", "consent-webhook")
        monkeypatch.setenv("CONNECTION_SECRET_ARN", arn)
        monkeypatch.setenv("API_KEY_HEADER", HEADER)
        yield arn
        aws.reset_clients()


def connection_key() -> str:
    """The key EventBridge holds for the connection (the API never returns it; moto's store)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.events.models import events_backends

    connection = events_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].connections["consent-webhook"]
    return connection.auth_parameters["ApiKeyAuthParameters"]["ApiKeyValue"]


def synced_version(arn: str) -> str | None:
    stages = aws.secretsmanager().describe_secret(SecretId=arn)["VersionIdsToStages"]
    return next((v for v, labels in stages.items() if SYNCED_LABEL in labels), None)


def test_operator_key_reaches_the_connection_once_per_version(webhook):
    assert handler({})["updated"] is True        # first run adopts the deployed value
    assert handler({})["updated"] is False        # nothing changed: no UpdateConnection
    aws.secretsmanager().put_secret_value(SecretId=webhook, SecretString="real-key-from-the-cms")
    result = handler({"detail-type": "AWS API Call via CloudTrail"})
    assert result["updated"] is True and connection_key() == "real-key-from-the-cms"
    assert synced_version(webhook) == result["version"]
    aws.secretsmanager().put_secret_value(SecretId=webhook, SecretString="rolled-key")
    assert handler({})["updated"] is True and connection_key() == "rolled-key"
    assert handler({})["updated"] is False


def test_failed_update_is_retried_on_the_next_run(webhook, monkeypatch):
    aws.secretsmanager().put_secret_value(SecretId=webhook, SecretString="real-key")
    real = aws.eventbridge().update_connection

    def unavailable(**kwargs):
        raise RuntimeError("EventBridge unavailable")

    monkeypatch.setattr(aws.eventbridge(), "update_connection", unavailable)
    with pytest.raises(RuntimeError):
        sync("consent-webhook", webhook, HEADER)
    assert synced_version(webhook) is None            # not marked: the next run retries
    monkeypatch.setattr(aws.eventbridge(), "update_connection", real)
    assert sync("consent-webhook", webhook, HEADER)["updated"] is True
    assert connection_key() == "real-key"


def test_handler_reads_its_settings_from_the_environment():
    assert {webhook_key_sync.ENV_CONNECTION_NAME, webhook_key_sync.ENV_SECRET_ARN,
            webhook_key_sync.ENV_API_KEY_HEADER} == {"CONNECTION_NAME", "CONNECTION_SECRET_ARN", "API_KEY_HEADER"}
