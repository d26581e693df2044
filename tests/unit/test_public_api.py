import importlib
import inspect
import pkgutil
import subprocess
import sys

from constructs import Construct

import headless_commerce
from headless_commerce import constructs as construct_package
from headless_commerce import stacks as stack_package


def _public_classes(package):
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, value in vars(module).items():
            if (inspect.isclass(value) and value.__module__ == module.__name__ and not name.startswith("_")
                    and issubclass(value, Construct)):
                yield name, value


def test_every_construct_and_stack_is_exported():
    for package in (construct_package, stack_package):
        for name, cls in _public_classes(package):
            if name.endswith("Base"):
                continue
            assert getattr(headless_commerce, name) is cls, name


def test_importing_the_package_does_not_import_aws_cdk():
    # Lambda imports headless_commerce.runtime through the package root; aws-cdk-lib isn't there.
    code = "import sys, headless_commerce, headless_commerce.runtime.routes; print('aws_cdk' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )
