"""Storefront numbers against their targets (a script, not a test); exits 1 when one misses.

    .venv/bin/python bench/storefront_bench.py [--samples 3] [--cold-views 60] [--warm-views 200]

In local mode (`headless-commerce local`, with Debian's redis-server as its Valkey when the
binary is installed, else the in-process cache), each figure the median of `--samples` runs:
- Product page server time (the page's own `Server-Timing: app;dur=`), p50 and p95:
  warm cache = the same product viewed again; cold cache = each view a product not viewed
  before in that run (the API call, the session read and the render all count).
- Page weight of the home and a product page: HTML + CSS + JS they link (images excluded).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_bench import ROOT, Server
from results import at_most, finish, median, percentile, report

sys.path.insert(0, str(ROOT))
TIMING = re.compile(r"app;dur=([0-9.]+)")
ASSETS = re.compile(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"')


class Browser:
    """One keep-alive connection, like a browser tab."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    def get(self, path: str) -> tuple[int, bytes, float | None]:
        self.connection.request("GET", path)
        reply = self.connection.getresponse()
        body = reply.read()
        found = TIMING.search(reply.getheader("Server-Timing") or "")
        return reply.status, body, float(found.group(1)) / 1000 if found else None


def server_times(browser: Browser, paths: list[str]) -> list[float]:
    times = []
    for path in paths:
        status, _, seconds = browser.get(path)
        if status != 200 or seconds is None:
            raise SystemExit(f"GET {path}: {status}")
        times.append(seconds)
    return times


def page_weight(browser: Browser, path: str) -> float:
    status, html, _ = browser.get(path)
    if status != 200:
        raise SystemExit(f"GET {path}: {status}")
    total = len(html)
    for asset in dict.fromkeys(ASSETS.findall(html.decode())):
        status, body, _ = browser.get(asset)
        if status != 200:
            raise SystemExit(f"GET {asset}: {status}")
        total += len(body)
    return total / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--cold-views", type=int, default=60,
                        help="cold product views per sample (the demo catalog has 240 products)")
    parser.add_argument("--warm-views", type=int, default=200, help="warm product views per sample")
    args = parser.parse_args()

    redis = None
    if shutil.which("redis-server"):
        from tests.storefront.conftest import start_redis

        redis = start_redis()
        os.environ["REDIS_URL"] = redis.url
    server = None
    try:
        server = Server()
        storefront = server.well_known["storefront_url"]
        print(f"storefront {storefront}, cache: {'redis-server' if redis else 'in-process'}")
        browser = Browser(storefront)
        warm50, warm95, cold50, cold95 = [], [], [], []
        # Demo catalog ids p-0001..p-0240: each sample's cold views use products no run saw.
        next_id = 1
        for _ in range(args.samples):
            cold = [f"/products/p-{next_id + i:04d}" for i in range(args.cold_views)]
            next_id += args.cold_views
            times = server_times(browser, cold)
            cold50.append(percentile(times, 0.5))
            cold95.append(percentile(times, 0.95))
            server_times(browser, ["/products/p-0001"])       # cached now
            times = server_times(browser, ["/products/p-0001"] * args.warm_views)
            warm50.append(percentile(times, 0.5))
            warm95.append(percentile(times, 0.95))
        at_most("product page server time, warm cache, p50 ms", median(warm50), 15)
        at_most("product page server time, warm cache, p95 ms", median(warm95), 40)
        at_most("product page server time, cold cache, p50 ms", median(cold50), 60)
        at_most("product page server time, cold cache, p95 ms", median(cold95), 150)
        at_most("home page weight (HTML+CSS+JS) KB", page_weight(browser, "/"), 100)
        at_most("product page weight (HTML+CSS+JS) KB", page_weight(browser, "/products/p-0001"), 100)
    finally:
        _seconds, code = server.stop() if server is not None else (0.0, 1)
        if redis is not None:
            redis.stop()
    report("local mode exit code", code, "== 0", code == 0)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
