"""Lambda entry point for POST /chat and POST /me/chat (errors: common/errors.py)."""

from headless_commerce.runtime.chatbot import service
from headless_commerce.runtime.common.dispatch import api_handler

handler = api_handler("chat", {
    "chat": lambda r: service.converse(r.body, None),
    "chatSignedIn": lambda r: service.converse(r.body, r.user().sub),
})
