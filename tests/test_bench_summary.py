"""`make bench`'s one table (bench/summary.py) over fabricated bench results: what it prints and
when it exits non-zero. (The numbers themselves are the benches' business, not a test's.)"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def bench_modules(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    results = importlib.import_module("results")
    summary = importlib.import_module("summary")
    monkeypatch.setattr(results, "RESULTS", [])
    return results, summary


def _figures(path: Path, *rows: tuple) -> None:
    path.write_text("".join(json.dumps({"bench": b, "figure": f, "value": v, "target": t,
                                        "status": s}) + "\n" for b, f, v, t, s in rows))


def _run(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH / "summary.py"), str(path), *extra],
                          capture_output=True, text=True)


def test_every_figure_is_one_row_beside_its_target_and_all_passing_exits_zero(tmp_path):
    path = tmp_path / "results.jsonl"
    _figures(path, ("local", "GET /products per second", 231.0, ">= 200", "PASS"),
             ("local", "GET /products p95 ms", 31.0, None, "INFO"),
             ("feeds", "catalog feed: DynamoDB calls per record", 1.01, "<= 1.05", "PASS"))
    run = _run(path)
    assert run.returncode == 0, run.stdout
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["bench", "figure", "value", "target"]
    row = next(line for line in lines if "GET /products per second" in line)
    assert row.split()[0] == "local" and row.split()[-4:] == ["231.0", ">=", "200", "PASS"]
    assert "1.01" in next(line for line in lines if "calls per record" in line)
    info = next(line for line in lines if "p95 ms" in line)
    assert "PASS" not in info and "MISS" not in info        # context, not a verdict
    assert lines[-1] == "2/2 targets met"


def test_a_miss_in_any_bench_exits_non_zero_and_is_named(tmp_path):
    path = tmp_path / "results.jsonl"
    _figures(path, ("runtime", "dynamodb calls: get product", 1, "<= 1", "PASS"),
             ("local", "POST /checkout p50 ms", 180.0, "<= 100", "MISS"))
    run = _run(path, "--failed", "local")
    assert run.returncode == 1
    assert "MISS" in next(line for line in run.stdout.splitlines() if "checkout p50" in line)
    assert run.stdout.splitlines()[-1] == "1/2 targets met; missed: local: POST /checkout p50 ms"
    assert "exited non-zero" not in run.stdout      # its miss already says why it failed


def test_a_bench_that_crashed_before_reporting_is_a_miss(tmp_path):
    path = tmp_path / "results.jsonl"
    _figures(path, ("runtime", "lambda code asset zipped KB", 320.0, "<= 500", "PASS"))
    run = _run(path, "--failed", " search")
    assert run.returncode == 1
    assert "search" in run.stdout.splitlines()[-1] and "exited non-zero" in run.stdout
    # No results file at all (every bench died at import): a failure, not an empty pass.
    assert _run(tmp_path / "absent.jsonl").returncode == 1


def test_benches_append_what_they_print(tmp_path, monkeypatch, bench_modules, capsys):
    results, summary = bench_modules
    path = tmp_path / "results.jsonl"
    monkeypatch.setenv(results.RESULTS_ENV, str(path))
    monkeypatch.setattr(sys, "argv", ["bench/local_bench.py"])
    results.at_least("GET /products per second", 150.0, 200)
    results.at_most("RSS growth MB", 12.5, 50)
    results.report("GET /cart p50 ms", 8.0)
    assert results.median([3.0, 1.0, 2.0]) == 2.0
    assert results.percentile([0.010, 0.020, 0.030, 0.040], 0.5) == 30.0      # seconds -> ms
    assert results.finish() == 1
    printed = capsys.readouterr().out
    assert "MISS" in next(line for line in printed.splitlines() if "per second" in line)
    figures = summary.load(path)
    assert [(f.bench, f.status) for f in figures] == [("local", "MISS"), ("local", "PASS"),
                                                      ("local", "INFO")]
    line, status = summary.verdict(figures)
    assert status == 1 and line == "1/2 targets met; missed: local: GET /products per second"
