"""Lambda layers of pure-Python libraries, built by local bundling (`pip install --target`).

No Docker: the libraries these layers hold (the DAX client, later opensearch-py or a Kafka
client) are pure Python, so the host's pip produces what Lambda runs. Builds are cached per
requirement set, so only the first synth on a machine downloads anything.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

CACHE_DIR = Path(os.environ.get("HEADLESS_COMMERCE_CACHE", Path.home() / ".cache" / "headless-commerce")) / "layers"


class LayerBuildError(RuntimeError):
    pass


def build_layer(requirements: Sequence[str], cache_dir: Path = CACHE_DIR) -> Path:
    """Install `requirements` (no dependencies resolved: pin every one) into a cached tree."""
    digest = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:16]
    target = cache_dir / digest
    if (target / ".complete").exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_dir))
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
               "--disable-pip-version-check", "--target", str(staging / "python"), *requirements]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise LayerBuildError(f"pip could not build the layer {list(requirements)}:\n{result.stderr[-2000:]}")
    for cache in (staging / "python").rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    (staging / ".complete").touch()
    try:
        staging.rename(target)  # atomic: a parallel build that finished first wins
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@jsii.implements(ILocalBundling)
class _PipBundling:
    def __init__(self, requirements: Sequence[str]) -> None:
        self._requirements = tuple(requirements)

    def try_bundle(self, output_dir: str, *args, **kwargs) -> bool:
        built = build_layer(self._requirements)
        shutil.copytree(built / "python", Path(output_dir) / "python", dirs_exist_ok=True)
        return True


def _requirements_source(requirements: Sequence[str]) -> str:
    # The asset hash comes from this file, so a changed pin means a new layer version.
    source = Path(tempfile.mkdtemp(prefix="layer-src-"))
    (source / "requirements.txt").write_text("\n".join(requirements) + "\n")
    return str(source)


class PipLayer(Construct):
    """`layer`: a LayerVersion for python3.14/arm64 holding `requirements` (all pinned)."""

    def __init__(self, scope: Construct, id: str, *, requirements: Sequence[str], description: str,
                 compatible_runtimes: Sequence[lambda_.Runtime],
                 compatible_architectures: Sequence[lambda_.Architecture]) -> None:
        super().__init__(scope, id)
        unpinned = [r for r in requirements if "==" not in r]
        if unpinned:
            raise ValueError(f"PipLayer: pin every requirement with ==, got {', '.join(unpinned)}")
        code = lambda_.Code.from_asset(
            _requirements_source(requirements),
            bundling=BundlingOptions(
                # Never pulled: local bundling always succeeds or raises.
                image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
                local=_PipBundling(requirements),
            ),
        )
        self.layer = lambda_.LayerVersion(self, "Layer", code=code, description=description,
                                          compatible_runtimes=list(compatible_runtimes),
                                          compatible_architectures=list(compatible_architectures))
