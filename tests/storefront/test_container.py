"""The storefront's Dockerfile (no Docker engine here: what can be checked without building)."""

from __future__ import annotations

import re

from tests.dockerfiles import PACKAGE, PINNED, assert_staged_image_runs, pinned_requirements
from tests.dockerfiles import instructions as dockerfile_instructions

DOCKERFILE = PACKAGE / "runtime" / "storefront" / "Dockerfile"
REQUIREMENTS = PACKAGE / "runtime" / "storefront" / "requirements.txt"


def instructions() -> list[tuple[str, str]]:
    return dockerfile_instructions(DOCKERFILE)


def test_slim_non_root_with_a_health_check():
    steps = instructions()
    assert steps[0][0] == "FROM" and re.fullmatch(r"python:3\.\d+-slim", steps[0][1])
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1].strip() not in ("root", "0")
    assert any(op == "HEALTHCHECK" and "/healthz" in arg for op, arg in steps)
    assert any(op == "CMD" and "create_app" in arg and "${PORT}" in arg for op, arg in steps)


def test_container_requirements_are_pinned():
    lines = pinned_requirements(REQUIREMENTS)
    assert lines and all(PINNED.fullmatch(line) for line in lines)


def test_the_copied_files_are_enough_to_start_the_app(tmp_path):
    """Stage exactly what the Dockerfile copies (paths relative to the package directory, the
    build context) and import the app from there, not from the source tree."""
    assert_staged_image_runs(DOCKERFILE, tmp_path, (
        "import headless_commerce, sys; from headless_commerce.runtime.storefront.app import create_app;"
        "from headless_commerce.runtime.storefront.config import StorefrontConfig;"
        "create_app(StorefrontConfig(api_url='http://api')); print(headless_commerce.__file__)"))
