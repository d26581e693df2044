"""Business metrics: published once per invocation, safely from concurrent threads (local mode
and the Fargate container serve requests on threads), and the search zero-result counts."""

import json
import threading

from headless_commerce.runtime.common import logging as app_logging


def _emf_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{") and "_aws" in line]


def test_concurrent_invocations_never_flush_an_empty_metric_set(capsys):
    # Counts an earlier test left in the process's metric set are not this test's.
    app_logging._publish_metrics()
    capsys.readouterr()
    errors = []
    original = app_logging.logger.exception
    app_logging.logger.exception = lambda *a, **k: errors.append(a)
    try:
        barrier = threading.Barrier(8)

        def invocation(n: int) -> None:
            barrier.wait()
            for _ in range(200):
                if n % 2:
                    app_logging.count("OrdersPlaced")
                app_logging._publish_metrics()

        threads = [threading.Thread(target=invocation, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        app_logging.logger.exception = original
    assert errors == []
    published = sum(sum(line["OrdersPlaced"]) if isinstance(line["OrdersPlaced"], list) else line["OrdersPlaced"]
                    for line in _emf_lines(capsys.readouterr().out))
    assert published == 4 * 200


def test_search_counts_searches_and_zero_results(monkeypatch):
    from headless_commerce.runtime.search import service
    from headless_commerce.runtime.search.provider import SearchPage

    counted = []
    monkeypatch.setattr(service, "count", counted.append)

    class Provider:
        def __init__(self, total):
            self.total = total

        def search(self, query):
            return SearchPage(items=[], facets={}, total=self.total, after=None)

    monkeypatch.setattr(service, "get_provider", lambda: Provider(0))
    service.search({"q": "nothing-like-this"})
    monkeypatch.setattr(service, "get_provider", lambda: Provider(3))
    service.search({"q": "sneakers"})
    assert counted == ["Searches", "SearchZeroResults", "Searches"]


def test_on_fargate_each_count_is_also_a_log_line_a_metric_filter_can_read(caplog, monkeypatch):
    monkeypatch.setenv("COUNT_LOG_LINES", "1")
    app_logging.count("OrdersPlaced")
    app_logging.count("FraudReview", 2)
    records = [r for r in caplog.records if r.getMessage() == "count"]
    assert [(r.count, r.value) for r in records] == [("OrdersPlaced", 1), ("FraudReview", 2)]
    # The line as the awslogs driver ships it: what the metric filter's $.count/$.value/$.service read.
    line = json.loads(app_logging.logger.registered_formatter.format(records[0]))
    assert (line["count"], line["value"], line["service"]) == ("OrdersPlaced", 1, app_logging.logger.service)
    app_logging._publish_metrics()


def test_without_the_setting_counts_are_only_metrics(caplog, monkeypatch):
    monkeypatch.delenv("COUNT_LOG_LINES", raising=False)
    app_logging.count("OrdersPlaced")
    assert not [r for r in caplog.records if r.getMessage() == "count"]
    app_logging._publish_metrics()
