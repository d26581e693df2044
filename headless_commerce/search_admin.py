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

OUTPUT_KEY = "SearchIndexerFunction"
REINDEX_EVENT = {"action": "reindex"}


def add_parser(commands) -> None:
    search = commands.add_parser("search", help="product search operations")
    actions = search.add_subparsers(dest="search_command", required=True)
    reindex = actions.add_parser(
        "reindex", help="rebuild the search index from the table, then swap the alias (no downtime)",
        description="Rebuild the product search index from the commerce table into a new index and "
                    "swap the alias to it atomically.")
    target = reindex.add_mutually_exclusive_group(required=True)
    target.add_argument("--function", metavar="NAME", help="the deployed search indexer function")
    target.add_argument("--stack", metavar="NAME",
                        help=f"a deployed Commerce stack: uses its {OUTPUT_KEY} output")
    target.add_argument("--local", metavar="URL", help="a running local mode's API URL")
    reindex.add_argument("--region", help="AWS region (default: your AWS configuration)")


def _print(result: dict) -> None:
    print(f"reindexed {result.get('documents')} products into {result.get('index')} "
          f"in {result.get('seconds')} s", flush=True)


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


def indexer_function(cloudformation, stack: str) -> str | None:
    stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for s in stacks for o in s.get("Outputs", [])}
    return outputs.get(OUTPUT_KEY)


def reindex_on_aws(lambda_client, function: str) -> tuple[dict | None, str | None]:
    """(result, None) or (None, error) of invoking the indexer with the reindex event."""
    response = lambda_client.invoke(FunctionName=function, InvocationType="RequestResponse",
                                    Payload=json.dumps(REINDEX_EVENT).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = payload.get("errorMessage") if isinstance(payload, dict) else payload
        return None, f"{function} failed: {message}"
    return payload, None


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
