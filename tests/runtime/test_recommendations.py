"""GET /recommendations and the OrderPlaced consumer behind its fallback ranking, on moto:
ranking correctness on a seeded order history, exactly-once counting, bounded reads, bad input,
and Personalize (stubbed with botocore's Stubber) serving, failing, throttling and timing out."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from headless_commerce.runtime.common import aws
from headless_commerce.runtime.recommendations import personalize, signals
from tests.runtime.conftest import call, example_event, sqs_event

SIGNALS_TABLE = "recommendation-signals-test"     # conftest's `table` fixture creates it
ARN = "arn:aws:personalize:us-east-1:123456789012:recommender/hc-also-viewed"
TODAY = datetime.now(UTC).date()


@pytest.fixture
def signals_table(catalog, monkeypatch) -> str:
    assert os.environ["RECOMMENDATION_SIGNALS_TABLE_NAME"] == SIGNALS_TABLE
    monkeypatch.delenv("RECOMMENDER_PARAMETERS", raising=False)
    monkeypatch.delenv("POPULAR_WINDOW_DAYS", raising=False)
    personalize.reset()
    yield SIGNALS_TABLE
    personalize.reset()


def order(skus: list[str], days_ago: int = 0, **envelope) -> dict:
    day = (TODAY - timedelta(days=days_ago)).isoformat()
    lines = [{"sku": sku, "quantity": 1, "unit_price": 1000} for sku in skus]
    return example_event("OrderPlaced", {"lines": lines}, occurred_at=f"{day}T10:00:00.000000Z", **envelope)


def deliver(*events: dict) -> dict:
    return signals.handler(sqs_event(*events), None)


def seed_history() -> None:
    """In the last 7 days: mug in 4 orders, tee and pan in 3 each; the cap sold 5 times, but
    10 days ago (outside the default window)."""
    deliver(*[order(["tee-s", "mug-1"]) for _ in range(2)], order(["tee-m", "mug-1", "tee-s"], days_ago=3),
            order(["mug-1", "pan-1"], days_ago=6), order(["pan-1"]), order(["pan-1"], days_ago=1))
    deliver(*[order(["cap-1"], days_ago=10) for _ in range(5)])


def ids(reply) -> list[str]:
    return [item["product_id"] for item in reply.body["items"]]


def test_popular_ranks_orders_in_the_window_then_the_catalog(signals_table):
    seed_history()
    reply = call("GET", "/recommendations", query={"limit": "4"})
    assert reply.status == 200, reply.body
    assert reply.body["source"] == "fallback" and reply.body["kind"] == "for_you"
    # mug 4; pan 3 and tee 3 (ties by id; both tee SKUs in one order count once); the cap's
    # orders are older than the window, so it only comes from the catalog top-up.
    assert ids(reply) == ["p-mug", "p-pan", "p-tee", "p-cap"]
    assert reply.body["items"][0] == {"product_id": "p-mug", "name": "Coffee Mug", "category_id": "kitchen",
                                      "brand": None, "price": {"amount": 1250, "currency": "USD"},
                                      "images": ["https://assets.example/p-mug.jpg"]}


def test_window_is_configurable(signals_table, monkeypatch):
    seed_history()
    monkeypatch.setenv("POPULAR_WINDOW_DAYS", "30")
    assert ids(call("GET", "/recommendations", query={"limit": "2"}))[:1] == ["p-cap"]
    monkeypatch.setenv("POPULAR_WINDOW_DAYS", "1")
    # Today only: tee 2, mug 2, pan 1.
    assert ids(call("GET", "/recommendations", query={"limit": "3"})) == ["p-mug", "p-tee", "p-pan"]


def test_bought_together_first_then_popular_never_the_product_itself(signals_table):
    seed_history()
    reply = call("GET", "/recommendations", query={"product_id": "p-mug", "limit": "3"})
    assert reply.status == 200 and reply.body["kind"] == "also_viewed"
    # With the mug: tee in 3 orders, pan in 1; then the catalog (cap).
    assert ids(reply) == ["p-tee", "p-pan", "p-cap"]
    reply = call("GET", "/recommendations", query={"product_id": "p-pan", "kind": "bought_together"})
    assert ids(reply)[:1] == ["p-mug"] and "p-pan" not in ids(reply)
    assert len(ids(reply)) == 3        # the whole catalog but the pan: never empty


def test_a_redelivered_order_is_counted_once(signals_table):
    event = order(["tee-s", "mug-1"])
    assert deliver(event) == {"batchItemFailures": []}
    assert deliver(event, event) == {"batchItemFailures": []}
    rows = aws.dynamodb().scan(TableName=SIGNALS_TABLE)["Items"]
    scores = {(r["pk"]["S"], r["sk"]["S"]): int(r["score"]["N"]) for r in rows if "score" in r}
    assert scores == {(f"POPULAR#{TODAY}", "p-tee"): 1, (f"POPULAR#{TODAY}", "p-mug"): 1,
                      ("BOUGHT_WITH#p-tee", "p-mug"): 1, ("BOUGHT_WITH#p-mug", "p-tee"): 1}


def test_large_orders_count_their_first_products_in_one_transaction(signals_table):
    from headless_commerce.runtime.catalog import repository as catalog_repository

    for n in range(12):
        catalog_repository.put_product({"product_id": f"p-{n:02d}", "name": f"Item {n}", "price_amount": 100},
                                       [{"sku": f"s-{n:02d}", "stock": 5}])
    assert deliver(order([f"s-{n:02d}" for n in range(12)])) == {"batchItemFailures": []}
    counted = call("GET", "/recommendations", query={"product_id": "p-00", "limit": "20"})
    # Bought with p-00: its 8 companions among the first 9 (equal counts: any order among them).
    together = ids(counted)[:signals.MAX_PRODUCTS_PER_ORDER - 1]
    assert sorted(together) == [f"p-{n:02d}" for n in range(1, signals.MAX_PRODUCTS_PER_ORDER)]


def test_an_order_of_unknown_skus_counts_nothing_and_an_invalid_event_is_dead_lettered(signals_table, dead_letters):
    assert deliver(order(["gone-1"])) == {"batchItemFailures": []}
    assert aws.dynamodb().scan(TableName=SIGNALS_TABLE)["Count"] == 0
    assert deliver({"detail_type": "OrderPlaced"}) == {"batchItemFailures": []}
    (message,) = aws.sqs().receive_message(QueueUrl=dead_letters, MessageAttributeNames=["All"])["Messages"]
    assert message["MessageAttributes"]["reason"]["StringValue"]


def test_no_history_still_fills_the_slot_from_the_catalog(signals_table):
    reply = call("GET", "/recommendations", query={"product_id": "p-tee"})
    assert reply.status == 200 and reply.body["source"] == "fallback"
    assert sorted(ids(reply)) == ["p-cap", "p-mug", "p-pan"]


def test_read_cost_is_bounded_by_the_window_not_the_history(signals_table, ddb_calls):
    seed_history()
    deliver(*[order(["tee-s", "mug-1", "pan-1"], days_ago=d % 7) for d in range(30)])
    ddb_calls.reset()
    call("GET", "/recommendations", query={"product_id": "p-mug", "limit": "4"})
    # 1 product check + 1 bought-with + 7 days + 1 hydration (+ 1 catalog page at most).
    assert ddb_calls.calls.count("Query") <= 9
    assert ddb_calls.calls.count("BatchGetItem") == 2
    assert "Scan" not in ddb_calls.calls and len(ddb_calls.calls) <= 12


@pytest.mark.parametrize("query,field", [
    ({"limit": "0"}, "limit"), ({"limit": "21"}, "limit"), ({"limit": "x"}, "limit"),
    ({"product_id": "bad id"}, "product_id"), ({"kind": "trending"}, "kind"),
    ({"kind": "bought_together"}, "product_id"), ({"visitor_id": "short"}, "visitor_id"),
])
def test_bad_input_is_a_400_naming_the_parameter(signals_table, query, field):
    reply = call("GET", "/recommendations", query=query)
    assert reply.status == 400 and reply.body["error"]["field"] == field


def test_unknown_product_is_a_404(signals_table):
    reply = call("GET", "/recommendations", query={"product_id": "p-nope"})
    assert reply.status == 404 and reply.body["error"]["code"] == "not_found"


# ---- Personalize --------------------------------------------------------------------------

@pytest.fixture
def recommender(signals_table, monkeypatch):
    """The also_viewed recommender's parameter holds an ACTIVE ARN; the runtime client stubbed."""
    ssm = personalize.ssm_client()
    for kind, value in (("also_viewed", ARN), ("for_you", "NONE")):
        ssm.put_parameter(Name=f"/hc/recommenders/{kind}", Value=value, Type="String")
    monkeypatch.setenv("RECOMMENDER_PARAMETERS", json.dumps(
        {kind: f"/hc/recommenders/{kind}" for kind in ("also_viewed", "for_you")}))
    monkeypatch.setenv("PERSONALIZE_FILTER_ARN", "arn:aws:personalize:us-east-1:123456789012:filter/no-repeat")
    stub = Stubber(personalize.runtime_client())
    with stub:
        yield stub


