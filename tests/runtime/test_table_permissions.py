"""Least privilege checked against the code: every DynamoDB call a function makes on the
commerce table (recorded on moto while existing scenarios run) is an action its grant allows,
and the post-confirmation trigger writes only customer items.

Calls are attributed to the function whose entry module is outermost on the call stack, so
fixtures seeding the table are not counted and shared modules (transitions, the repositories)
count for whichever function called them.
"""

from __future__ import annotations

import inspect
import sys
import threading

import pytest

from headless_commerce.runtime.common import aws, dynamo
from headless_commerce.runtime.table_permissions import (
    CONDITION_CHECK,
    DELETE,
    LEADING_KEY_PREFIXES,
    PUT,
    TABLE_ACTIONS,
    UPDATE,
    actions_for,
)
from tests.runtime import (
    test_cart,
    test_catalog,
    test_chatbot,
    test_checkout,
    test_customers,
    test_events_consents,
    test_events_oms,
    test_events_order_status,
    test_feeds_catalog,
    test_feeds_inventory,
    test_feeds_order_status,
    test_fraud,
    test_location_tracking,
    test_marketing,
    test_orders,
    test_payments,
    test_push_devices,
    test_recommendation_events,
    test_recommendations,
    test_search_indexer,
    test_sweeper,
)
from tests.runtime.feed_helpers import failures  # noqa: F401 - fixture used by the feed scenarios
from tests.runtime.test_events_order_status import order  # noqa: F401 - fixture used by a scenario
from tests.runtime.test_fraud import fraud_env  # noqa: F401 - fixture used by the fraud scenarios
from tests.runtime.test_location_tracking import local_location, shipped  # noqa: F401 - fixtures of scenarios
from tests.runtime.test_push_devices import push  # noqa: F401 - fixture used by the scenarios
from tests.runtime.test_recommendation_events import tracker_stub, users_stub  # noqa: F401 - fixtures of the scenarios
from tests.runtime.test_recommendations import signals_table  # noqa: F401 - fixture used by the scenarios
from tests.runtime.test_search_indexer import engine  # noqa: F401 - fixture used by a scenario

_PKG = "headless_commerce.runtime."
ENTRY_MODULES = {
    f"{_PKG}catalog.handler": "catalog",
    f"{_PKG}cart.handler": "cart",
    f"{_PKG}orders.checkout_handler": "checkout",
    f"{_PKG}orders.handler": "orders",
    f"{_PKG}customers.handler": "customers",
    f"{_PKG}payments.handler": "payments_webhook",
    f"{_PKG}customers.post_confirmation": "post_confirmation",
    f"{_PKG}orders.sweeper": "order_sweeper",
    f"{_PKG}oms.consumer": "oms_consumer",
    f"{_PKG}orders.status_events": "order_status",
    f"{_PKG}marketing.audience": "marketing_audience",
    f"{_PKG}marketing.lifecycle": "marketing_lifecycle",
    f"{_PKG}marketing.jobs": "marketing_jobs",
    f"{_PKG}marketing.unsubscribe": "unsubscribe",
    f"{_PKG}search.indexer": "search_indexer",
    f"{_PKG}search.handler": "search",
    f"{_PKG}recommendations.handler": "recommendations",
    f"{_PKG}recommendations.signals": "recommendation_signals",
    f"{_PKG}recommendations.tracker": "personalize_events",
    f"{_PKG}recommendations.users": "personalize_users",
    f"{_PKG}recommendations.catalog_export": "personalize_catalog_export",
    f"{_PKG}chatbot.handler": "chat",
    f"{_PKG}chatbot.fulfillment": "chat_fulfillment",
    f"{_PKG}feeds.catalog": "catalog_feed",
    f"{_PKG}feeds.inventory": "inventory_feed",
    f"{_PKG}feeds.order_status": "order_status_feed",
    f"{_PKG}fraud.review": "fraud_review",
    f"{_PKG}location.handler": "location",
    f"{_PKG}location.geofences": "location_geofences",
    f"{_PKG}location.couriers": "location_couriers",
}
_ITEM_ACTIONS = {"Put": PUT, "Update": UPDATE, "Delete": DELETE, "ConditionCheck": CONDITION_CHECK}


def _entry_function() -> str | None:
    frame, found = sys._getframe(), None
    while frame is not None:
        found = ENTRY_MODULES.get(frame.f_globals.get("__name__", ""), found)
        frame = frame.f_back
    return found


