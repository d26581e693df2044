"""The API response cache's numbers against their targets (a script, not a test); exits 1 on a miss.

    .venv/bin/python bench/response_cache_bench.py [--samples 3] [--requests 300]

Local mode twice: without a cache, then with Debian's redis-server as its Valkey (REDIS_URL).
From one keep-alive connection, each figure the median of `--samples` runs:
- catalog read latency (GET /products/{id} over the demo catalog, GET /products pages),
  p50 and p95, without and with the cache (the cache warmed by one pass first);
- hit ratio over a replayed browsing session: a fixed, seeded mix of product views (skewed
  toward popular products, as real traffic is), listings, categories, searches and
  suggestions, counted from the `X-Cache` header of every cacheable answer.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_bench import ROOT, Server
from results import at_least, at_most, finish, median, percentile, report

sys.path.insert(0, str(ROOT))
DEMO_PRODUCTS = 240
WORDS = ("hoodie", "mug", "sneakers", "jacket", "lamp", "tee", "bottle", "headphones")


class Client:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    def get(self, path: str) -> tuple[float, str | None]:
        started = time.perf_counter()
        self.connection.request("GET", path)
        reply = self.connection.getresponse()
        reply.read()
        seconds = time.perf_counter() - started
        if reply.status != 200:
            raise SystemExit(f"GET {path}: {reply.status}")
        return seconds, reply.getheader("X-Cache")


def catalog_reads(count: int) -> list[str]:
    return [f"/products/p-{1 + i % DEMO_PRODUCTS:04d}" if i % 4 else f"/products?limit={12 + i % 3 * 12}"
            for i in range(count)]


def browsing_session(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    # Popularity falls off like real catalogs' (Zipf-like weights over the demo products).
    products = [f"/products/p-{n:04d}" for n in range(1, DEMO_PRODUCTS + 1)]
    weights = [1 / rank for rank in range(1, DEMO_PRODUCTS + 1)]
    session = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.5:
            session.append(rng.choices(products, weights)[0])
        elif roll < 0.7:
            session.append(f"/products?limit=24{rng.choice(['', '&category=apparel', '&category=home'])}")
        elif roll < 0.75:
            session.append("/categories")
        elif roll < 0.9:
            session.append(f"/search?q={rng.choice(WORDS)}")
        else:
            word = rng.choice(WORDS)
            session.append(f"/search/suggest?q={word[:rng.randint(2, len(word))]}")
    return session


def latencies(client: Client, paths: list[str]) -> tuple[float, float]:
    times = [client.get(path)[0] for path in paths]   # percentile() reports milliseconds
    return percentile(times, 0.5), percentile(times, 0.95)


def measure(samples: int, requests: int) -> dict[str, float]:
    server = Server()
    try:
        client = Client(server.url)
        paths = catalog_reads(requests)
        for path in paths:             # warm whatever can be warmed (the cache, if any)
            client.get(path)
        p50s, p95s = zip(*(latencies(client, paths) for _ in range(samples)), strict=True)
        return {"p50": median(p50s), "p95": median(p95s), "rss": server.rss_mb()}
    finally:
        server.stop()


def hit_ratio(samples: int, requests: int, redis) -> float:
    ratios = []
    for sample in range(samples):
        redis.client().flushall()      # each session starts from an empty cache
        server = Server()
        try:
            client = Client(server.url)
            counted = [client.get(path)[1] for path in browsing_session(requests, seed=sample)]
            hits = counted.count("HIT")
            ratios.append(hits / max(1, hits + counted.count("MISS")))
        finally:
            server.stop()
    return median(ratios)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    from tests.storefront.conftest import start_redis

    os.environ.pop("REDIS_URL", None)
    os.environ.pop("CACHE_URL", None)
    plain = measure(args.samples, args.requests)
    redis = start_redis()
    try:
        os.environ["REDIS_URL"] = redis.url
        cached = measure(args.samples, args.requests)
        ratio = hit_ratio(args.samples, 1000, redis)
    finally:
        redis.stop()
    report("catalog read p50 ms, no cache", plain["p50"])
    report("catalog read p95 ms, no cache", plain["p95"])
    at_most("catalog read p50 ms, cache warm", cached["p50"], round(plain["p50"] * 0.75, 1))
    at_most("catalog read p95 ms, cache warm", cached["p95"], round(plain["p95"], 1))
    report("local mode RSS MB after the reads, no cache", plain["rss"])
    report("local mode RSS MB after the reads, cache", cached["rss"])
    at_least("hit ratio over a 1,000-request browsing session", ratio, 0.6)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