def test_an_active_recommender_serves_and_deleted_items_are_replaced(recommender):
    seed_history()
    recommender.add_response("get_recommendations", {"itemList": [{"itemId": "p-pan"}, {"itemId": "p-gone"}]},
                             {"recommenderArn": ARN, "itemId": "p-mug", "numResults": 3})
    reply = call("GET", "/recommendations", query={"product_id": "p-mug", "limit": "3"})
    assert reply.status == 200 and reply.body["source"] == "personalize"
    # Personalize's pan first; the item the catalog no longer has is topped up from the fallback.
    assert ids(reply) == ["p-pan", "p-tee", "p-cap"]
    recommender.assert_no_pending_responses()


def test_a_signed_in_shopper_gets_the_purchased_items_filter(recommender):
    recommender.add_response("get_recommendations", {"itemList": [{"itemId": "p-tee"}]},
                             {"recommenderArn": ARN, "itemId": "p-mug", "numResults": 1, "userId": "alice",
                              "filterArn": "arn:aws:personalize:us-east-1:123456789012:filter/no-repeat"})
    reply = call("GET", "/me/recommendations", query={"product_id": "p-mug", "limit": "1"}, sub="alice")
    assert reply.body["source"] == "personalize" and ids(reply) == ["p-tee"]


def test_the_public_route_never_trusts_claims_and_the_personal_one_needs_them(recommender):
    # Claims on a public route were checked by nobody: the request is anonymous (no userId, no filter).
    recommender.add_response("get_recommendations", {"itemList": [{"itemId": "p-tee"}]},
                             {"recommenderArn": ARN, "itemId": "p-mug", "numResults": 1})
    assert call("GET", "/recommendations", query={"product_id": "p-mug", "limit": "1"}, sub="alice").status == 200
    assert call("GET", "/me/recommendations", query={"product_id": "p-mug"}).status == 401


