"""`headless-commerce` command line: `headless-commerce local [--port N] [--catalog FILE]
[--data-dir DIR]` and `headless-commerce feed publish <feed> FILE.jsonl (--local URL |
--bootstrap-servers HOSTS | --cluster-arn ARN)`; `headless-commerce cost [-c KEY=VALUE ...]`
(headless_commerce/cost/command.py); `headless-commerce fraud review` (headless_commerce/fraud_admin.py).

Exit codes: 0 after a clean stop (Ctrl-C, SIGTERM) or a published feed, 2 for a usage problem
(the `local` or `kafka` extra not installed, invalid catalog file, unusable data directory,
busy port, unreadable feed file, no local mode at the URL), 1 if local mode fails to start.
"""

from __future__ import annotations

import argparse
import errno
import gc
import importlib.util
import logging
import os
import signal
import sys
import threading
import time


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="headless-commerce",
                                     description="Headless commerce on AWS: tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser(
        "local", help="run the store on this machine (embedded AWS, no account needed)",
        description="Run the API, the event flow and a seeded catalog on an embedded AWS (moto).")
    local.add_argument("--port", type=int, default=8080,
                       help="API port (default 8080; 0 picks a free one)")
    local.add_argument("--storefront-port", type=int, default=None,
                       help="storefront port (default: the API port + 1, or a free one with "
                            "--port 0)")
    local.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    local.add_argument("--catalog", metavar="FILE",
                       help="seed this catalog JSON file (format: headless_commerce/local/CATALOG.md)"
                            " instead of the demo catalog")
    local.add_argument("--data-dir", metavar="DIR",
                       help="keep the store (tables, users and their passwords, pool and client "
                            "ids, secrets) in DIR across stop and start; without it everything "
                            "is in memory and gone when local mode stops")
    local.add_argument("--region", default=os.environ.get("HC_LOCAL_REGION", "us-east-1"),
                       help="region the embedded AWS reports (default us-east-1)")
    local.add_argument("--log-level", default="WARNING",
                       choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                       help="log level of local mode and the handlers (default WARNING)")
    from headless_commerce import search_admin

    search_admin.add_parser(commands)
    from headless_commerce.cost import command as cost_command

    cost_command.add_parser(commands)
    from headless_commerce import fraud_admin

    fraud_admin.add_parser(commands)
    feed = commands.add_parser("feed", help="integration feeds (PIM catalog, inventory, order status)")
    feed_commands = feed.add_subparsers(dest="feed_command", required=True)
    publish = feed_commands.add_parser(
        "publish", help="publish a JSON Lines file to a feed",
        description="One record per line. --local delivers MSK-shaped batches to a running local mode's "
                    "consumers (no Kafka broker runs locally); --bootstrap-servers or --cluster-arn "
                    "produces to the topic on Amazon MSK with IAM auth, from a host inside the VPC.")
    from headless_commerce.runtime.feeds.names import FEEDS

    publish.add_argument("feed", choices=sorted(FEEDS), help="which feed")
    publish.add_argument("file", metavar="FILE.jsonl", help="one JSON record per line")
    target = publish.add_mutually_exclusive_group(required=True)
    target.add_argument("--local", metavar="URL", help="a running `headless-commerce local` (its API URL)")
    target.add_argument("--bootstrap-servers", metavar="HOSTS",
                        help="the cluster's IAM bootstrap brokers (host:9098,...)")
    target.add_argument(
        "--cluster-arn", metavar="ARN", help="look the IAM bootstrap brokers up (kafka:GetBootstrapBrokers)"
    )
    publish.add_argument("--topic", help="topic to produce to (default: the feed's default topic)")
    publish.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
                         help="AWS region of the cluster (default: AWS_REGION)")
    return parser


def run_feed_publish(args: argparse.Namespace) -> int:
    from headless_commerce import feed_publish
    from headless_commerce.runtime.feeds.names import FEEDS

    try:
        messages = feed_publish.read_jsonl(args.feed, args.file)
        if args.local:
            if importlib.util.find_spec("boto3") is None:
                return _error("--local needs the `local` extra: pip install 'headless-commerce[local]'")
            result = feed_publish.publish_local(args.feed, messages, args.local)
            print(f"published {result.published} records to the local {args.feed} feed in {result.requests} "
                  f"request(s); {result.failures_queued} set aside in the failure queue "
                  f"({feed_publish.local_failures_hint()})", flush=True)
            return 0
        if not args.region:
            return _error("--region (or AWS_REGION) is needed to sign the IAM authentication token")
        bootstrap = args.bootstrap_servers or feed_publish.bootstrap_servers(args.cluster_arn, args.region)
        topic = args.topic or FEEDS[args.feed].default_topic
        delivered = feed_publish.publish_kafka(topic, messages, feed_publish.make_producer(bootstrap, args.region))
        print(f"published {delivered} records to {topic}", flush=True)
        return 0
    except feed_publish.PublishError as problem:
        return _error(str(problem))


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 2


