"""The README's local-mode example (sign up or sign in, add to cart, check out, list orders)
runs as written against local mode, and runs again: the second run signs in and orders again."""

from __future__ import annotations

import json
import os
import re
import subprocess

from tests.e2e.conftest import ROOT


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    return next(b for b in blocks if "initiate_auth" in b and "/checkout" in b)


def run_example(api: str) -> list[object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_example()], cwd=ROOT,
                            env={**env, "API": api}, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_readme_example_runs_and_runs_again(local):
    cart, order, orders = run_example(local.api)
    assert cart["lines"][0]["sku"] == "p-0001-4", cart
    assert order["status"] in ("PAID", "ACCEPTED_BY_OMS", "CONFIRMED") or "order_id" in order, order
    assert [o["order_id"] for o in orders["items"]] == [order["order_id"]]

    cart, second, orders = run_example(local.api)
    assert second["order_id"] != order["order_id"], second
    assert {o["order_id"] for o in orders["items"]} == {order["order_id"], second["order_id"]}
