"""The chatbot's one definition of intents, sample utterances and slots.

The Chatbot construct builds the Lex V2 bot locale from it, and local mode's intent matcher
(runtime/chatbot/matcher.py) matches against the same utterances, so the bot in AWS and the one
on a laptop know the same intents and fill the same slots. Pure data and the standard library:
CDK imports it without boto3.

An utterance names a slot as `{SlotName}`, as Lex does. Each slot type keeps whatever the
shopper typed (Lex's ORIGINAL_VALUE resolution): the sample values only teach the model what a
value looks like, they are not a closed list.
"""

from __future__ import annotations

from dataclasses import dataclass

LOCALE_ID = "en_US"
# Below this NLU confidence Lex (and the local matcher) answers with the fallback intent.
NLU_CONFIDENCE_THRESHOLD = 0.40
# Lex V2 accepts at most 1024 characters of text per turn.
MAX_TEXT_LENGTH = 1024
FALLBACK_INTENT = "FallbackIntent"


@dataclass(frozen=True)
class SlotType:
    name: str
    description: str
    sample_values: tuple[str, ...]


@dataclass(frozen=True)
class Slot:
    name: str
    slot_type: str
    # What the bot asks when the shopper named the intent but not this value.
    prompt: str


@dataclass(frozen=True)
class Intent:
    name: str
    description: str
    utterances: tuple[str, ...]
    slots: tuple[Slot, ...] = ()


SLOT_TYPES: tuple[SlotType, ...] = (
    SlotType("OrderIdType", "An order number as shown in the order confirmation",
             ("0f8fad5bd9cb469fa16570867728950e", "7c9e6679742540de944be07fc1f90ae7", "A1B2C3D4")),
    SlotType("ProductQueryType", "Words describing a product",
             ("running shoes", "red dress", "wireless headphones", "coffee mug", "backpack")),
    SlotType("StoreLocationType", "A city or a postcode",
             ("Seattle", "New York", "London", "98101", "SW1A 1AA", "10115")),
)

INTENTS: tuple[Intent, ...] = (
    Intent("Greeting", "Hello and what the assistant can do",
           ("hello", "hi", "hey", "good morning", "good afternoon", "good evening", "hi there",
            "what can you do", "help")),
    Intent("CheckOrderStatus", "The status of one of the signed-in shopper's orders",
           ("where is my order", "where is my order {OrderId}", "order status",
            "order status {OrderId}", "what is the status of my order",
            "what is the status of order {OrderId}", "track my order", "track order {OrderId}",
            "check my order", "check order {OrderId}", "has my order shipped",
            "has order {OrderId} shipped", "my order number is {OrderId}"),
           (Slot("OrderId", "OrderIdType", "What is your order number? You find it in your order confirmation."),)),
    Intent("FindProduct", "Products matching what the shopper describes",
           ("find {Query}", "find me {Query}", "search for {Query}", "i am looking for {Query}",
            "i'm looking for {Query}", "do you have {Query}", "do you sell {Query}", "show me {Query}",
            "i want to buy {Query}", "i need {Query}", "find a product", "search products",
            "i am looking for something"),
           (Slot("Query", "ProductQueryType", "What are you looking for?"),)),
    Intent("FindStore", "Stores near a city or a postcode",
           ("find a store", "find a store near {Location}", "stores near {Location}",
            "store near {Location}", "where is your nearest store", "is there a store in {Location}",
            "shops in {Location}", "nearest store to {Location}", "store locator",
            "where can i find a store"),
           (Slot("Location", "StoreLocationType", "Which city or postcode should I look near?"),)),
)

# Answers that need no lookup; fulfillment (runtime/chatbot/service.py) writes the others.
GREETING = ("Hello! I can check the status of your orders, find products and find a store near "
            "you. What would you like to do?")
FALLBACK = ("Sorry, I did not understand that. I can check an order's status, find products or "
            "find a store near you.")


def intent(name: str) -> Intent:
    for item in INTENTS:
        if item.name == name:
            return item
    raise KeyError(name)


def slot_names() -> dict[str, tuple[str, ...]]:
    return {item.name: tuple(s.name for s in item.slots) for item in INTENTS}
