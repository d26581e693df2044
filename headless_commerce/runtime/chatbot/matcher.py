"""Local mode's stand-in for Lex's NLU: the same intents, utterances and slots
(runtime/chatbot/intents.py), matched by rules instead of a trained model.

An utterance matches when the text is the utterance with its `{Slot}` placeholders filled by
any words (case and spacing ignored; the slot keeps the shopper's own spelling). When several
do, the one with the most fixed words wins ("find a store near {Location}" over "find {Query}").
Otherwise the words the text shares with the closest utterance give a confidence, and below
intents.NLU_CONFIDENCE_THRESHOLD the fallback intent answers, as Lex's would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from headless_commerce.runtime.chatbot import intents

_PLACEHOLDER = re.compile(r"\{([A-Za-z]+)\}")
_WORD = re.compile(r"[\w']+")
# Leading and trailing punctuation around a whole turn ("Where is my order?").
_EDGE_PUNCTUATION = " \t\r\n?!.,;:\"'"


@dataclass(frozen=True)
class Interpretation:
    intent: str
    slots: dict[str, str] = field(default_factory=dict)
    confidence: float = 1.0


@dataclass(frozen=True)
class _Pattern:
    intent: str
    regex: re.Pattern
    fixed_words: frozenset[str]
    fixed_count: int


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _compile(intent: str, utterance: str) -> _Pattern:
    parts = []
    position = 0
    for placeholder in _PLACEHOLDER.finditer(utterance):
        parts.append(_literal(utterance[position:placeholder.start()]))
        parts.append(f"(?P<{placeholder.group(1)}>.+?)")
        position = placeholder.end()
    parts.append(_literal(utterance[position:]))
    fixed = _words(_PLACEHOLDER.sub(" ", utterance))
    return _Pattern(intent, re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL),
                    frozenset(fixed), len(fixed))


def _literal(text: str) -> str:
    # Each space in the utterance matches any run of whitespace in the text.
    return r"\s+".join(re.escape(word) for word in text.split(" "))


_PATTERNS: tuple[_Pattern, ...] = tuple(
    _compile(item.name, utterance) for item in intents.INTENTS for utterance in item.utterances)


def clean(text: str) -> str:
    return " ".join(text.split()).strip(_EDGE_PUNCTUATION)


def interpret(text: str) -> Interpretation:
    """The best intent for one turn, with the slots the text fills."""
    cleaned = clean(text)
    best: tuple[int, Interpretation] | None = None
    for pattern in _PATTERNS:
        found = pattern.regex.match(cleaned)
        if found is None:
            continue
        slots = {name: clean(value) for name, value in found.groupdict().items() if clean(value)}
        if len(slots) != len(found.groupdict()):
            continue
        if best is None or pattern.fixed_count > best[0]:
            best = (pattern.fixed_count, Interpretation(pattern.intent, slots, 1.0))
    if best is not None:
        return best[1]
    words = set(_words(cleaned))
    score, name = max(((len(words & p.fixed_words) / len(words | p.fixed_words), p.intent)
                       for p in _PATTERNS if p.fixed_words), default=(0.0, intents.FALLBACK_INTENT))
    if words and score >= intents.NLU_CONFIDENCE_THRESHOLD:
        return Interpretation(name, {}, round(score, 2))
    return Interpretation(intents.FALLBACK_INTENT, {}, round(1.0 - score, 2))


def missing_slot(interpretation: Interpretation) -> intents.Slot | None:
    """The first required slot the shopper has not given yet (every slot here is required)."""
    if interpretation.intent == intents.FALLBACK_INTENT:
        return None
    for slot in intents.intent(interpretation.intent).slots:
        if slot.name not in interpretation.slots:
            return slot
    return None
