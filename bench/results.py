"""What every bench shares: a figure is a value (the median of its samples), a target beside
it and a verdict. Each figure is printed as it is measured and, when BENCH_RESULTS names a
file (`make bench` does), appended to it as one JSON line, so `bench/summary.py` can print
every bench's figures as one table and exit non-zero on any miss.

    {"bench": "local", "figure": "GET /products per second", "value": 212.4,
     "target": ">= 200", "status": "PASS"}

`status` is PASS, MISS or INFO (a figure printed for context, with no target).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS_ENV = "BENCH_RESULTS"
PASS, MISS, INFO = "PASS", "MISS", "INFO"


@dataclass(frozen=True)
class Figure:
    bench: str
    figure: str
    value: float
    target: str | None
    status: str

    @property
    def missed(self) -> bool:
        return self.status == MISS


RESULTS: list[Figure] = []


def bench_name() -> str:
    """The running bench: bench/local_bench.py -> "local"."""
    return Path(sys.argv[0]).stem.removesuffix("_bench") or "bench"


def format_value(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):      # NaN, no samples
        return str(value)
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.1f}"


def report(figure: str, value: float, target: str | None = None, ok: bool = True) -> Figure:
    """Record one figure: with a target, PASS or MISS by `ok`; without, INFO."""
    status = INFO if target is None else (PASS if ok else MISS)
    result = Figure(bench_name(), figure, float(value), target, status)
    RESULTS.append(result)
    print(f"{figure:<58} {format_value(value):>10}   target {target or '(info)':<10} "
          f"{status if target else ''}", flush=True)
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as sink:
            sink.write(json.dumps(asdict(result)) + "\n")
    return result


def at_most(figure: str, value: float, limit: float) -> Figure:
    return report(figure, value, f"<= {limit:g}", value <= limit)


def at_least(figure: str, value: float, limit: float) -> Figure:
    return report(figure, value, f">= {limit:g}", value >= limit)


def median(samples: Iterable[float]) -> float:
    """The figure of several samples (a shared machine makes single runs noisy)."""
    values = list(samples)
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` percentile of latencies in seconds, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


def finish() -> int:
    """Print the bench's verdict line; its exit status (1 when a figure missed)."""
    missed = [r for r in RESULTS if r.missed]
    checked = [r for r in RESULTS if r.status != INFO]
    print(f"{len(checked) - len(missed)}/{len(checked)} targets met"
          + (f"; missed: {', '.join(r.figure for r in missed)}" if missed else ""), flush=True)
    return 1 if missed else 0