class Recorder:
    """(function, IAM action, partition key) of every call on the commerce table."""

    def __init__(self) -> None:
        self.calls: set[tuple[str, str, str | None]] = set()
        self._lock = threading.Lock()

    def __call__(self, model=None, params=None, **kwargs) -> None:
        function = _entry_function()
        if function is None:
            return
        table = dynamo.table_name()
        found: list[tuple[str, str | None]] = []
        if model.name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                kind, body = next(iter(entry.items()))
                if body.get("TableName") == table:
                    found.append((_ITEM_ACTIONS[kind], _pk(body.get("Item") or body.get("Key"))))
        elif model.name in ("BatchGetItem", "BatchWriteItem"):
            if table in params["RequestItems"]:
                found.append((f"dynamodb:{model.name}", None))
        elif params.get("TableName") == table:
            found.append((f"dynamodb:{model.name}", _pk(params.get("Item") or params.get("Key"))))
        with self._lock:
            self.calls.update((function, action, pk) for action, pk in found)


def _pk(key: dict | None) -> str | None:
    return (key or {}).get("pk", {}).get("S")


@pytest.fixture
def recorder(table) -> Recorder:
    recording = Recorder()
    aws.dynamodb().meta.events.register("before-parameter-build.dynamodb.*", recording)
    return recording


SCENARIOS = [
    test_catalog.test_get_product_has_price_stock_images_and_skus,
    test_catalog.test_list_paginates_through_every_product_once,
    test_catalog.test_list_by_category,
    test_catalog.test_category_tree,
    test_cart.test_add_get_and_price,
    test_cart.test_patch_sets_quantity_and_zero_removes,
    test_cart.test_delete_line_and_missing_line,
    test_checkout.test_checkout_confirms_order_decrements_stock_and_clears_cart,
    test_checkout.test_sequential_retries_make_one_order_and_one_authorization,
    test_checkout.test_declined_payment_releases_stock_once,
    test_checkout.test_out_of_stock_names_the_skus_and_reserves_nothing,
    test_checkout.test_provider_outage_leaves_order_pending_and_retry_resumes,
    test_orders.test_list_orders_newest_first_with_pagination,
    test_orders.test_get_order_and_idor,
    test_customers.test_post_confirmation_creates_profile_once,
    test_customers.test_get_and_patch_profile,
    test_customers.test_profile_is_created_on_first_use_if_trigger_missed,
    test_customers.test_consents_recorded_with_event_in_one_transaction,
    test_payments.test_webhook_settles_pending_order_once_from_the_providers_record,
    test_payments.test_webhook_failure_releases_stock,
    test_payments.test_late_authorization_for_a_failed_order_voids_its_own_authorization,
    test_checkout.test_one_cart_checked_out_concurrently_with_different_keys_makes_one_order,
    test_sweeper.test_stuck_order_without_authorization_fails_and_releases_stock,
    test_sweeper.test_stuck_order_with_authorization_is_confirmed_and_cart_cleared,
    test_sweeper.test_handler_reads_the_timeout_from_the_environment,
    test_events_oms.test_order_is_accepted_once_and_announced_once,
    test_events_order_status.test_status_moves_forward_and_records_the_event,
    test_events_consents.test_audience_opt_in_carries_contact_and_opt_out_leaves_tombstone,
    test_marketing.test_welcome_and_order_confirmation_go_once_each_to_a_consenting_customer,
    test_marketing.test_campaign_pages_through_the_audience_and_honours_consent_at_send_time,
    test_marketing.test_abandoned_cart_reminder_once_per_cart_only_to_consenting_customers,
    test_marketing.test_one_click_unsubscribe_withdraws_consent_through_the_consent_event,
    test_push_devices.test_a_new_token_replaces_the_old_endpoint_and_delete_forgets_it,
    test_push_devices.test_a_disabled_endpoint_is_cleared_on_send_and_re_registering_enables_it,
    test_search_indexer.test_out_of_order_and_duplicate_records_index_the_current_state,
    test_search_indexer.test_deleted_products_leave_the_index,
    test_recommendations.test_bought_together_first_then_popular_never_the_product_itself,
    test_recommendations.test_an_order_of_unknown_skus_counts_nothing_and_an_invalid_event_is_dead_lettered,
    test_recommendation_events.test_an_order_is_one_purchase_per_product_in_calls_of_ten,
    test_recommendation_events.test_the_catalog_export_sends_every_product_ten_at_a_time,
    test_recommendation_events.test_a_profile_change_puts_only_locale_and_country_in_the_users_dataset,
    test_search_indexer.test_reindex_backfills_the_catalog,
    test_feeds_catalog.test_a_newer_version_changes_the_product_and_keeps_stock_of_existing_skus,
    test_feeds_catalog.test_sku_dropped_from_a_product_is_withdrawn_from_sale,
    test_feeds_catalog.test_categories_upsert_by_version,
    test_feeds_inventory.test_out_of_order_duplicate_and_conflicting_versions,
    test_feeds_order_status.test_statuses_move_the_order_forward_with_events,
    test_fraud.test_release_pays_the_held_order_and_publishes_order_placed,
    test_fraud.test_reject_cancels_the_held_order_and_gives_the_stock_back,
    test_fraud.test_every_decision_is_recorded_with_its_reasons,
    test_chatbot.test_fulfillment_answers_the_owner_with_the_order_status,
    test_chatbot.test_fulfillment_never_reveals_another_customers_order,
    # Not the local scenario where positions drive the geofences: in process, the consumer's
    # writes would be counted for the couriers' function that set them off.
    test_location_tracking.test_exit_then_enter_moves_the_order_once_each,
    test_location_tracking.test_tracking_is_visible_only_to_the_owner,
    test_location_tracking.test_the_couriers_function_assigns_and_records_positions,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f"{f.__module__.rsplit('.', 1)[-1]}::{f.__name__}")
