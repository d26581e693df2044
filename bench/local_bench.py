"""Local-mode numbers against their targets (a script, not a test); exits 1 when one misses.

    .venv/bin/python bench/local_bench.py [--samples 3] [--seconds 4] [--clients 4]
                                          [--mixed 10000] [--cancelled 1000]
                                          [--only startup,memory,products,product,cart,
                                                  cart-add,checkout]

What it measures, each figure the median of `--samples` runs:
- Start-up: `headless-commerce local --port 0` (demo catalog, then a 10,000-product file) until
  the first 200 from GET /products: process start to answer, so imports count.
- Throughput and latency from a second process, `--clients` threads each on one keep-alive
  connection: GET /products, GET /products/{id}, GET /cart, POST /cart/items, POST /checkout
  (every checkout a fresh cart and Idempotency-Key, carts filled before the clock starts).
- Memory: `--mixed` mixed requests, `--cancelled` of them checkouts cancelled by a sold-out
  SKU (a cancelled DynamoDB transaction each), RSS of the server before and after.
- Stop: SIGTERM to exit.

The machine may be shared: absolute timings move with whatever else runs; the targets are
what a quiet laptop should reach. The load average is printed before and after (the server's
CPU milliseconds per request are the figures to compare between loaded runs).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from procstat import cpu_seconds, rss_mb, settle  # noqa: E402
from results import at_least, at_most, finish, median, percentile, report  # noqa: E402

READY = re.compile(r"^\s+API\s+(http://\S+)", re.MULTILINE)
PASSWORD = "Bench-Passw0rd!x"
SOLD_OUT_SKU = "p-0001-1"
START_TIMEOUT_S = 300
CART_ADD_SKUS = 10     # distinct SKUs per client in the POST /cart/items phase (< MAX_CART_LINES)
SECTIONS = ("startup", "memory", "products", "product", "cart", "cart-add", "checkout")


# ---- the server under test ------------------------------------------------------------------

class Server:
    def __init__(self, *args: str) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="hc-local-bench-"))
        self.log = self.workdir / "local.log"
        self.started = time.perf_counter()
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "headless_commerce.cli", "local", "--port", "0", *args],
                cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
        self.url = self._wait()
        self.startup_s = time.perf_counter() - self.started
        self.well_known = json.loads(urllib.request.urlopen(
            f"{self.url}/.well-known/headless-commerce.json", timeout=30).read())

    def _wait(self) -> str:
        url = None
        while time.perf_counter() - self.started < START_TIMEOUT_S:
            if self.process.poll() is not None:
                raise SystemExit(f"local mode exited {self.process.returncode}:\n"
                                 f"{self.log.read_text()}")
            if url is None:
                found = READY.search(self.log.read_text(errors="replace"))
                url = found.group(1) if found else None
            if url:
                try:
                    with urllib.request.urlopen(f"{url}/products?limit=20", timeout=30) as reply:
                        if reply.status == 200 and json.loads(reply.read())["items"]:
                            return url
                except OSError:
                    pass
            time.sleep(0.02)
        raise SystemExit(f"local mode did not answer GET /products in {START_TIMEOUT_S} s")

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def stop(self) -> tuple[float, int]:
        stopping = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        seconds = time.perf_counter() - stopping
        if "Traceback" in self.log.read_text(errors="replace"):
            print(self.log.read_text(errors="replace")[-4000:])
            code = code or 99
        shutil.rmtree(self.workdir, ignore_errors=True)
        return seconds, code


# ---- shoppers (set up from this process, before any clock starts) -----------------------------

def _cognito(server: Server):
    import boto3

    return boto3.session.Session().client(
        "cognito-idp", endpoint_url=server.well_known["aws_endpoint_url"],
        region_name=server.well_known["region"], aws_access_key_id="local",
        aws_secret_access_key="local")


def sign_up(server: Server, count: int) -> list[str]:
    cognito, client_id = _cognito(server), server.well_known["user_pool_client_id"]
    tokens = []
    for _ in range(count):
        email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        cognito.sign_up(ClientId=client_id, Username=email, Password=PASSWORD,
                        UserAttributes=[{"Name": "email", "Value": email}])
        cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode="000000")
        tokens.append(cognito.initiate_auth(
            ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
        )["AuthenticationResult"]["IdToken"])
    return tokens


def call(url: str, method: str, path: str, token: str | None = None, body: object = None,
         headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {}),
                 **({"Authorization": token} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# ---- clients in a second process ---------------------------------------------------------------
# A request: (kind, method, path, token, body, headers, expected status).

def _client_process(host: str, port: int, plans: list[list[tuple]], seconds: float | None,
                    queue) -> None:
    """One thread per plan, each on its own keep-alive connection, until its plan ends or the
    deadline passes. Sends back per-kind latencies, unexpected answers and the elapsed time."""
    latencies: dict[str, list[float]] = {}
    problems: list[str] = []
    lock = threading.Lock()
    begin = time.perf_counter()
    deadline = begin + seconds if seconds else None

    def worker(plan: list[tuple]) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=120)
        mine: dict[str, list[float]] = {}
        wrong: list[str] = []
        for kind, method, path, token, body, headers, expected in plan:
            if deadline and time.perf_counter() >= deadline:
                break
            data = None if body is None else json.dumps(body).encode()
            all_headers = {**(headers or {}), **({"Authorization": token} if token else {})}
            if data is not None:
                all_headers["Content-Type"] = "application/json"
            start = time.perf_counter()
            try:
                connection.request(method, path, body=data, headers=all_headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as error:
                wrong.append(f"{kind}: {type(error).__name__} {error}")
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=120)
                continue
            mine.setdefault(kind, []).append(time.perf_counter() - start)
            if response.status != expected:
                wrong.append(f"{kind}: {response.status} {payload[:200]!r}")
        connection.close()
        with lock:
            for kind, values in mine.items():
                latencies.setdefault(kind, []).extend(values)
            problems.extend(wrong)

    threads = [threading.Thread(target=worker, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((latencies, problems, time.perf_counter() - begin))


def run_clients(server: Server, plans: list[list[tuple]], seconds: float | None = None
                ) -> tuple[dict[str, list[float]], list[str], float]:
    parts = urlsplit(server.url)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_client_process,
                              args=(parts.hostname, parts.port, plans, seconds, queue))
    process.start()
    result = queue.get(timeout=(seconds or 0) + 3600)
    process.join()
    return result


# ---- measurements --------------------------------------------------------------------------------

def startup(samples: int, label: str, *args: str) -> None:
    times = []
    for _ in range(samples):
        server = Server(*args)
        times.append(server.startup_s)
        server.stop()
    at_most(f"start-up to first GET /products, {label} s", median(times),
            15 if "10000" not in label else 60)


def throughput(server: Server, kind: str, make_plans, samples: int, seconds: float,
               rate_target: float | None, p50_target: float | None) -> None:
    rates, p50s, p95s, cpus, flows, errors = [], [], [], [], [], 0
    for _ in range(samples):
        plans = make_plans()
        settle(server.process.pid)
        before = cpu_seconds(server.process.pid)
        latencies, problems, elapsed = run_clients(server, plans, seconds)
        serving = cpu_seconds(server.process.pid)
        settle(server.process.pid)
        values = latencies.get(kind, [])
        cpus.append((serving - before) * 1000 / max(1, len(values)))
        flows.append((cpu_seconds(server.process.pid) - before) * 1000 / max(1, len(values)))
        errors += len(problems)
        if problems:
            print(f"  {kind}: {len(problems)} unexpected answers, first: {problems[0]}")
        rates.append(len(values) / min(elapsed, seconds) if seconds else len(values) / elapsed)
        p50s.append(percentile(values, 0.5) if values else float("inf"))
        p95s.append(percentile(values, 0.95) if values else float("inf"))
    rate, p50, p95 = median(rates), median(p50s), median(p95s)
    if rate_target:
        at_least(f"{kind} per second", rate, rate_target)
    else:
        report(f"{kind} per second", rate)
    if p50_target:
        at_most(f"{kind} p50 ms", p50, p50_target)
    else:
        report(f"{kind} p50 ms", p50)
    report(f"{kind} p95 ms", p95)
    # CPU time of the server process per request, while the clients ran, then until its event
    # flow was idle again (what each request set off in the background, such as an order's
    # consumers): comparable between runs however loaded the machine is.
    report(f"{kind} server CPU ms per request", median(cpus))
    report(f"{kind} server CPU ms per request incl. event flow", median(flows))
    at_most(f"{kind} unexpected answers", errors, 0)


def fill_carts(server: Server, tokens: list[str], skus: list[str]) -> None:
    for token in tokens:
        status, body = call(server.url, "POST", "/cart/items", token,
                            {"sku": random.choice(skus), "quantity": 1})
        assert status == 200, body


def checkout_request(token: str, expected: int = 201) -> tuple:
    return ("POST /checkout", "POST", "/checkout", token, {"payment_token": "tok_visa"},
            {"Idempotency-Key": uuid.uuid4().hex}, expected)


def bench_catalog(products: int) -> dict:
    """The demo catalog with stock that lasts the whole run, and one sold-out SKU whose
    checkouts are cancelled by DynamoDB (the stock condition of the transaction fails)."""
    from headless_commerce.local import demo_catalog

    catalog = demo_catalog.generate(products)
    for product in catalog["products"]:
        for sku in product["skus"]:
            sku["stock"] = 0 if sku["sku"] == SOLD_OUT_SKU else 1_000_000
    return catalog


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--mixed", type=int, default=10_000)
    parser.add_argument("--cancelled", type=int, default=1000)
    parser.add_argument("--startup-samples", type=int, default=None,
                        help="start-up samples (default --samples)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run, of {','.join(SECTIONS)}")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if only - set(SECTIONS):
        parser.error(f"unknown --only section(s): {','.join(sorted(only - set(SECTIONS)))}")
    startup_samples = args.startup_samples or args.samples
    clients, rng = args.clients, random.Random(7)

    print(f"python {sys.version.split()[0]}; {clients} keep-alive clients in a second process; "
          f"median of {args.samples} samples of {args.seconds:g} s", flush=True)
    report("machine load average (1 min) at the start", os.getloadavg()[0])
    if "startup" in only:
        startup(startup_samples, "demo catalog")

    workdir = Path(tempfile.mkdtemp(prefix="hc-local-bench-data-"))
    try:
        if "startup" in only:
            big = workdir / "catalog-10000.json"
            big.write_text(json.dumps(bench_catalog(10_000)))
            startup(startup_samples, "10000 products", "--catalog", str(big))
        if not only - {"startup"}:
            shutil.rmtree(workdir, ignore_errors=True)
            report("machine load average (1 min) at the end", os.getloadavg()[0])
            return finish()

        catalog_file = workdir / "catalog.json"
        catalog = bench_catalog(args.products)
        catalog_file.write_text(json.dumps(catalog))
        skus = [s["sku"] for p in catalog["products"] for s in p["skus"] if s["sku"] != SOLD_OUT_SKU]
        ids = [p["product_id"] for p in catalog["products"]]
        server = Server("--catalog", str(catalog_file))
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    try:
        cart_tokens = sign_up(server, clients)
        fill_carts(server, cart_tokens, skus)

        # -- memory: mixed requests with cancelled checkouts ---------------------------------
        cancel_tokens = sign_up(server, clients)
        for token in cancel_tokens:
            status, body = call(server.url, "POST", "/cart/items", token,
                                {"sku": SOLD_OUT_SKU, "quantity": 1})
            assert status == 200, body
        buyer_tokens = sign_up(server, clients)
        before = server.rss_mb()

        def mixed_plans(count: int, cancelled: int) -> list[list[tuple]]:
            per_client, cancelled_each = count // clients, cancelled // clients
            plans = []
            for i in range(clients):
                # Units keep a purchase's add and checkout together; their order is shuffled.
                units: list[list[tuple]] = [[checkout_request(cancel_tokens[i], 409)]
                                            for _ in range(cancelled_each)]
                for _ in range((per_client - cancelled_each) // 10):
                    units.append([("mixed", "POST", "/cart/items", buyer_tokens[i],
                                   {"sku": rng.choice(skus), "quantity": 1}, None, 200),
                                  checkout_request(buyer_tokens[i])])
                while sum(len(u) for u in units) < per_client:
                    choice = rng.random()
                    if choice < 0.2:
                        units.append([("mixed", "GET", "/products", None, None, None, 200)])
                    elif choice < 0.9:
                        units.append([("mixed", "GET", f"/products/{rng.choice(ids)}", None,
                                       None, None, 200)])
                    else:
                        units.append([("mixed", "GET", "/cart", cart_tokens[i], None, None, 200)])
                rng.shuffle(units)
                plans.append([request for unit in units for request in unit])
            return plans

        # The baseline follows a warm-up of the same mix (handlers imported, schemas compiled,
        # caches and malloc's arenas at their working size) and the event flow catching up:
        # what is left of the growth is what the requests keep.
        if "memory" in only:
            before = memory(server, mixed_plans, args)

        # -- throughput ---------------------------------------------------------------------
        def endless(make):
            return lambda: [[make(i) for _ in range(100_000)] for i in range(clients)]

        if "products" in only:
            throughput(server, "GET /products", endless(lambda i: (
                "GET /products", "GET", "/products", None, None, None, 200)),
                args.samples, args.seconds, 200, None)
        if "product" in only:
            throughput(server, "GET /products/{id}", endless(lambda i: (
                "GET /products/{id}", "GET", f"/products/{rng.choice(ids)}", None, None, None,
                200)), args.samples, args.seconds, 200, None)
        if "cart" in only:
            throughput(server, "GET /cart", endless(lambda i: (
                "GET /cart", "GET", "/cart", cart_tokens[i], None, None, 200)),
                args.samples, args.seconds, None, None)
        # A cart holds at most MAX_CART_LINES lines (409 cart_full past that): each client
        # adds from its own few SKUs, so its cart stays small and every add answers 200
        # (adding a SKU the cart has raises its quantity, which is capped, never refused).
        own_skus = [rng.sample(skus, CART_ADD_SKUS) for _ in range(clients)]
        if "cart-add" in only:
            throughput(server, "POST /cart/items", endless(lambda i: (
                "POST /cart/items", "POST", "/cart/items", buyer_tokens[i],
                {"sku": rng.choice(own_skus[i]), "quantity": 1}, None, 200)),
                args.samples, args.seconds, None, None)
        # Every checkout needs a filled cart: shoppers are prepared before each sample, as
        # many as the fastest allowed rate could use, and only the checkouts are timed.
        per_sample = max(4, int(40 * args.seconds))

        def checkout_plans():
            tokens = sign_up(server, per_sample)
            fill_carts(server, tokens, skus)
            return [[checkout_request(t) for t in tokens[i::clients]] for i in range(clients)]

        if "checkout" in only:
            throughput(server, "POST /checkout", checkout_plans, args.samples, 0, 20, 100)
        at_most("RSS after the run MB", server.rss_mb(), before + 150)
    finally:
        seconds, code = server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    at_most(f"SIGTERM to exit s (exit code {code})", seconds if code == 0 else 999, 5)
    report("machine load average (1 min) at the end", os.getloadavg()[0])
    return finish()


def memory(server: Server, mixed_plans, args) -> float:
    """RSS growth over `--mixed` requests after a warm-up of a tenth of them; returns the RSS
    before them."""
    clients = args.clients
    run_clients(server, mixed_plans(max(clients, args.mixed // 10), args.cancelled // 10))
    settle(server.process.pid)
    before = server.rss_mb()
    plans = mixed_plans(args.mixed, args.cancelled)
    total = sum(len(p) for p in plans)
    _latencies, problems, elapsed = run_clients(server, plans)
    settle(server.process.pid)
    after = server.rss_mb()
    cancelled = len([1 for plan in plans for r in plan if r[6] == 409])
    report(f"mixed requests sent ({cancelled} cancelled checkouts)", total)
    report("mixed requests wall time s", elapsed)
    at_most("mixed requests unexpected answers", len(problems), 0)
    if problems:
        print(f"  first: {problems[0]}")
    report("RSS before the mixed requests MB", before)
    at_most("RSS growth over the mixed requests MB", after - before, 50)
    return before


if __name__ == "__main__":
    sys.exit(main())
