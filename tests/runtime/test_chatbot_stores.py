"""The chatbot's FindStore: answered by the location service GET /stores uses (same stores, same
order), through the fulfillment Lambda with Lex V2-shaped events and through local mode's
matcher over POST /chat; an unknown place, no store nearby, a Location outage and a chatbot
deployed without Location are polite replies, never a failed intent."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headless_commerce.runtime.chatbot import answers, fulfillment, intents
from headless_commerce.runtime.chatbot.local_provider import lex_event
from headless_commerce.runtime.common.domain_errors import LocationUnavailable
from headless_commerce.runtime.location import provider as location_provider
from tests.runtime.conftest import call
from tests.runtime.test_chatbot import local_bot  # noqa: F401 - fixture used by a scenario
from tests.runtime.test_location_stores import location_table, seeded  # noqa: F401 - fixtures used here


@pytest.fixture
def located(seeded):
    """Berlin's and New York's test stores behind the local provider (the gazetteer's places)."""
    yield location_provider.get_provider()
    # create_location_table sets the name for the process: later scenarios run without Location.
    os.environ.pop("LOCATION_TABLE_NAME", None)


def fulfill(location: str) -> dict:
    event = lex_event(session_id="a-" + "2" * 48, text=f"stores near {location}", intent="FindStore",
                      slots={"Location": location}, confidence=1.0, request_attributes={})
    return fulfillment.handler(event)


def content(response: dict) -> str:
    [message] = response["messages"]
    assert message["contentType"] == "PlainText"
    return message["content"]


def test_find_store_lists_the_same_stores_as_get_stores_nearest_first(located):
    response = fulfill("Berlin")
    intent = response["sessionState"]["intent"]
    assert (intent["name"], intent["state"]) == ("FindStore", "Fulfilled")
    text = content(response)
    api = call("GET", "/stores", query={"q": "Berlin", "limit": str(answers.STORE_RESULTS)})
    assert api.status == 200
    names = [item["name"] for item in api.body["items"]]
    assert names == ["Mitte", "Charlottenburg"]           # Potsdam is beyond the default 25 km
    assert text.startswith("Stores near Berlin, nearest first: ")
    assert text.index("Mitte, Alexanderplatz 1, 10178 Berlin (") < text.index("Charlottenburg, Ku'damm 10")
    assert "Potsdam" not in text and "Fifth Avenue" not in text
    # The distances are GET /stores' own, rounded for reading.
    mitte, charlottenburg = (item["distance_km"] for item in api.body["items"])
    assert mitte < 1 and f"({mitte * 1000:.0f} m)" in text
    assert f"({charlottenburg:.1f} km)" in text


def test_a_postcode_finds_the_stores_of_its_place(located):
    assert content(fulfill("10115")).startswith("Stores near Berlin, nearest first: Mitte")


def test_an_unknown_place_is_a_helpful_reply(located):
    response = fulfill("Atlantis")
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    assert content(response) == answers.UNKNOWN_PLACE.format(location="Atlantis")
    assert "postcode" in content(response)


def test_near_me_asks_for_a_place_instead_of_guessing(located, local_bot):
    for words in ("me", "Here!", "my  location"):
        assert content(fulfill(words)) == answers.NEAR_YOU
    reply = call("POST", "/chat", body={"text": "find a store near me"})
    assert [m["text"] for m in reply.body["messages"]] == [answers.NEAR_YOU]


def test_a_place_without_a_store_nearby_says_so(located):
    assert content(fulfill("York")) == answers.NO_STORES.format(radius=25, place="York")


def test_location_unavailable_is_a_try_again_later_reply_not_a_failure(located, monkeypatch):
    def outage(text):
        raise LocationUnavailable()

    monkeypatch.setattr(located, "geocode", outage)
    response = fulfill("Berlin")
    assert response["sessionState"]["intent"]["state"] == "Fulfilled"
    assert content(response) == answers.STORES_UNAVAILABLE
    assert "try again later" in content(response)


def test_without_location_deployed_the_bot_says_the_locator_is_unavailable(table, monkeypatch):
    monkeypatch.delenv("LOCATION_TABLE_NAME", raising=False)
    assert content(fulfill("Berlin")) == answers.STORES_UNAVAILABLE


def test_the_local_matcher_fills_the_slot_and_asks_for_a_missing_one(local_bot, located):
    def say(text: str, session_id: str | None = None):
        reply = call("POST", "/chat", body={"text": text, **({"session_id": session_id} if session_id else {})})
        assert reply.status == 200, reply.body
        return reply.body["session_id"], [m["text"] for m in reply.body["messages"]]

    _, direct = say("find a store near Berlin")
    assert direct[0].startswith("Stores near Berlin, nearest first: Mitte")
    session, asked = say("where is your nearest store")
    assert asked == [intents.intent("FindStore").slots[0].prompt]
    _, answered = say("NYC", session)
    assert answered[0].startswith("Stores near New York, nearest first: Fifth Avenue, 350 5th Ave, 10118 New York")


# Whatever the shopper typed as the place (controls, bidi marks, lone surrogates, past the
# locator's 200 characters) is a reply, never a failed intent or an exception.
_PLACE = st.one_of(
    st.text(max_size=30),
    st.text(min_size=190, max_size=260),
    st.lists(st.sampled_from(["Berlin", " ", "\x00", "\u202e", "\ud800", "\ufeff", "10115", "\U0001F600",
                              "\u0085", "York", "%", "'"]), min_size=1, max_size=12).map("".join),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(place=_PLACE)
def test_any_place_text_gets_a_polite_reply(located, place):
    response = fulfill(place)
    assert response["sessionState"]["intent"]["state"] == "Fulfilled", response
    text = content(response)
    assert text and len(text) < 600
    assert text.startswith(("Stores near ", "I found no stores within", "I could not find a place",
                            "I cannot see where you are")) \
        or text == intents.FALLBACK, text
