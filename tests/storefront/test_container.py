"""The storefront's Dockerfile (no Docker engine here: what can be checked without building)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "headless_commerce"
DOCKERFILE = PACKAGE / "runtime" / "storefront" / "Dockerfile"
REQUIREMENTS = PACKAGE / "runtime" / "storefront" / "requirements.txt"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [tuple(line.split(None, 1)) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_slim_non_root_with_a_health_check():
    steps = instructions()
    assert steps[0][0] == "FROM" and re.fullmatch(r"python:3\.\d+-slim", steps[0][1])
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1].strip() not in ("root", "0")
    assert any(op == "HEALTHCHECK" and "/healthz" in arg for op, arg in steps)
    assert any(op == "CMD" and "create_app" in arg and "${PORT}" in arg for op, arg in steps)


def test_container_requirements_are_pinned():
    lines = [line for line in REQUIREMENTS.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", line) for line in lines)


def test_the_copied_files_are_enough_to_start_the_app(tmp_path):
    """Stage exactly what the Dockerfile copies (paths relative to the package directory, the
    build context) and import the app from there, not from the source tree."""
    for op, arg in instructions():
        if op != "COPY" or "requirements.txt" in arg:
            continue
        *sources, target = arg.split()
        destination = tmp_path / target
        for source in sources:
            path = PACKAGE / source
            if path.is_dir():
                shutil.copytree(path, destination, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                destination.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination / path.name)
    probe = ("import headless_commerce, sys; from headless_commerce.runtime.storefront.app import create_app;"
             "from headless_commerce.runtime.storefront.config import StorefrontConfig;"
             "create_app(StorefrontConfig(api_url='http://api')); print(headless_commerce.__file__)")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(tmp_path)), result.stdout
