"""Feed consumer numbers in local mode against their targets (a script, not a test); exits 1
when one misses.

    .venv/bin/python bench/feeds_bench.py [--samples 3] [--records 1000]

Local mode runs in this process (embedded AWS, the event flow's pollers running as they do
for `headless-commerce local`); each sample hands `--records` fresh records of one feed, every
one newer than what is stored, to the feed's local event source, which delivers them to the
consumer in MSK batches of 100 exactly as `feed publish --local` does. Per feed, the median of
`--samples` runs:
- records per second through the consumer (parsing, schema check, one batch read, the writes);
- DynamoDB calls per record and conditional writes per record, counted on the consumer's
  client (botocore's before-call hook, this thread only): the target is one conditional write
  per record (a TransactWriteItems when it carries its outbox event) plus the batch's one
  BatchGetItem shared by its 100 records.

The machine may be shared: throughput moves with whatever else runs; the targets are what a
quiet 2-core machine reaches with room to spare.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from results import at_least, at_most, finish, median, report  # noqa: E402

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
# Targets. Calls: one write per record, plus one BatchGetItem per batch of 100.
MAX_CALLS_PER_RECORD = 1.05
MIN_RECORDS_PER_SECOND = {"catalog": 40, "inventory": 80, "order_status": 60}


class Calls:
    """DynamoDB operations made by the thread that runs the consumer."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.thread = threading.get_ident()

    def __call__(self, model=None, **kwargs) -> None:
        if threading.get_ident() == self.thread:
            self.names.append(model.name)


def catalog_records(sample: int, count: int) -> list[bytes]:
    return [json.dumps({"type": "product", "product_id": f"bench-p{i:05d}", "version": sample + 1,
                        "name": f"Bench product {i} ({sample})", "price_amount": 1000 + i,
                        "category_id": "bench", "skus": [{"sku": f"bench-p{i:05d}-a"},
                                                         {"sku": f"bench-p{i:05d}-b"}]}).encode()
            for i in range(count)]


def inventory_records(sample: int, count: int, rng: random.Random) -> list[bytes]:
    return [json.dumps({"sku": f"bench-p{i // 2:05d}-{'ab'[i % 2]}", "quantity": rng.randint(1, 500),
                        "version": sample + 1}).encode() for i in range(count)]


def status_records(sample: int, count: int) -> list[bytes]:
    status = ("PICKED", "SHIPPED", "DELIVERED")[sample % 3]
    return [json.dumps({"order_id": f"bench-o{i:05d}", "status": status,
                        "occurred_at": "2026-11-25T10:00:00Z"}).encode() for i in range(count)]


def seed_orders(count: int) -> None:
    from headless_commerce import model
    from headless_commerce.runtime.common import dynamo

    dynamo.batch_put([{**model.order_key(f"bench-o{i:05d}"), model.ENTITY_ATTRIBUTE: model.Entity.ORDER,
                       "order_id": f"bench-o{i:05d}", "customer_id": "bench", "status": "CONFIRMED",
                       "lines": [], "created_at": "2026-11-25T09:00:00Z"} for i in range(count)])


def measure(local, feed: str, records: list[bytes], key_field: str) -> tuple[float, float, float]:
    """(records per second, DynamoDB calls per record, writes per record) of one delivery."""
    from headless_commerce.runtime.common import aws

    poller = local.pollers[f"{feed}-feed"]
    keyed = [{"key": __import__("base64").b64encode(json.loads(r)[key_field].encode()).decode(),
              "value": __import__("base64").b64encode(r).decode()} for r in records]
    built = poller.assign(keyed)
    calls = Calls()
    client = aws.dynamodb()
    client.meta.events.register("before-call.dynamodb.*", calls)
    failures_before = poller.gave_up
    started = time.perf_counter()
    try:
        poller.deliver(built)
    finally:
        elapsed = time.perf_counter() - started
        client.meta.events.unregister("before-call.dynamodb.*", calls)
    if poller.gave_up != failures_before:
        raise SystemExit(f"{feed}: {poller.gave_up - failures_before} records kept failing")
    writes = sum(1 for name in calls.names if name in WRITES)
    return len(records) / elapsed, len(calls.names) / len(records), writes / len(records)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--records", type=int, default=1000)
    args = parser.parse_args()

    import logging
    import os

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    logging.disable(logging.WARNING)
    from headless_commerce.local import demo_catalog
    from headless_commerce.local.server import LocalCommerce

    local = LocalCommerce(port=0, catalog=demo_catalog.generate(products=20), storefront_port=None)
    local.start()
    try:
        seed_orders(args.records)
        rng = random.Random(7)
        builders = {
            "catalog": (lambda s: catalog_records(s, args.records), "product_id"),
            "inventory": (lambda s: inventory_records(s, args.records, rng), "sku"),
            "order_status": (lambda s: status_records(s, args.records), "order_id"),
        }
        for feed, (build, key_field) in builders.items():
            samples = [measure(local, feed, build(sample), key_field) for sample in range(args.samples)]
            rate = median(s[0] for s in samples)
            calls = median(s[1] for s in samples)
            writes = median(s[2] for s in samples)
            at_least(f"{feed} feed: records per second (local mode)", rate, MIN_RECORDS_PER_SECOND[feed])
            at_most(f"{feed} feed: DynamoDB calls per record", calls, MAX_CALLS_PER_RECORD)
            report(f"{feed} feed: conditional writes per record", writes, "= 1", abs(writes - 1) < 1e-9)
    finally:
        local.stop()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