# What the `local` extra installs (pyproject.toml), by import name.
LOCAL_EXTRA_MODULES = ("boto3", "aws_lambda_powertools", "moto", "werkzeug", "joserfc", "starlette",
                       "jinja2", "uvicorn", "httpx", "redis", "itsdangerous")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def missing_local_extra() -> list[str]:
    return [name for name in LOCAL_EXTRA_MODULES if importlib.util.find_spec(name) is None]


def run_local(args: argparse.Namespace) -> int:
    missing = missing_local_extra()
    if missing:
        return _error(f"local mode needs the `local` extra ({', '.join(missing)} missing): "
                      "pip install 'headless-commerce[local]'")
    if not 0 <= args.port <= 65535:
        return _error(f"--port must be 0..65535, got {args.port}")
    if args.storefront_port is None:
        args.storefront_port = args.port + 1 if 0 < args.port < 65535 else 0
    if not 0 <= args.storefront_port <= 65535:
        return _error(f"--storefront-port must be 0..65535, got {args.storefront_port}")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", args.log_level)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    started_at = time.monotonic()

    from headless_commerce.local import seed  # light: no boto3, no moto

    catalog = None
    if args.catalog:
        try:
            catalog = seed.load(args.catalog)
        except seed.CatalogError as problem:
            return _error(f"invalid catalog {args.catalog}: {problem}")

    from headless_commerce.local.server import LocalCommerce
    from headless_commerce.local.state import StateError

    try:
        local = LocalCommerce(host=args.host, port=args.port, catalog=catalog, region=args.region,
                              data_dir=args.data_dir, storefront_port=args.storefront_port)
    except StateError as problem:
        return _error(f"--data-dir: {problem}")
    except OSError as problem:
        if problem.errno == errno.EADDRINUSE:
            which = (("--storefront-port", args.storefront_port)
                     if getattr(problem, "storefront", False) else ("--port", args.port))
            return _error(f"port {which[1]} on {args.host} is already in use; stop what is "
                          f"using it or pick another with {which[0]} N ({which[0]} 0 picks a "
                          "free one)")
        return _error(f"cannot listen on {args.host}:{args.port}: {problem.strerror or problem}")

    if args.host not in LOOPBACK_HOSTS:
        print(f"warning: the store's API listens on {args.host}:{local.http.server_address[1]}"
              ": anyone who can reach it can read the catalog and, because the embedded Cognito "
              "signs tokens with moto's published key, forge a sign-in and act as any shopper. "
              "The embedded AWS endpoint (which accepts any credentials) stays on 127.0.0.1.",
              file=sys.stderr, flush=True)
    if local.saved is not None and args.catalog:
        print(f"note: {args.data_dir} already holds a store; --catalog {args.catalog} is not "
              "seeded again", file=sys.stderr, flush=True)
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            started = local.start()
        except Exception as problem:
            logging.getLogger("headless_commerce.local").exception("start-up failed")
            print(f"error: local mode failed to start: {problem}", file=sys.stderr, flush=True)
            local.stop()
            return 1
        if started.products is None:
            catalog_line = f"kept in {args.data_dir}"
        else:
            source = f"from {args.catalog}" if args.catalog else "demo catalog"
            catalog_line = (f"{started.products} products in {started.categories} categories "
                            f"({source})")
        data_line = (f"  data          {args.data_dir} (kept across restarts)\n" if args.data_dir
                     else "  data          in memory only (--data-dir DIR keeps it)\n")
        print(f"Headless Commerce local mode is ready ({time.monotonic() - started_at:.1f} s)\n"
              f"  storefront    {started.storefront_url}\n"
              f"  cache         {started.cache}\n"
              f"  API           {started.api_url}\n"
              f"  well-known    {started.api_url}/.well-known/headless-commerce.json\n"
              f"  OpenAPI       {started.api_url}/openapi.json\n"
              f"  API docs      {started.api_url}/docs\n"
              f"  embedded AWS  {started.aws_endpoint_url}  (region {started.region})\n"
              f"  catalog       {catalog_line}\n"
              f"{data_line}"
              "Press Ctrl-C to stop.", flush=True)
        while not stop.wait(0.5):
            pass
        print("Stopping...", flush=True)
        local.stop()
        # The interpreter's exit runs full garbage collections over everything the store
        # held (moto's items, botocore's models, the search index): 8-12 s after a few hundred
        # orders on a loaded machine. Nothing is left to finalize that needs the collector
        # (the state is saved, the servers are closed), so those objects are left out of it.
        gc.freeze()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "local":
        return run_local(args)
    if args.command == "search":
        from headless_commerce import search_admin

        return search_admin.run(args)
    if args.command == "feed":
        return run_feed_publish(args)
    if args.command == "fraud":
        from headless_commerce import fraud_admin

        return fraud_admin.run(args)
    if args.command == "cost":
        from headless_commerce.cost import command as cost_command

        return cost_command.run(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
