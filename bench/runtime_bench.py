"""Print runtime numbers against their targets (a script, not a test).

    .venv/bin/python bench/runtime_bench.py

- DynamoDB calls per operation (get product, add to cart, checkout), counted with a botocore
  before-call hook on the runtime's client, under moto.
- Import time of each handler module beyond boto3 (python -X importtime, in a subprocess).
- Zipped size of the Lambda code asset.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update({
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
    "TABLE_NAME": "bench", "PAYMENT_PROVIDER": "sandbox", "POWERTOOLS_SERVICE_NAME": "bench",
})

sys.path.insert(0, str(ROOT / "bench"))
from results import at_most, finish, median, report  # noqa: E402 - needs the path above

from headless_commerce.runtime import routes  # noqa: E402
from headless_commerce.runtime.events import subscriptions  # noqa: E402


def dynamodb_calls() -> None:
    from moto import mock_aws

    from headless_commerce import model
    from headless_commerce.runtime.catalog import repository as catalog_repository
    from headless_commerce.runtime.common import aws
    from headless_commerce.runtime.payments import provider
    from headless_commerce.runtime.payments.sandbox import SandboxProvider

    # The test helpers build API Gateway events; importing them also sets test env values.
    from tests.runtime.conftest import add, call, checkout

    with mock_aws():
        aws.reset_clients()
        client = aws.dynamodb()
        client.create_table(TableName=os.environ["TABLE_NAME"], **model.table_definition_kwargs())
        catalog_repository.put_product({"product_id": "p1", "name": "Bench", "price_amount": 100},
                                 [{"sku": "s1", "stock": 100}, {"sku": "s2", "stock": 100}])
        provider.set_provider(SandboxProvider())
        calls: list[str] = []
        client.meta.events.register("before-call.dynamodb.*",
                                    lambda model=None, **_: calls.append(model.name))

        def measure(label: str, action, limit: int, core: int | None = None) -> None:
            calls.clear()
            status = action().status
            assert status in (200, 201), (label, status)
            count = len(calls) if core is None else len(calls[:core])
            at_most(f"dynamodb calls: {label}", count, limit)
            print(f"    {' '.join(calls)}")

        measure("get product", lambda: call("GET", "/products/{product_id}",
                                            path_params={"product_id": "p1"}), 1)
        add("bench-user", "s2")
        measure("add to cart (existing cart)", lambda: add("bench-user", "s1", 2), 2)
        measure("add to cart (new cart)", lambda: add("bench-user-2", "s1", 1), 2)
        calls.clear()
        assert checkout("bench-user", "bench-key-0001").status == 201
        total = len(calls)
        core = calls[:calls.index("TransactWriteItems") + 1]
        # Cart + key, prices, one velocity counter per dimension the fraud screen sees (customer,
        # payment token; a public address adds one, a large order a profile read and a history
        # query), the placing transaction.
        at_most("dynamodb calls: checkout before payment (incl. fraud screen)", len(core), 5)
        print(f"    {' '.join(calls)}")
        report("dynamodb calls: checkout total (incl. settle)", total)
        calls.clear()
        assert checkout("bench-user", "bench-key-0001").status == 201
        report("dynamodb calls: checkout replay (same key)", len(calls))
        aws.reset_clients()


# Every deployed handler module: the route table's and the event consumers'.
HANDLERS = list(dict.fromkeys(
    spec.handler.rsplit(".", 1)[0]
    for spec in (*routes.FUNCTIONS.values(), routes.POST_CONFIRMATION, routes.ORDER_SWEEPER)
)) + [handler.rsplit(".", 1)[0] for handler in subscriptions.ALL_HANDLERS]
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def import_times(repeats: int = 5) -> None:
    for module in HANDLERS:
        samples = []
        for _ in range(repeats):
            result = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", f"import boto3; import {module}"],
                cwd=ROOT, capture_output=True, text=True, check=True)
            # Top-level entries only (no indent): everything after boto3 was imported for us.
            total, after_boto3 = 0, False
            for line in result.stderr.splitlines():
                match = _LINE.match(line)
                if not match or len(match.group(3)) != 1:
                    continue
                if match.group(4) == "boto3":
                    after_boto3 = True
                elif after_boto3:
                    total += int(match.group(2))
            samples.append(total / 1000)
        at_most(f"import ms beyond boto3: {module.split('runtime.')[1]}", median(samples), 50)


def asset_size() -> None:
    package = ROOT / "headless_commerce"
    files = [package / "__init__.py", package / "model.py"]
    files += [p for p in sorted((package / "runtime").rglob("*"))
              if p.is_file() and "__pycache__" not in p.parts and "tests" not in p.parts]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            if path.exists():
                archive.write(path, path.relative_to(ROOT))
    kb = len(buffer.getvalue()) / 1024
    missing = "" if (package / "__init__.py").exists() else " (headless_commerce/__init__.py absent)"
    at_most(f"lambda code asset zipped KB{missing}", kb, 500)


def main() -> int:
    print(f"python {sys.version.split()[0]}")
    dynamodb_calls()
    import_times()
    asset_size()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
