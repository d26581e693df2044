"""Local mode's bot: the intent matcher (runtime/chatbot/matcher.py) plays Lex's part, asking
for missing slots with the prompts the Lex bot uses, and fulfillment goes to the same code-hook
function the bot alias invokes in AWS, with a Lex V2-shaped event.

Sessions live in memory and expire after the bot's idle time, as Lex's do.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from headless_commerce.runtime.chatbot import fulfillment, intents, matcher

IDLE_SESSION_TTL_S = 600
MAX_SESSIONS = 10_000


@dataclass
class _Session:
    intent: str | None = None
    slots: dict[str, str] = field(default_factory=dict)
    slot_to_elicit: str | None = None
    touched: float = 0.0


def _slot(value: str) -> dict:
    return {"shape": "Scalar", "value": {"originalValue": value, "interpretedValue": value, "resolvedValues": [value]}}


def lex_event(*, session_id: str, text: str, intent: str, slots: dict[str, str], confidence: float,
              request_attributes: dict[str, str]) -> dict:
    """A FulfillmentCodeHook event as Lex V2 sends it (messageVersion 1.0, text input)."""
    names = intents.slot_names().get(intent, ())
    lex_intent = {"name": intent, "slots": {name: _slot(slots[name]) if name in slots else None for name in names},
                  "state": "ReadyForFulfillment", "confirmationState": "None"}
    return {
        "messageVersion": "1.0",
        "invocationSource": "FulfillmentCodeHook",
        "inputMode": "Text",
        "responseContentType": "text/plain; charset=utf-8",
        "sessionId": session_id,
        "inputTranscript": text,
        "bot": {"id": "LOCALBOT", "name": "local", "aliasId": "TSTALIASID", "aliasName": "local",
                "localeId": intents.LOCALE_ID, "version": "DRAFT"},
        "interpretations": [{"intent": lex_intent, "nluConfidence": confidence, "interpretationSource": "Lex"}],
        "proposedNextState": None,
        "requestAttributes": dict(request_attributes),
        "sessionState": {"sessionAttributes": {}, "activeContexts": [], "intent": lex_intent,
                         "originatingRequestId": "local"},
        "transcriptions": [],
    }


class LocalBot:
    def __init__(self, *, idle_ttl_s: float = IDLE_SESSION_TTL_S, max_sessions: int = MAX_SESSIONS,
                 clock=time.monotonic) -> None:
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()
        self._idle_ttl_s = idle_ttl_s
        self._max_sessions = max_sessions
        self._clock = clock

    def _session(self, session_id: str) -> _Session:
        now = self._clock()
        with self._lock:
            session = self._sessions.pop(session_id, None)
            if session is None or now - session.touched > self._idle_ttl_s:
                session = _Session()
            session.touched = now
            self._sessions[session_id] = session
            while len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)
            return session

    def recognize_text(self, *, session_id: str, text: str, request_attributes: dict[str, str]) -> list[str]:
        session = self._session(session_id)
        heard = matcher.interpret(text)
        if session.slot_to_elicit and not (heard.confidence == 1.0 and heard.intent != intents.FALLBACK_INTENT
                                           and heard.intent != session.intent):
            # The answer to the bot's question, unless the shopper clearly asked something else.
            value = matcher.clean(text)
            heard = matcher.Interpretation(session.intent, {**session.slots, session.slot_to_elicit: value}) \
                if value else matcher.Interpretation(session.intent, dict(session.slots))
        missing = matcher.missing_slot(heard)
        if missing is not None:
            session.intent, session.slots, session.slot_to_elicit = heard.intent, dict(heard.slots), missing.name
            return [missing.prompt]
        session.intent, session.slots, session.slot_to_elicit = None, {}, None
        response = fulfillment.handler(lex_event(
            session_id=session_id, text=text, intent=heard.intent, slots=heard.slots,
            confidence=heard.confidence, request_attributes=request_attributes))
        return [m["content"] for m in response.get("messages") or () if m.get("contentType") == "PlainText"]
