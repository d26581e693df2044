"""The Lex V2 code hook: the bot alias invokes this function to fulfill an intent.

Lex has already filled the intent's slots (it asks for missing ones itself), so this reads the
intent and its slots from the Lex V2 event (`sessionState.intent`), learns who is talking from
the request attributes our API set (runtime/chatbot/sessions.py) and closes the intent with one
plain-text message from runtime/chatbot/answers.py. Local mode's bot calls this same function
with the same event shape.
"""

from __future__ import annotations

from headless_commerce.runtime.chatbot import answers, sessions
from headless_commerce.runtime.common.logging import count, lambda_entry, logger


def slot_values(intent: dict) -> dict[str, str]:
    """Slot name -> the value as the shopper typed it (slot types keep the original value)."""
    values = {}
    slots = intent.get("slots")
    for name, slot in (slots.items() if isinstance(slots, dict) else ()):
        value = slot.get("value") if isinstance(slot, dict) else None
        if not isinstance(value, dict):
            continue
        text = value.get("interpretedValue") or value.get("originalValue")
        if isinstance(text, str) and text.strip():
            values[name] = text.strip()
    return values


def close(intent: dict, message: str, state: str = "Fulfilled") -> dict:
    return {
        "sessionState": {
            "dialogAction": {"type": "Close"},
            "intent": {"name": intent.get("name"), "slots": intent.get("slots") or {}, "state": state},
        },
        "messages": [{"contentType": "PlainText", "content": message}],
    }


def _handle(event: object, context: object = None) -> dict:
    if not isinstance(event, dict):
        raise ValueError("not a Lex V2 event")
    state = event.get("sessionState") if isinstance(event.get("sessionState"), dict) else {}
    intent = state.get("intent") if isinstance(state.get("intent"), dict) else {}
    if event.get("invocationSource") != "FulfillmentCodeHook":
        # Only fulfillment is hooked; let Lex carry on with its own dialog for anything else.
        return {"sessionState": {"dialogAction": {"type": "Delegate"}, "intent": intent}}
    customer = sessions.verified_customer(event.get("sessionId"), event.get("requestAttributes"))
    name = intent.get("name")
    try:
        message = answers.answer(name if isinstance(name, str) else "", slot_values(intent), customer)
    except Exception:
        # The shopper gets an apology in the conversation; the cause goes to the logs.
        logger.exception("chat fulfillment failed", extra={"intent": name})
        return close(intent, "Sorry, something went wrong on our side. Please try again in a moment.", "Failed")
    count(f"ChatIntent{name}" if name in answers.ANSWERED_INTENTS else "ChatIntentOther")
    return close(intent, message)


handler = lambda_entry(_handle)