@pytest.mark.parametrize("code", ["ThrottlingException", "ResourceNotFoundException", "InternalServerError"])
def test_personalize_errors_serve_the_fallback_never_a_500(recommender, code):
    seed_history()
    recommender.add_client_error("get_recommendations", service_error_code=code, http_status_code=400)
    reply = call("GET", "/recommendations", query={"product_id": "p-mug", "limit": "3"})
    assert reply.status == 200 and reply.body["source"] == "fallback"
    assert ids(reply) == ["p-tee", "p-pan", "p-cap"]


def test_a_slow_personalize_serves_the_fallback(recommender, monkeypatch):
    def slow(**kwargs):
        raise ReadTimeoutError(endpoint_url="https://personalize-runtime.us-east-1.amazonaws.com")

    personalize.runtime_client().meta.events.register("before-call.personalize-runtime.GetRecommendations", slow)
    try:
        reply = call("GET", "/recommendations", query={"product_id": "p-mug"})
    finally:
        personalize.runtime_client().meta.events.unregister(
            "before-call.personalize-runtime.GetRecommendations", slow)
    assert reply.status == 200 and reply.body["source"] == "fallback" and ids(reply)


def test_the_client_gives_up_fast(recommender):
    config = personalize.runtime_client().meta.config
    assert config.read_timeout <= 0.3 and config.connect_timeout <= 0.3
    assert config.retries["total_max_attempts"] == 1


def test_an_inactive_recommender_is_never_called(recommender):
    # for_you reads NONE; anonymous for_you is not even looked up. No stubbed response: a call would raise.
    assert call("GET", "/recommendations", query={"visitor_id": "v" * 32}).body["source"] == "fallback"
    assert call("GET", "/recommendations").body["source"] == "fallback"
    recommender.assert_no_pending_responses()


def test_an_unreadable_parameter_serves_the_fallback(recommender, monkeypatch):
    monkeypatch.setenv("RECOMMENDER_PARAMETERS", json.dumps({"also_viewed": "/hc/recommenders/missing"}))
    personalize.reset()
    with Stubber(personalize.runtime_client()):
        reply = call("GET", "/recommendations", query={"product_id": "p-mug"})
    assert reply.status == 200 and reply.body["source"] == "fallback"
