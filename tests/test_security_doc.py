"""SECURITY.md says what the code does: the packs the gate applies, the acknowledgment rule,
the per-profile controls, the files it points auditors to; its code block runs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from aws_cdk import App, Stack

from headless_commerce import app_builder
from headless_commerce.config import PROFILES
from headless_commerce.constructs import _nag
from tests.test_readme import readme_blocks

ROOT = Path(__file__).resolve().parent.parent
SECURITY = ROOT / "SECURITY.md"
TEXT = SECURITY.read_text()
FLAT = " ".join(TEXT.split())


def section(title: str) -> str:
    start = TEXT.index(f"\n## {title}\n")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start:end if end != -1 else None]


def table_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]
            if not set(row) <= set("|- ")]


class _Recorder:
    def __init__(self) -> None:
        self.plugins: list = []

    def of(self, _scope):
        return self

    def add_plugins(self, *plugins) -> None:
        self.plugins.extend(plugins)


def test_every_pack_the_gate_applies_is_listed(monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr(app_builder, "Validations", recorder)
    app_builder.add_compliance_gate(App())
    assert len(recorder.plugins) >= 3
    gate = section("The compliance gate")
    packs = [row for row in table_rows(gate) if len(row) == 3]
    assert len(packs) == len(recorder.plugins)
    for plugin in recorder.plugins:
        (row,) = [r for r in packs if f"`{type(plugin).__name__}`" == r[1]]
        assert row[2] == f"`{plugin.name}-*`"


def test_the_acknowledgment_rule_is_the_one_enforced():
    assert f"at least {_nag.MIN_REASON_LENGTH} characters" in FLAT
    with pytest.raises(ValueError):
        _nag.acknowledge(Stack(App(), "S"), "AwsSolutions-SQS3", "x" * (_nag.MIN_REASON_LENGTH - 1))
    # The example reason is a real one, word for word (read from the code, not synthesized).
    quoted = re.search(r"for example the dev user pool's: \*\"(.+?)\"\*", FLAT).group(1)
    source = ast.parse((ROOT / "headless_commerce/constructs/identity.py").read_text())
    reasons = [" ".join(call.args[2].value.split()) for call in ast.walk(source)
               if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "acknowledge"
               and isinstance(call.args[2], ast.Constant)]
    assert quoted in reasons


def test_per_profile_claims_match_the_profiles():
    dev, prod = PROFILES["dev"], PROFILES["prod"]
    assert (dev.mfa_required, dev.threat_protection) == (False, False)
    assert (prod.mfa_required, prod.threat_protection) == (True, True)
    assert "**dev**: MFA optional (TOTP), Essentials plan, no threat protection" in FLAT
    assert "**prod**: TOTP MFA required, Plus plan with threat protection" in FLAT
    assert (dev.log_retention.name, prod.log_retention.name) == ("ONE_MONTH", "ONE_YEAR")
    assert "kept 1 month (dev) or 1 year (prod)" in FLAT
    assert (dev.deletion_protection, prod.deletion_protection) == (False, True)
    assert (dev.point_in_time_recovery, prod.point_in_time_recovery) == (False, True)
    assert (dev.event_archive_retention.to_days(), prod.event_archive_retention.to_days()) == (7, 365)
    assert "the bus archive kept 365 days" in FLAT and "7-day archive" in FLAT


def test_every_file_it_points_to_exists():
    """The `where` column: a bare file name is in the folder of the path before it."""
    controls = table_rows(section("Controls"))
    assert len(controls) >= 10
    for row in controls:
        folder = "."            # the package root: config.py
        for name in re.findall(r"`([\w./]+(?:\.py|/))`", row[-1]):
            path = name if "/" in name else f"{folder}/{name}"
            folder = str(Path(path).parent) if not path.endswith("/") else path.rstrip("/")
            assert (ROOT / "headless_commerce" / path).exists(), f"{row[0]}: {path}"


@pytest.mark.parametrize("block", [b for b in readme_blocks(TEXT) if b.lang == "python"],
                         ids=lambda b: f"SECURITY-line-{b.line}")
def test_code_blocks_run(block, tmp_path, monkeypatch):
    # In this process: jsii is already running here, a fresh interpreter would start it again.
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    exec(compile(block.code, f"SECURITY.md:{block.line}", "exec"), {"__name__": "__security_doc__"})
