"""cfn-lint and checkov over the synthesized templates and ruff over the code, so findings never pile up."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"


def test_cfn_lint_has_no_errors_or_warnings(any_app):
    templates = sorted(str(p) for p in any_app.outdir.glob("*.template.json"))
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--non-zero-exit-code", "warning", *templates],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout


def test_checkov_has_no_failed_check(any_app):
    assert CHECKOV.exists(), "run `make setup` (checkov lives in its own venv under .tools/)"
    result = subprocess.run(
        [str(CHECKOV), "--config-file", str(ROOT / ".checkov.yaml"), "-d", str(any_app.outdir)],
        capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "Failed checks: 0" in result.stdout


def test_ruff_finds_nothing():
    """The rule set and its few exceptions (each with its reason) live in pyproject.toml."""
    result = subprocess.run([str(Path(sys.executable).with_name("ruff")), "check", "--no-cache", str(ROOT)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
