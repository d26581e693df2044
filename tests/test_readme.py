"""Every README code block meant to work runs here, so the README cannot drift from the code.

Convention: a fenced `python`, `bash` or `sh` block runs unless the line before its fence is
`<!-- readme-test: skip (reason) -->`; the reason is required and says why it cannot run in a
test (it deploys, needs AWS credentials, starts a server). Blocks without a language (sample
output) are not code. Python blocks run in a fresh process from an empty directory with
`CDK_OUTDIR` set; a block that synthesizes must write a template that passed its gate.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RUNNABLE = {"python", "bash", "sh"}
SKIP = re.compile(r"^<!-- readme-test: skip \((?P<reason>.{10,})\) -->$")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")


@dataclass
class Block:
    line: int
    lang: str
    code: str
    skip_reason: str | None


def readme_blocks(text: str) -> list[Block]:
    blocks, lines, index = [], text.splitlines(), 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        previous = lines[index - 1].strip() if index else ""
        marker = SKIP.match(previous)
        blocks.append(Block(index + 1, opening["lang"], "\n".join(lines[index + 1:end]) + "\n",
                            marker["reason"] if marker else None))
        index = end + 1
    return blocks


BLOCKS = readme_blocks(README.read_text())
TO_RUN = [b for b in BLOCKS if b.lang in RUNNABLE and b.skip_reason is None]


def test_convention_is_followed():
    assert TO_RUN, "the README has no runnable block left"
    for block in BLOCKS:
        if block.skip_reason is not None:
            assert block.lang in RUNNABLE, f"README line {block.line}: skip marker on a non-code block"
    # A malformed marker (no reason) would silently make a block run or be ignored: refuse it.
    for number, line in enumerate(README.read_text().splitlines(), 1):
        if line.strip().startswith("<!-- readme-test"):
            assert SKIP.match(line.strip()), f"README line {number}: use <!-- readme-test: skip (reason) -->"


@pytest.mark.parametrize("block", TO_RUN, ids=lambda b: f"README-line-{b.line}-{b.lang}")
def test_readme_block_runs(block, tmp_path):
    outdir = tmp_path / "cdk.out"
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    command = (
        [sys.executable, "-c", block.code] if block.lang == "python" else ["bash", "-euo", "pipefail", "-c", block.code]
    )
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"README line {block.line} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    if "app.synth()" in block.code:
        templates = list(outdir.glob("*.template.json"))
        assert templates, f"README line {block.line} synthesized nothing into {outdir}"
        report = outdir / "validation-report.json"
        if report.exists():
            violations = [v for p in json.loads(report.read_text())["pluginReports"] for v in p["violations"]]
            assert violations == []


def test_own_app_example_warns_about_the_az_count(tmp_path):
    """The README's own-app stack has no account: CDK gives it two AZs, prod wants three."""
    (block,) = [b for b in TO_RUN if "add_compliance_gate(app)" in b.code]
    outdir = tmp_path / "out"
    # Without the Makefile's variable: the package sets it before jsii starts.
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_SILENCE")} | {"CDK_OUTDIR": str(outdir)}
    result = subprocess.run([sys.executable, "-c", block.code], cwd=tmp_path, env=env, check=True,
                            capture_output=True, text=True, timeout=600)
    assert "end-of-life" not in result.stdout + result.stderr
    metadata = json.dumps([json.loads(p.read_text()) for p in outdir.glob("*.metadata.json")])
    assert "asks for 3 availability zones but this stack offers 2" in metadata
    template = json.loads((outdir / "Shop.template.json").read_text())
    authorizers = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Authorizer"]
    methods = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"
               and r["Properties"].get("AuthorizationType") == "COGNITO_USER_POOLS"]
    assert len(authorizers) == 1 and methods  # the authorizer is attached to the API's routes

