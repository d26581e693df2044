"""A chat turn through the API: clean the text, bind the caller to their own Lex session, ask
the bot, shape the answer."""

from __future__ import annotations

import unicodedata

from headless_commerce.runtime.chatbot import intents, sessions
from headless_commerce.runtime.chatbot.provider import get_provider
from headless_commerce.runtime.common.domain_errors import InvalidChatText


def clean_text(text: str) -> str:
    """Control and format characters become spaces (Lex reads words, and a stray NUL or
    direction mark must not reach it); whitespace collapses; nothing left is refused."""
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Cs") else c for c in text)
    text = " ".join(text.split())
    if not text:
        raise InvalidChatText("text must contain words")
    if len(text) > intents.MAX_TEXT_LENGTH:
        raise InvalidChatText(f"text must be at most {intents.MAX_TEXT_LENGTH} characters")
    return text


def converse(body: dict, sub: str | None) -> dict:
    """One turn. `sub` is the verified caller (None: anonymous, continuing the conversation
    `body["session_id"]` names if this API issued it)."""
    text = clean_text(body["text"])
    session_id, token, attributes = sessions.bind(sub, body.get("session_id") if sub is None else None)
    messages = get_provider().recognize_text(session_id=session_id, text=text, request_attributes=attributes)
    return {"messages": [{"type": "text", "text": message} for message in messages], "session_id": token}
