"""`headless-commerce fraud review`: list the orders the fraud screen held, release or reject one.

Against AWS it invokes the review function (`--function NAME`, or `--stack NAME` to read the
Commerce stack's output) with the same payload an operator would send with `aws lambda invoke`.
In local mode (`--local URL`) it runs the same review service against the running store's
embedded AWS (the address comes from its /.well-known document). Prints the JSON answer.
Exit codes: 0 done, 1 the review was refused (not held, already reviewed), 2 a usage problem.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import urllib.error
import urllib.request

from .admin_invoke import add_target_arguments, invoke, stack_output

OUTPUT_PREFIX = "FraudReviewFunction"


def add_parser(commands) -> None:
    fraud = commands.add_parser("fraud", help="fraud screening operations")
    actions = fraud.add_subparsers(dest="fraud_command", required=True)
    review = actions.add_parser(
        "review", help="list held orders, or release or reject one",
        description="Without --release or --reject: the orders held for review, oldest first, with their "
                    "score and reasons. --release pays and confirms one; --reject cancels it and gives the "
                    "stock back.")
    add_target_arguments(review, function_help="the deployed review function", output_key=OUTPUT_PREFIX)
    verdict = review.add_mutually_exclusive_group()
    verdict.add_argument("--release", metavar="ORDER_ID", help="release the held order to payment")
    verdict.add_argument("--reject", metavar="ORDER_ID", help="cancel the held order")
    review.add_argument("--reviewer", default=os.environ.get("USER") or "operator",
                        help="who decided (recorded with the decision; default $USER)")
    review.add_argument("--note", default="", help="why (recorded with the decision)")


def payload(args: argparse.Namespace) -> dict:
    if args.release:
        return {"action": "release", "order_id": args.release, "reviewer": args.reviewer, "note": args.note}
    if args.reject:
        return {"action": "reject", "order_id": args.reject, "reviewer": args.reviewer, "note": args.note}
    return {"action": "list"}


def review_local(url: str, event: dict) -> dict:
    """Run the review service in this process against local mode's embedded AWS."""
    with urllib.request.urlopen(url.rstrip("/") + "/.well-known/headless-commerce.json", timeout=10) as response:
        document = json.loads(response.read())
    with contextlib.redirect_stdout(sys.stderr):  # the runtime's logger binds stdout when imported
        from headless_commerce.local import aws as embedded
        from headless_commerce.runtime import settings
        from headless_commerce.runtime.common import aws

    os.environ.update({
        "AWS_ENDPOINT_URL": document["aws_endpoint_url"], "AWS_DEFAULT_REGION": document["region"],
        "AWS_ACCESS_KEY_ID": embedded.LOCAL_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": embedded.LOCAL_ACCESS_KEY,
        settings.TABLE_NAME: f"{embedded.PREFIX}-commerce", settings.PAYMENT_PROVIDER: "sandbox"})
    aws.reset_clients()
    # The runtime logs (JSON lines) to stdout, where this command prints its answer.
    with contextlib.redirect_stdout(sys.stderr):
        from headless_commerce.runtime.fraud import review

        return review.handle(event)


def review_on_aws(args: argparse.Namespace, event: dict) -> dict:
    import boto3

    session = boto3.session.Session(region_name=args.region)
    function = args.function or stack_output(session.client("cloudformation"), args.stack, OUTPUT_PREFIX)
    if function is None:
        raise LookupError(f"stack {args.stack} has no {OUTPUT_PREFIX} output (is fraud on?)")
    answer, error = invoke(session.client("lambda"), function, event)
    return {"error": error} if error else answer


def run(args: argparse.Namespace) -> int:
    event = payload(args)
    if args.local:
        try:
            answer = review_local(args.local, event)
        except (urllib.error.URLError, OSError) as problem:
            return _fail(f"cannot reach local mode at {args.local}: {problem}", 2)
    else:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = review_on_aws(args, event)
        except LookupError as problem:
            return _fail(str(problem), 2)
        except (BotoCoreError, ClientError) as problem:  # no credentials, access denied, no such stack
            return _fail(str(problem), 1)
    print(json.dumps(answer, indent=2, default=str))
    return 1 if "error" in answer else 0


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code
