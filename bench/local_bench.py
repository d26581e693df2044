"""Print local-mode numbers against their targets (a script, not a test).

    .venv/bin/python bench/local_bench.py [--products 1000] [--seconds 5] [--threads 4]

- Start-up: `headless-commerce local --port 0 --catalog <generated file>` until the first
  successful GET /products (process start to 200, so Python start-up and imports count).
- Product reads per second over loopback from a second process (threads with keep-alive
  connections hitting GET /products/{id}), with latency percentiles.
- Stop: SIGTERM to exit.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS: list[tuple[str, float, str, bool]] = []
READY = re.compile(r"^\s+API\s+(http://\S+)", re.MULTILINE)


def report(metric: str, value: float, target: str, ok: bool) -> None:
    RESULTS.append((metric, value, target, ok))
    print(f"{metric:<52} {value:>10.1f}   target {target:<10} {'PASS' if ok else 'FAIL'}",
          flush=True)


def _reader(url: str, product_ids: list[str], seconds: float, threads: int, queue) -> None:
    """Runs in a second process: `threads` keep-alive clients for `seconds`."""
    parts = urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine, failed, index = [], 0, offset
        while time.perf_counter() < deadline:
            product_id = product_ids[index % len(product_ids)]
            index += threads
            start = time.perf_counter()
            connection.request("GET", f"/products/{product_id}")
            response = connection.getresponse()
            body = response.read()
            if response.status == 200 and json.loads(body)["product_id"] == product_id:
                mine.append(time.perf_counter() - start)
            else:
                failed += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    queue.put((latencies, errors[0]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    from headless_commerce.local import demo_catalog

    catalog = demo_catalog.generate(args.products)
    workdir = Path(tempfile.mkdtemp(prefix="hc-local-bench-"))
    catalog_file = workdir / "catalog.json"
    catalog_file.write_text(json.dumps(catalog))
    log_file = workdir / "local.log"
    print(f"python {sys.version.split()[0]}; catalog {args.products} products, "
          f"{sum(len(p['skus']) for p in catalog['products'])} SKUs ({catalog_file})", flush=True)

    started = time.perf_counter()
    with log_file.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "headless_commerce.cli", "local", "--port", "0",
             "--catalog", str(catalog_file)], cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    try:
        url = None
        while time.perf_counter() - started < 120:
            if process.poll() is not None:
                print(log_file.read_text())
                raise SystemExit(f"local mode exited with {process.returncode}")
            if url is None:
                found = READY.search(log_file.read_text(errors="replace"))
                url = found.group(1) if found else None
            if url:
                try:
                    with urllib.request.urlopen(f"{url}/products?limit=20", timeout=10) as reply:
                        if reply.status == 200 and json.loads(reply.read())["items"]:
                            break
                except OSError:
                    pass
            time.sleep(0.05)
        else:
            raise SystemExit("local mode did not answer GET /products within 120 s")
        startup = time.perf_counter() - started
        report(f"start-up to first GET /products ({args.products} products) s", startup,
               "<= 15", startup <= 15)

        ids = [p["product_id"] for p in catalog["products"]]
        queue = multiprocessing.get_context("spawn").Queue()
        reader = multiprocessing.get_context("spawn").Process(
            target=_reader, args=(url, ids, args.seconds, args.threads, queue))
        reader.start()
        latencies, errors = queue.get(timeout=args.seconds + 120)
        reader.join()
        latencies.sort()
        rate = len(latencies) / args.seconds
        report(f"GET /products/{{id}} per second ({args.threads} threads, 2nd process)", rate,
               "(info)", True)
        if latencies:
            p50 = latencies[len(latencies) // 2] * 1000
            p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] * 1000
            report("GET /products/{id} latency p50 ms", p50, "(info)", True)
            report("GET /products/{id} latency p95 ms", p95, "(info)", True)
        report("GET /products/{id} errors", errors, "== 0", errors == 0)

        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
        stop = time.perf_counter() - stopping
        report(f"SIGTERM to exit s (exit code {code})", stop, "<= 5", stop <= 5 and code == 0)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    failed = [r for r in RESULTS if not r[3]]
    print(f"{len(RESULTS) - len(failed)}/{len(RESULTS)} metrics pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
