"""`headless-commerce search reindex`: a full backfill of the search index with an alias swap.

Against AWS the domain sits in private subnets, so the command does not talk to it: it
invokes the indexer function (`--function NAME`, or `--stack NAME` to read the Commerce
stack's SearchIndexerFunction output) with {"action": "reindex"}, and the function rebuilds
from inside the VPC. In local mode (`--local URL`) it asks the running local store to rebuild.
Exit codes: 0 done, 1 the rebuild failed, 2 a usage problem.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request

from .admin_invoke import add_target_arguments, invoke, stack_output

OUTPUT_KEY = "SearchIndexerFunction"
REINDEX_EVENT = {"action": "reindex"}


def add_parser(commands) -> None:
    search = commands.add_parser("search", help="product search operations")
    actions = search.add_subparsers(dest="search_command", required=True)
    reindex = actions.add_parser(
        "reindex", help="rebuild the search index from the table, then swap the alias (no downtime)",
        description="Rebuild the product search index from the commerce table into a new index and "
                    "swap the alias to it atomically.")
    add_target_arguments(reindex, function_help="the deployed search indexer function", output_key=OUTPUT_KEY)

def _print(result: dict) -> None:
    print(f"reindexed {result.get('documents')} products into {result.get('index')} "
          f"in {result.get('seconds')} s", flush=True)


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


def indexer_function(cloudformation, stack: str) -> str | None:
    return stack_output(cloudformation, stack, OUTPUT_KEY)


def reindex_on_aws(lambda_client, function: str) -> tuple[dict | None, str | None]:
    """(result, None) or (None, error) of invoking the indexer with the reindex event."""
    return invoke(lambda_client, function, REINDEX_EVENT)


def reindex_local(url: str) -> dict:
    from headless_commerce.local.search import REINDEX_PATH

    request = urllib.request.Request(url.rstrip("/") + REINDEX_PATH, method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def run(args: argparse.Namespace) -> int:
    if args.local:
        try:
            result = reindex_local(args.local)
        except (urllib.error.URLError, OSError) as problem:
            return _fail(f"cannot reach local mode at {args.local}: {problem}")
        _print(result)
        return 0
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.session.Session(region_name=args.region)
    try:
        function = args.function or indexer_function(session.client("cloudformation"), args.stack)
        if function is None:
            return _fail(f"stack {args.stack} has no {OUTPUT_KEY} output (is search switched off?)", 2)
        result, error = reindex_on_aws(session.client("lambda"), function)
    except (BotoCoreError, ClientError) as problem:
        return _fail(str(problem))
    if error:
        return _fail(error)
    _print(result)
    return 0