def test_functions_call_only_their_declared_table_actions(scenario, recorder, request):
    kwargs = {name: request.getfixturevalue(name) for name in inspect.signature(scenario).parameters}
    scenario(**kwargs)
    assert recorder.calls, "the scenario made no DynamoDB call attributed to a function"
    for function, action, pk in recorder.calls:
        assert action in actions_for(function), f"{function} calls {action}, not in TABLE_ACTIONS"
        prefix = LEADING_KEY_PREFIXES.get(function)
        if prefix is not None:
            assert pk is not None and pk.startswith(prefix), (function, action, pk)


def test_no_function_scans_and_every_function_is_declared():
    from headless_commerce.runtime import routes
    from headless_commerce.runtime.chatbot.names import FULFILLMENT_FUNCTION as CHAT_FULFILLMENT
    from headless_commerce.runtime.events.subscriptions import (
        MARKETING_AUDIENCE,
        MARKETING_LIFECYCLE,
        OMS_CONSUMER,
        ORDER_STATUS,
        PERSONALIZE_EVENTS,
        PERSONALIZE_USERS,
        RECOMMENDATION_SIGNALS,
    )
    from headless_commerce.runtime.feeds.names import FEEDS
    from headless_commerce.runtime.location.names import COURIERS_FUNCTION, GEOFENCE_FUNCTION
    from headless_commerce.runtime.marketing.names import JOBS_FUNCTION as MARKETING_JOBS
    from headless_commerce.runtime.recommendations.names import CATALOG_EXPORT_FUNCTION
    from headless_commerce.runtime.search.indexer import FUNCTION_NAME as SEARCH_INDEXER

    names = {*routes.FUNCTIONS, routes.POST_CONFIRMATION.name, routes.ORDER_SWEEPER.name, routes.FRAUD_REVIEW.name,
             OMS_CONSUMER.name, ORDER_STATUS.name, MARKETING_AUDIENCE.name, MARKETING_LIFECYCLE.name,
             MARKETING_JOBS, SEARCH_INDEXER, CHAT_FULFILLMENT,
             RECOMMENDATION_SIGNALS.name, PERSONALIZE_EVENTS.name, PERSONALIZE_USERS.name, CATALOG_EXPORT_FUNCTION,
             GEOFENCE_FUNCTION, COURIERS_FUNCTION,
             *(feed.function_name for feed in FEEDS.values())}
    assert names == set(TABLE_ACTIONS)
    assert set(ENTRY_MODULES.values()) == set(TABLE_ACTIONS)
    assert all("dynamodb:Scan" not in actions for actions in TABLE_ACTIONS.values())
    # The coarse route-table flag agrees: read-only functions declare no write.
    for spec in routes.FUNCTIONS.values():
        if spec.table_access == "read":
            assert not {PUT, UPDATE, DELETE} & set(TABLE_ACTIONS[spec.name]), spec.name
