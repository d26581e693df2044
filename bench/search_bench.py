"""Print search numbers against their targets (a script, not a test).

    .venv/bin/python bench/search_bench.py [--products 10000] [--rounds 5]

The local provider (tantivy, what local mode runs) with a generated catalog of `--products`:
- indexing: a full rebuild of every product document (what `search reindex` does);
- search p50/p95 through the service (validation, query, facets, cursor) over a mix of
  misspelt, partial, brand + type, filtered and sorted queries;
- suggest p95 over type-ahead prefixes.
Each figure is the median over `--rounds` rounds; the exit status is 1 if any misses.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from headless_commerce.runtime.search import provider as search_provider  # noqa: E402
from headless_commerce.runtime.search import service  # noqa: E402
from headless_commerce.runtime.search.local_provider import TantivyProvider  # noqa: E402
from headless_commerce.runtime.search.provider import IndexAction  # noqa: E402
from tests.runtime.search_helpers import catalog_documents  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from results import at_most, finish, median, percentile, report  # noqa: E402

SEARCH_P95_MS = 50.0
SUGGEST_P95_MS = 20.0
INDEX_SECONDS = 30.0

QUERIES = [
    {"q": "sneekers"}, {"q": "headphnes sonique"}, {"q": "headph"}, {"q": "dutch ovn"},
    {"q": "trailwise tent"}, {"q": "summit gear rain jacket"}, {"q": "moisturiser"},
    {"q": "turntab"}, {"q": "cargo pants", "sort": "price_asc"}, {"q": "earbuds", "sort": "price_desc"},
    {"q": "demo", "category": "audio,footwear"}, {"q": "demo", "brand": "Northline,Stride", "in_stock": "true"},
    {"q": "jacket", "min_price": "5000", "max_price": "20000"}, {"q": "mug", "sort": "newest"},
    {"q": "classic", "limit": "50"}, {"q": "hikng boots"}, {"q": "bluetooth speaker"},
    {"q": "usb-c cable volt labs"}, {"q": "sunscrean"}, {"q": "skillet copperhill"},
]
PREFIXES = ["s", "sn", "sne", "snea", "head", "sonique h", "dutch o", "trail", "moist", "rain j",
            "cargo", "turnt", "hik", "blue", "volt l", "sunsc", "skil", "fleec", "lant", "wok"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    documents = catalog_documents(args.products)
    provider = TantivyProvider()
    search_provider.set_provider(provider)

    index_times = []
    for _ in range(3):
        start = time.perf_counter()
        provider.rebuild(IndexAction(d["product_id"], 1, d) for d in documents)
        index_times.append(time.perf_counter() - start)
    at_most(f"index {args.products} products (s, median of 3)", median(index_times), INDEX_SECONDS)

    for query in QUERIES:  # warm-up: every query once
        service.search(query)
    search_p50, search_p95, suggest_p95 = [], [], []
    for _ in range(args.rounds):
        latencies = []
        for _ in range(10):
            for query in QUERIES:
                start = time.perf_counter()
                result = service.search(query)
                latencies.append(time.perf_counter() - start)
                assert result["total"] >= 0
        search_p50.append(percentile(latencies, 0.5))
        search_p95.append(percentile(latencies, 0.95))
        latencies = []
        for _ in range(10):
            for prefix in PREFIXES:
                start = time.perf_counter()
                service.suggest({"q": prefix})
                latencies.append(time.perf_counter() - start)
        suggest_p95.append(percentile(latencies, 0.95))
    report(f"search p50 over {args.products} products (ms)", median(search_p50))
    at_most(f"search p95 over {args.products} products (ms)", median(search_p95), SEARCH_P95_MS)
    at_most(f"suggest p95 over {args.products} products (ms)", median(suggest_p95), SUGGEST_P95_MS)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
