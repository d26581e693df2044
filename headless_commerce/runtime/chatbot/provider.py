"""The interface both bots implement, and the process-wide provider.

The Lex provider runs in AWS; the local provider (the intent matcher plus the same fulfillment
function) runs in local mode and tests. The chat service only sees this interface.
"""

from __future__ import annotations

from typing import Protocol

from headless_commerce.runtime import settings
from headless_commerce.runtime.common.provider_slot import ProviderSlot


class ChatProvider(Protocol):
    def recognize_text(self, *, session_id: str, text: str, request_attributes: dict[str, str]) -> list[str]:
        """One turn of the conversation `session_id`: the bot's reply messages, in order.
        Raises ChatUnavailable when the bot cannot answer now."""
        ...


def _build() -> ChatProvider:
    if settings.chat_provider() == "local":
        from headless_commerce.runtime.chatbot.local_provider import LocalBot

        return LocalBot()
    from headless_commerce.runtime.chatbot.lex_provider import LexProvider

    return LexProvider.from_environment()


_slot: ProviderSlot[ChatProvider] = ProviderSlot(_build)
# Local mode and tests install their provider (None forgets it); otherwise the first use builds
# the one the environment names.
set_provider = _slot.set
get_provider = _slot.get
