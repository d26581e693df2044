"""Synth time of the reference app beside a one-table app, in the same run (a script, not a
test); exits 1 when a figure misses its target.

    .venv/bin/python bench/synth_bench.py [--samples 3]

Each sample synthesizes, in a fresh interpreter and a fresh output directory:
- the full reference app (`app.py`, default context: every stack, cdk-nag's three packs);
- a one-table app: one stack holding only `CommerceTable`, with the same interpreter start and
  CDK import, so the difference between the two is what the reference app itself costs.
The ratio of the two medians moves far less with the machine's load than either time does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from results import at_most, finish, median, report  # noqa: E402 - needs the path above

FULL_APP_S = 120.0       # a quiet 2-core machine: about 75 s
ONE_TABLE_APP = """
import aws_cdk as cdk
from headless_commerce.config import get_profile
from headless_commerce.constructs.commerce_table import CommerceTable

app = cdk.App()
stack = cdk.Stack(app, "OneTable")
CommerceTable(stack, "Data", profile=get_profile("dev"))
app.synth()
"""


def timed(command: list[str]) -> float:
    out = tempfile.mkdtemp(prefix="hc-synth-bench-")
    try:
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "CDK_OUTDIR": out,
                            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"})
        return time.perf_counter() - started
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    full, one = [], []
    for _ in range(args.samples):      # interleaved: both see the same machine load
        one.append(timed([sys.executable, "-c", ONE_TABLE_APP]))
        full.append(timed([sys.executable, "app.py"]))
    at_most("synth s, full reference app", median(full), FULL_APP_S)
    report("synth s, one-table app", median(one))
    report("synth time ratio, full app / one-table app", median(full) / median(one))
    return finish()


if __name__ == "__main__":
    sys.exit(main())
