"""Shared fixtures: the reference app is synthesized once per test session per profile."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Synthesized:
    outdir: Path
    reference: object  # headless_commerce.app_builder.ReferenceApp
    _inlined: dict[str, str] = field(default_factory=dict, repr=False)

    def template(self, stack: str) -> dict:
        """The stack as CloudFormation deploys it: its nested stacks' resources included."""
        from headless_commerce.assembly import inline_nested_stacks

        if stack not in self._inlined:
            self._inlined[stack] = json.dumps(inline_nested_stacks(self.top_template(stack), self.outdir))
        return json.loads(self._inlined[stack])  # a fresh copy: tests may change what they read

    def top_template(self, stack: str) -> dict:
        """The stack's own template file, nested stacks as `AWS::CloudFormation::Stack` resources."""
        stack_name = self.reference.stacks[stack].stack_name
        return json.loads((self.outdir / f"{stack_name}.template.json").read_text())

    def template_files(self, stack: str) -> dict[str, dict]:
        """Every template file the stack deploys, its own and its nested stacks', by file name."""
        from headless_commerce.assembly import nested_templates

        top = self.top_template(stack)
        stack_name = self.reference.stacks[stack].stack_name
        return {f"{stack_name}.template.json": top,
                **{path.name: nested for _, path, nested in nested_templates(top, self.outdir)}}

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


# prod with every context option set, so the gate, cfn-lint and checkov see every optional resource
# (powertools_layer_arn aside: it replaces the SSM lookup that dev and prod templates should show).
PROD_CONTEXT = {
    "profile": "prod", "stage": "prod", "account": "123456789012", "region": "us-east-1",
    "availability_zones": "us-east-1a,us-east-1b,us-east-1c",
    "storefront_origin": "https://shop.example.com,https://m.shop.example.com",
    "email_from": "no-reply@shop.example.com",
    "consent_webhook_url": "https://cms.example.com/consents",
    "payment_provider": "stripe",
    "reserved_concurrency": "true",
    "alarm_emails": "ops@shop.example.com", "alarm_https_endpoints": "https://hooks.example.com/alarms",
    "api_domain_name": "api.shop.example.com",
    "api_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
    "auth_domain_prefix": "shop-example-prod",
    "auth_callback_urls": "https://shop.example.com/signed-in,com.example.shop://signed-in",
    "auth_logout_urls": "https://shop.example.com/",
    "domain_name": "shop.example.com", "hosted_zone_id": "Z0123456789ABCDEFGHIJ",
    "bot_control": "true",
    "marketing_sms": "true",
    "sms_origination_identity":
        "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef0123456789abcdef",
    "push_platform_application_arns":
        "arn:aws:sns:us-east-1:123456789012:app/APNS/shop,arn:aws:sns:us-east-1:123456789012:app/GCM/shop",
}


@pytest.fixture(scope="session")
def prod_app(tmp_path_factory) -> Synthesized:
    return synthesize(tmp_path_factory, "prod", PROD_CONTEXT)


@pytest.fixture(params=["dev", "prod"])
def any_app(request) -> Synthesized:
    return request.getfixturevalue(f"{request.param}_app")
