"""Sign-up, confirmation, sign-in and sign-out against Cognito, from the server.

Flow: USER_PASSWORD_AUTH on the public storefront app client (`USER_POOL_CLIENT_ID`, no
secret), called by the BFF over TLS; the browser only ever holds the session cookie, never a
token. Refreshes use REFRESH_TOKEN_AUTH. Calls are blocking boto3: run them in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from dataclasses import dataclass

from headless_commerce.runtime.storefront import aws

# Cognito's error codes, as messages a shopper can act on (never the raw exception).
_MESSAGES = {
    "UsernameExistsException": ("email", "An account with this email already exists. Sign in instead."),
    "InvalidPasswordException": ("password", "The password does not meet the rules: at least 12 "
                                 "characters with upper and lower case letters, a number and a symbol."),
    "InvalidParameterException": (None, "Please check the email address and password."),
    "NotAuthorizedException": (None, "The email or password is not correct."),
    "UserNotFoundException": (None, "The email or password is not correct."),
    "UserNotConfirmedException": ("code", "Confirm your email address with the code we sent you."),
    "CodeMismatchException": ("code", "That confirmation code is not correct."),
    "ExpiredCodeException": ("code", "That confirmation code has expired; request a new one."),
    "TooManyRequestsException": (None, "Too many attempts. Please wait a moment and try again."),
    "LimitExceededException": (None, "Too many attempts. Please wait a moment and try again."),
}


class IdentityError(Exception):
    def __init__(self, code: str) -> None:
        self.code = code
        self.field, self.message = _MESSAGES.get(code, (None, "Sign-in is not available right now."))
        super().__init__(code)


@dataclass
class Tokens:
    id_token: str
    refresh_token: str | None
    access_token: str | None

    @property
    def subject(self) -> str | None:
        """The customer's id (`sub`) in the ID token. Read, not verified: the token came from
        Cognito itself over TLS in this very exchange, and the API verifies what it is sent."""
        try:
            payload = self.id_token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError, binascii.Error):
            return None
        sub = claims.get("sub") if isinstance(claims, dict) else None
        return sub if isinstance(sub, str) else None


class Identity:
    def __init__(self, client_id: str | None) -> None:
        self.client_id = client_id
        self._client = None

    @property
    def available(self) -> bool:
        return bool(self.client_id)

    def _cognito(self):
        if self._client is None:
            self._client = aws.client("cognito-idp")
        return self._client

    def _call(self, operation: str, **kwargs) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        if not self.client_id:
            raise IdentityError("NotConfigured")
        try:
            return getattr(self._cognito(), operation)(ClientId=self.client_id, **kwargs)
        except ClientError as error:
            raise IdentityError(error.response.get("Error", {}).get("Code", "Unknown")) from None
        except BotoCoreError as error:
            raise IdentityError(type(error).__name__) from None

    def sign_up(self, email: str, password: str) -> bool:
        """True when the account is confirmed already (a pool with auto-confirmation)."""
        reply = self._call("sign_up", Username=email, Password=password,
                           UserAttributes=[{"Name": "email", "Value": email}])
        return bool(reply.get("UserConfirmed"))

    def confirm(self, email: str, code: str) -> None:
        self._call("confirm_sign_up", Username=email, ConfirmationCode=code)

    def sign_in(self, email: str, password: str) -> Tokens:
        reply = self._call("initiate_auth", AuthFlow="USER_PASSWORD_AUTH",
                           AuthParameters={"USERNAME": email, "PASSWORD": password})
        result = reply.get("AuthenticationResult")
        if not result:   # a challenge (new password, MFA) the storefront does not handle
            raise IdentityError("ChallengeRequired")
        return Tokens(result["IdToken"], result.get("RefreshToken"), result.get("AccessToken"))

    def refresh(self, refresh_token: str) -> Tokens:
        reply = self._call("initiate_auth", AuthFlow="REFRESH_TOKEN_AUTH",
                           AuthParameters={"REFRESH_TOKEN": refresh_token})
        result = reply.get("AuthenticationResult") or {}
        if "IdToken" not in result:
            raise IdentityError("NotAuthorizedException")
        return Tokens(result["IdToken"], refresh_token, result.get("AccessToken"))

    def sign_out(self, refresh_token: str | None) -> None:
        """Revoke the refresh token, so a stolen copy stops working too."""
        if refresh_token:
            with contextlib.suppress(IdentityError):   # signing out locally still happens
                self._call("revoke_token", Token=refresh_token)
