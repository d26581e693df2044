"""What the operations commands (`search reindex`, `fraud review`) share: they act on a
deployed function that is named directly (`--function`), found through a Commerce stack's
output (`--stack`), or replaced by a running local mode (`--local`), and they invoke it
synchronously with one JSON event.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_target_arguments(parser: argparse.ArgumentParser, *, function_help: str, output_key: str) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--function", metavar="NAME", help=function_help)
    target.add_argument("--stack", metavar="NAME", help=f"a deployed Commerce stack: uses its {output_key} output")
    target.add_argument("--local", metavar="URL", help="a running local mode's API URL")
    parser.add_argument("--region", help="AWS region (default: your AWS configuration)")


def stack_output(cloudformation, stack: str, output_key: str) -> str | None:
    """The value of the stack's output named `output_key` (CDK may suffix the key with a hash)."""
    stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return next((o["OutputValue"] for s in stacks for o in s.get("Outputs", [])
                 if o["OutputKey"].startswith(output_key)), None)


def invoke(lambda_client, function: str, event: dict) -> tuple[Any, str | None]:
    """(answer, None), or (None, the function's error message) when it raised."""
    response = lambda_client.invoke(FunctionName=function, InvocationType="RequestResponse",
                                    Payload=json.dumps(event).encode())
    answer = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = answer.get("errorMessage") if isinstance(answer, dict) else answer
        return None, f"{function} failed: {message}"
    return answer, None
