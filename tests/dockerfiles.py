"""What can be checked of a Dockerfile without a Docker engine: its instructions, and staging
exactly what it COPYs (paths relative to the build context) to import the app from there."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "headless_commerce"
PINNED = re.compile(r"[A-Za-z0-9_.\[\]-]+==[0-9][0-9A-Za-z.]*")


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    return [tuple(line.split(None, 1)) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def stage_copies(dockerfile: Path, target_dir: Path, context: Path = PACKAGE) -> None:
    for op, arg in instructions(dockerfile):
        if op != "COPY" or "requirements.txt" in arg:
            continue
        *sources, target = arg.split()
        destination = target_dir / target
        for source in sources:
            path = context / source
            if path.is_dir():
                shutil.copytree(path, destination, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                destination.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination / path.name)


def pinned_requirements(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def assert_staged_image_runs(dockerfile: Path, tmp_path: Path, probe: str) -> None:
    """Stage what `dockerfile` copies into `tmp_path` and run `probe` (Python that must end by
    printing `headless_commerce.__file__`) against the staged files only, not the source tree."""
    stage_copies(dockerfile, tmp_path)
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(tmp_path)), result.stdout
