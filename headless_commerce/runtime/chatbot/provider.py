"""The interface both bots implement, and the process-wide provider.

The Lex provider runs in AWS; the local provider (the intent matcher plus the same fulfillment
function) runs in local mode and tests. The chat service only sees this interface.
"""

from __future__ import annotations

import threading
from typing import Protocol

from headless_commerce.runtime import settings


class ChatProvider(Protocol):
    def recognize_text(self, *, session_id: str, text: str, request_attributes: dict[str, str]) -> list[str]:
        """One turn of the conversation `session_id`: the bot's reply messages, in order.
        Raises ChatUnavailable when the bot cannot answer now."""
        ...


_lock = threading.Lock()
_provider: ChatProvider | None = None


def set_provider(provider: ChatProvider | None) -> None:
    """Local mode and tests install their provider; None forgets it."""
    global _provider
    with _lock:
        _provider = provider


def get_provider() -> ChatProvider:
    """The installed provider, or one built from the environment (lazily, once)."""
    global _provider
    with _lock:
        if _provider is None:
            if settings.chat_provider() == "local":
                from headless_commerce.runtime.chatbot.local_provider import LocalBot

                _provider = LocalBot()
            else:
                from headless_commerce.runtime.chatbot.lex_provider import LexProvider

                _provider = LexProvider.from_environment()
        return _provider
