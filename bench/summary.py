"""Every bench's figures as one table, each target beside its figure; exits 1 on any miss.

    .venv/bin/python bench/summary.py test-artifacts/bench-results.jsonl [--failed "local feeds"]

The file is what the benches appended (bench/results.py, one JSON line per figure). `--failed`
names benches that exited non-zero: one that stopped before reporting a miss (a crash, a
server that did not start) is a row of its own, so a broken bench never reads as a pass.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import INFO, MISS, Figure, format_value


def load(path: Path) -> list[Figure]:
    if not path.exists():
        return []
    return [Figure(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def crashed(figures: list[Figure], failed: list[str]) -> list[Figure]:
    """A row for each bench that exited non-zero without reporting a miss."""
    missing = [name for name in failed if not any(f.bench == name and f.missed for f in figures)]
    return [Figure(name, "bench exited non-zero before reporting a miss (see its output)",
                   float("nan"), "exit 0", MISS) for name in missing]


def table(figures: list[Figure]) -> str:
    rows = [("bench", "figure", "value", "target", "")]
    rows += [(f.bench, f.figure, format_value(f.value), f.target or "-",
              "" if f.status == INFO else f.status) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for number, row in enumerate(rows):
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  "
                     f"{row[3]:<{widths[3]}}  {row[4]}".rstrip())
        if number == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def verdict(figures: list[Figure]) -> tuple[str, int]:
    """The closing line and the exit status: 1 when any figure missed its target."""
    checked = [f for f in figures if f.status != INFO]
    missed = [f for f in checked if f.missed]
    if not checked:
        return "no figures were reported", 1
    line = f"{len(checked) - len(missed)}/{len(checked)} targets met"
    if missed:
        line += "; missed: " + "; ".join(f"{f.bench}: {f.figure}" for f in missed)
    return line, 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--failed", default="", help="benches that exited non-zero")
    args = parser.parse_args(argv)
    figures = load(args.results)
    figures += crashed(figures, args.failed.split())
    line, status = verdict(figures)
    print(table(figures))
    print(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
