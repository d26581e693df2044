"""Amazon Lex V2 as the chat provider: one RecognizeText call per turn.

The session id and the request attributes come from runtime/chatbot/sessions.py, never from
the client. Any failure to get an answer (throttling, Lex or the code hook failing, a timeout)
is ChatUnavailable, a 503 for this route only; text Lex refuses is the caller's 400.
"""

from __future__ import annotations

from headless_commerce.runtime import settings
from headless_commerce.runtime.chatbot import intents
from headless_commerce.runtime.common import aws
from headless_commerce.runtime.common.domain_errors import ChatUnavailable, InvalidChatText
from headless_commerce.runtime.common.logging import logger

DEFAULT_TIMEOUT_MS = 5000
# Lex refuses the request itself: the text (or something derived from it) is not acceptable.
_REFUSED = frozenset({"ValidationException", "BadRequestException"})


def _timeout_s() -> float:
    raw = settings.lex_timeout_ms()
    try:
        millis = int(raw) if raw else DEFAULT_TIMEOUT_MS
    except ValueError:
        millis = DEFAULT_TIMEOUT_MS
    return min(max(millis, 100), 25_000) / 1000


def runtime_client():
    # One attempt with short timeouts: a shopper waits for this answer, and a throttled or slow
    # Lex is a 503 for the chat route only, which the client may retry.
    return aws.fail_fast_client("lexv2-runtime", _timeout_s())


class LexProvider:
    def __init__(self, *, bot_id: str, bot_alias_id: str, locale_id: str = intents.LOCALE_ID, client=None) -> None:
        self.bot_id = bot_id
        self.bot_alias_id = bot_alias_id
        self.locale_id = locale_id
        self._client = client

    @classmethod
    def from_environment(cls) -> LexProvider:
        return cls(bot_id=settings.lex_bot_id(), bot_alias_id=settings.lex_bot_alias_id(),
                   locale_id=settings.lex_locale_id() or intents.LOCALE_ID)

    @property
    def client(self):
        if self._client is None:
            self._client = runtime_client()
        return self._client

    def recognize_text(self, *, session_id: str, text: str, request_attributes: dict[str, str]) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        request = {"botId": self.bot_id, "botAliasId": self.bot_alias_id, "localeId": self.locale_id,
                   "sessionId": session_id, "text": text}
        if request_attributes:
            request["requestAttributes"] = request_attributes
        try:
            response = self.client.recognize_text(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _REFUSED:
                raise InvalidChatText("The assistant could not read this text") from None
            logger.warning("Lex RecognizeText failed", extra={"code": code})
            raise ChatUnavailable() from None
        except BotoCoreError as error:
            logger.warning("Lex RecognizeText unreachable", extra={"error": type(error).__name__})
            raise ChatUnavailable() from None
        # Only text: our bot sends no cards or custom payloads.
        return [message["content"] for message in response.get("messages") or ()
                if message.get("contentType") == "PlainText" and message.get("content")]
