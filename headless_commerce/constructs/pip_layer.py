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


def target_platform(runtime: lambda_.Runtime, architecture: lambda_.Architecture) -> tuple[str, ...]:
    """pip options that pick wheels for the Lambda runtime, not for the machine running synth
    (a compiled wheel for x86_64/cp311 would not load on arm64/cp314)."""
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[architecture.name]
    return ("--platform", f"manylinux2014_{machine}", "--implementation", "cp",
            "--python-version", runtime.name.removeprefix("python"))


def build_layer(requirements: Sequence[str], cache_dir: Path = CACHE_DIR,
                platform: Sequence[str] = ()) -> Path:
    """Install `requirements` (no dependencies resolved: pin every one) into a cached tree."""
    digest = hashlib.sha256("\n".join([*sorted(requirements), *platform]).encode()).hexdigest()[:16]
    target = cache_dir / digest
    if (target / ".complete").exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_dir))
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
               "--disable-pip-version-check", *platform, "--target", str(staging / "python"), *requirements]
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
    def __init__(self, requirements: Sequence[str], platform: Sequence[str]) -> None:
        self._requirements = tuple(requirements)
        self._platform = tuple(platform)

    def try_bundle(self, output_dir: str, *args, **kwargs) -> bool:
        built = build_layer(self._requirements, platform=self._platform)
        shutil.copytree(built / "python", Path(output_dir) / "python", dirs_exist_ok=True)
        return True


def _requirements_source(requirements: Sequence[str], platform: Sequence[str]) -> str:
    # The asset hash comes from this file, so a changed pin or target means a new layer version.
    source = Path(tempfile.mkdtemp(prefix="layer-src-"))
    (source / "requirements.txt").write_text("\n".join([f"# pip {' '.join(platform)}", *requirements]) + "\n")
    return str(source)


class PipLayer(Construct):
    """`layer`: a LayerVersion holding `requirements` for one runtime and architecture.

    Parameters (all required, no defaults): `requirements` (each pinned with ==, dependencies
    listed too: pip resolves nothing); `description`; `compatible_runtimes` and
    `compatible_architectures` (one each: compiled wheels target exactly one platform).
    """

    def __init__(self, scope: Construct, id: str, *, requirements: Sequence[str], description: str,
                 compatible_runtimes: Sequence[lambda_.Runtime],
                 compatible_architectures: Sequence[lambda_.Architecture]) -> None:
        super().__init__(scope, id)
        unpinned = [r for r in requirements if "==" not in r]
        if unpinned:
            raise ValueError(f"PipLayer: pin every requirement with ==, got {', '.join(unpinned)}")
        if len(compatible_runtimes) != 1 or len(compatible_architectures) != 1:
            raise ValueError("PipLayer: a layer with compiled wheels targets one runtime and one architecture")
        platform = target_platform(compatible_runtimes[0], compatible_architectures[0])
        code = lambda_.Code.from_asset(
            _requirements_source(requirements, platform),
            bundling=BundlingOptions(
                # Never pulled: local bundling always succeeds or raises.
                image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
                local=_PipBundling(requirements, platform),
            ),
        )
        self.layer = lambda_.LayerVersion(self, "Layer", code=code, description=description,
                                          compatible_runtimes=list(compatible_runtimes),
                                          compatible_architectures=list(compatible_architectures))
