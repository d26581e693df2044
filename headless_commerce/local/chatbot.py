"""The chatbot in local mode: no Lex runs here, so POST /chat is answered by the local bot
(the intent matcher over the bot's own intent definitions, fulfilled by the same code-hook
function), with anonymous session ids signed by a key made for this run."""

from __future__ import annotations

import os
import secrets

from headless_commerce.runtime import settings
from headless_commerce.runtime.chatbot import provider
from headless_commerce.runtime.chatbot.local_provider import LocalBot


def install() -> LocalBot:
    os.environ[settings.CHAT_PROVIDER] = "local"
    # Conversations are in memory, so a new key per run loses nothing a restart would not.
    if not settings.chat_session_key():
        os.environ[settings.CHAT_SESSION_KEY] = secrets.token_urlsafe(32)
    bot = LocalBot()
    provider.set_provider(bot)
    return bot
