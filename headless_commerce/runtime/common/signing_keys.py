"""HMAC signing keys kept in Secrets Manager (a plain-string secret), or given directly in the
environment by local mode; cached by Powertools so a warm function reads the secret rarely."""

from __future__ import annotations

SECRET_MAX_AGE_S = 300
MIN_KEY_LENGTH = 32


def signing_key(*, key: str | None, secret_arn: str | None, what: str, arn_variable: str) -> bytes:
    """`key` when set (local mode), else the secret `secret_arn` names; at least 32 characters."""
    if key is None:
        if secret_arn is None:
            raise RuntimeError(f"no {what} key: set {arn_variable}")
        from aws_lambda_powertools.utilities.parameters import get_secret

        key = get_secret(secret_arn, max_age=SECRET_MAX_AGE_S)
    if not key or len(key) < MIN_KEY_LENGTH:
        raise RuntimeError(f"the {what} key must be at least {MIN_KEY_LENGTH} characters")
    return key.encode("utf-8")
