"""Small builders for construct tests: a throwaway stack per test."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template

from headless_commerce.config import PROFILES
from headless_commerce.runtime import routes


def new_stack(profile: str = "dev") -> tuple[Stack, object]:
    app = App()
    stack = Stack(app, "Test", env=Environment(account="111111111111", region="eu-west-1"))
    return stack, PROFILES[profile]


def template(stack: Stack) -> Template:
    return Template.from_stack(stack)


# The public Powertools layer ARN the construct tests pass (no SSM lookup at synth).
POWERTOOLS_LAYER = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:1"


@dataclass
class CommerceBase:
    """What a capability construct plugs into: key, VPC, the commerce table and a function factory."""

    stack: Stack
    profile: object
    key: object
    network: object
    table: object
    functions: object


def commerce_base(profile: str = "dev") -> CommerceBase:
    from headless_commerce.constructs.commerce_table import CommerceTable
    from headless_commerce.constructs.encryption import EncryptionKey
    from headless_commerce.constructs.network import Network
    from headless_commerce.constructs.python_functions import PythonFunctions

    stack, prof = new_stack(profile)
    key = EncryptionKey(stack, "Key", profile=prof).key
    network = Network(stack, "Net", profile=prof, encryption_key=key)
    table = CommerceTable(stack, "Data", profile=prof, encryption_key=key, dax_enabled=False).table
    functions = PythonFunctions(stack, "Fns", profile=prof, vpc=network.vpc, encryption_key=key,
                                powertools_layer_arn=POWERTOOLS_LAYER)
    return CommerceBase(stack, prof, key, network, table, functions)


def resources_of(template_json: dict, type_: str) -> dict[str, dict]:
    return {k: v for k, v in template_json["Resources"].items() if v["Type"] == type_}


# Capabilities whose routes run in local mode only (the reference app deploys no function for
# them). None today: Location's construct has a nested stack of its own.
LOCAL_ONLY_CAPABILITIES: frozenset[str] = frozenset()
DEPLOYED_FUNCTIONS = {name: spec for name, spec in routes.FUNCTIONS.items()
                      if spec.capability not in LOCAL_ONLY_CAPABILITIES}
DEPLOYED_ROUTES = tuple(r for r in routes.ROUTES if r.function in DEPLOYED_FUNCTIONS)
