"""Small builders for construct tests: a throwaway stack per test."""

from __future__ import annotations

from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template

from headless_commerce.config import PROFILES


def new_stack(profile: str = "dev") -> tuple[Stack, object]:
    app = App()
    stack = Stack(app, "Test", env=Environment(account="111111111111", region="eu-west-1"))
    return stack, PROFILES[profile]


def template(stack: Stack) -> Template:
    return Template.from_stack(stack)
