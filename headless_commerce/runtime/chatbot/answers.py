"""What the chatbot answers for each intent: business steps over the same services the REST
API uses (orders, search, stores), so the bot never has rules of its own about who sees what.

Called by the Lex fulfillment function (runtime/chatbot/fulfillment.py) in AWS and, through the
same function, by local mode's bot. Every answer is a plain sentence; a lookup that fails
becomes a polite sentence too, never an error for the shopper to read.
"""

from __future__ import annotations

import re

from headless_commerce import model
from headless_commerce.runtime.chatbot import intents, stores
from headless_commerce.runtime.common.domain_errors import InvalidSearch, NotFound, SearchUnavailable
from headless_commerce.runtime.orders import service as orders
from headless_commerce.runtime.routes import PATH_PARAM_PATTERN
from headless_commerce.runtime.search import provider as search_provider
from headless_commerce.runtime.search import service as search

PRODUCT_RESULTS = 3
STORE_RESULTS = 3
_ORDER_ID = re.compile(PATH_PARAM_PATTERN)
_STATUS_WORDS = {
    model.OrderStatus.PENDING_PAYMENT: "waiting for the payment to be confirmed",
    model.OrderStatus.CONFIRMED: "confirmed and being prepared",
    model.OrderStatus.PAYMENT_FAILED: "not placed because the payment failed",
    model.OrderStatus.ACCEPTED_BY_OMS: "accepted by our warehouse",
    model.OrderStatus.PICKED: "packed and waiting for the carrier",
    model.OrderStatus.SHIPPED: "on its way",
    model.OrderStatus.OUT_FOR_DELIVERY: "out for delivery with our courier",
    model.OrderStatus.ARRIVING: "arriving: the courier is nearly there",
    model.OrderStatus.DELIVERED: "delivered",
    model.OrderStatus.CANCELLED: "cancelled",
}
SIGN_IN_FOR_ORDERS = "Please sign in first, then I can look up your orders."
ORDER_NOT_FOUND = ("I could not find an order {order_id} in your account. Please check the order "
                   "number in your confirmation e-mail.")
SEARCH_UNAVAILABLE = "Product search is not available right now; please try again in a moment."
NO_PRODUCTS = "I found no products matching \u201c{query}\u201d. Try other words?"
NO_STORES = "I found no stores within {radius:g} km of {place}. Try a bigger city nearby?"
UNKNOWN_PLACE = ("I could not find a place called \u201c{location}\u201d. Please give a city name or a "
                 "postcode, such as \u201cBerlin\u201d or \u201c10115\u201d.")
STORES_UNAVAILABLE = "The store locator is not available right now; please try again later."
NEAR_YOU = ("I cannot see where you are. Tell me a city or a postcode, or use \u201cUse my location\u201d on "
            "the store locator page.")
# "near me" fills the Location slot with words that name no place: the bot has no position.
_HERE = frozenset({"me", "here", "my location", "my position", "my area", "where i am", "you", "my place"})
# Intents with an answer of their own (the metric dimension; anything else is the fallback).
ANSWERED_INTENTS = frozenset(item.name for item in intents.INTENTS) | {intents.FALLBACK_INTENT}


def _price(price: dict) -> str:
    return f"{price['amount'] / 100:.2f} {price['currency']}"


def greeting() -> str:
    return intents.GREETING


def fallback() -> str:
    return intents.FALLBACK


def order_status(customer: str | None, order_id: str) -> str:
    """Only the signed-in customer's own orders; anyone else's reads as not found."""
    if customer is None:
        return SIGN_IN_FOR_ORDERS
    order_id = order_id.strip().strip("#").strip()
    # The format check keeps free text out of the key; a wrong number is just not found.
    if not _ORDER_ID.fullmatch(order_id):
        return ORDER_NOT_FOUND.format(order_id=order_id[:64])
    try:
        order = orders.get_order(customer, order_id)
    except NotFound:
        return ORDER_NOT_FOUND.format(order_id=order_id)
    status = _STATUS_WORDS.get(order["status"], order["status"].replace("_", " ").lower())
    return (f"Order {order['order_id']} ({_price(order['total'])}, placed {order['created_at'][:10]}) "
            f"is {status}.")


def find_product(query: str) -> str:
    if not search_provider.available():
        return SEARCH_UNAVAILABLE
    try:
        page = search.search({"q": query, "limit": str(PRODUCT_RESULTS)})
    except SearchUnavailable:
        return SEARCH_UNAVAILABLE
    except InvalidSearch:
        return NO_PRODUCTS.format(query=query[:100])
    items = page["items"]
    if not items:
        return NO_PRODUCTS.format(query=query[:100])
    listed = "; ".join(f"{item['name']} ({_price(item['price'])}"
                       f"{'' if item.get('in_stock') else ', out of stock'})" for item in items)
    return f"I found {page['total']} matching \u201c{query[:100]}\u201d: {listed}."


def _distance(km: float) -> str:
    return f"{km * 1000:.0f} m" if km < 1 else f"{km:.1f} km"


def find_store(location: str) -> str:
    if " ".join(location.casefold().split()).strip(".!?") in _HERE:
        return NEAR_YOU
    try:
        found = stores.find(location, STORE_RESULTS)
    except stores.StoresUnavailable:
        return STORES_UNAVAILABLE
    except stores.PlaceNotFound:
        return UNKNOWN_PLACE.format(location=" ".join(location.split())[:100])
    if not found.stores:
        return NO_STORES.format(radius=found.radius_km, place=found.place[:100])
    listed = "; ".join(f"{store.name}, {store.address} ({_distance(store.distance_km)})" for store in found.stores)
    return f"Stores near {found.place[:100]}, nearest first: {listed}."


def answer(intent: str, slots: dict[str, str], customer: str | None) -> str:
    """The reply for a fulfilled intent with its slots filled."""
    if intent == "Greeting":
        return greeting()
    if intent == "CheckOrderStatus" and slots.get("OrderId"):
        return order_status(customer, slots["OrderId"])
    if intent == "FindProduct" and slots.get("Query"):
        return find_product(slots["Query"])
    if intent == "FindStore" and slots.get("Location"):
        return find_store(slots["Location"])
    return fallback()
