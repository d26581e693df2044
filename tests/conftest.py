"""Shared fixtures: the reference app is synthesized once per test session per profile."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Synthesized:
    outdir: Path
    reference: object  # headless_commerce.app_builder.ReferenceApp

    def template(self, stack: str) -> dict:
        stack_name = self.reference.stacks[stack].stack_name
        return json.loads((self.outdir / f"{stack_name}.template.json").read_text())

    def metadata(self) -> dict:
        entries: dict = {}
        for path in self.outdir.glob("*.metadata.json"):
            entries.update(json.loads(path.read_text()))
        return entries


def synthesize(tmp_path_factory, name: str, context: dict) -> Synthesized:
    from headless_commerce.app_builder import build

    outdir = tmp_path_factory.mktemp(name)
    reference = build(context, outdir=str(outdir))
    reference.app.synth()
    return Synthesized(outdir=outdir, reference=reference)


@pytest.fixture(scope="session")
def dev_app(tmp_path_factory) -> Synthesized:
    return synthesize(tmp_path_factory, "dev", {"profile": "dev"})


@pytest.fixture(scope="session")
def prod_app(tmp_path_factory) -> Synthesized:
    # prod also turns on the optional third-party consent webhook, so the gate and linters see it.
    return synthesize(tmp_path_factory, "prod", {"profile": "prod", "stage": "prod",
                                                 "consent_webhook_url": "https://cms.example.com/consents"})


@pytest.fixture(params=["dev", "prod"])
def any_app(request) -> Synthesized:
    return request.getfixturevalue(f"{request.param}_app")
