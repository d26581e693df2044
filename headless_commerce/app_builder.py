"""Builds the reference app: context -> config -> stacks in deploy order -> compliance gate.

Shared by `app.py`, the tests and anyone who wants the whole architecture in their own App.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from aws_cdk import App, Aspects, Environment, Stack, Validations
from cdk_nag import AwsSolutionsChecks, PCIDSS321Checks, ServerlessChecks

from .config import AppConfig, from_context
from .constructs._iam import ManagedGrantPolicies
from .stacks.commerce_stack import CommerceStack
from .stacks.edge_stack import EDGE_REGION, EdgeStack
from .stacks.foundation_stack import FoundationStack
from .stacks.integration_stack import IntegrationStack
from .stacks.web_stack import WebStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The `context` block of cdk.json: the CLI passes it, a plain `python3 app.py` does not."""
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text()).get("context", {}))


@dataclasses.dataclass
class ReferenceApp:
    app: App
    config: AppConfig
    stacks: dict[str, Stack]


def build(context: dict[str, Any] | None = None, *, outdir: str | None = None,
          compliance: bool = True) -> ReferenceApp:
    """Create the App and every stack. `context` overrides cdk.json (tests and -c flags)."""
    app = App(context={**cdk_json_context(), **(context or {})}, outdir=outdir)
    config = from_context(app.node.get_all_context(),
                          default_account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
                          default_region=os.environ.get("CDK_DEFAULT_REGION"))
    env = Environment(account=config.account, region=config.region)
    common = {"profile": config.profile, "availability_zones": config.availability_zones, "env": env}

    foundation = FoundationStack(app, config.stack_id("Foundation"),
                                 description="Headless commerce: network, encryption key, shared files",
                                 alarm_emails=config.alarm_emails,
                                 alarm_https_endpoints=config.alarm_https_endpoints, **common)
    commerce = CommerceStack(app, config.stack_id("Commerce"), foundation=foundation,
                             dax_enabled=config.profile.dax_enabled and config.enabled("dax"),
                             allowed_origins=config.storefront_origins,
                             payment_provider=config.payment_provider,
                             consent_webhook_url=config.consent_webhook_url,
                             email_from=config.email_from, hosted_sign_in=config.hosted_sign_in,
                             api_domain=config.api_domain,
                             powertools_layer_arn=config.powertools_layer_arn,
                             search=config.enabled("search"),
                             personalization=config.enabled("personalization"),
                             recommenders=config.recommenders,
                             marketing=config.enabled("marketing"),
                             marketing_sms=config.enabled("marketing_sms"),
                             sms_origination_identity=config.sms_origination_identity,
                             push_platform_application_arns=config.push_platform_application_arns,
                             response_cache=config.enabled("response_cache"),
                             fraud=config.enabled("fraud"),
                             chatbot=config.enabled("chatbot"),
                             location=config.enabled("location"),
                             description="Headless commerce: identity and commerce services",
                             # The edge stack (us-east-1) reads the API's address.
                             cross_region_references=config.enabled("edge"),
                             **common)
    stacks: dict[str, Stack] = {"Foundation": foundation, "Commerce": commerce}
    # `-c integration=false` creates no cluster, no consumers and no stack.
    if config.enabled("integration"):
        stacks["Integration"] = IntegrationStack(
            app, config.stack_id("Integration"), foundation=foundation, commerce=commerce,
            powertools_layer_arn=config.powertools_layer_arn,
            description="Headless commerce: MSK feeds (PIM catalog, inventory, order status)", **common)
    if config.enabled("web"):
        stacks["Web"] = WebStack(app, config.stack_id("Web"), foundation=foundation, commerce=commerce,
                                 domain=config.web_domain, powertools_layer_arn=config.powertools_layer_arn,
                                 cross_region_references=config.enabled("edge"),
                                 description="Headless commerce: storefront on Fargate, cache, sessions", **common)
    if config.enabled("web") and config.enabled("edge"):
        stacks["Edge"] = EdgeStack(app, config.stack_id("Edge"), web=stacks["Web"], commerce=commerce,
                                   domain=config.web_domain, existing_web_acl_arn=config.existing_web_acl_arn,
                                   bot_control=config.bot_control, profile=config.profile,
                                   alarm_emails=config.alarm_emails,
                                   alarm_https_endpoints=config.alarm_https_endpoints,
                                   account_protection=config.account_protection,
                                   env=Environment(account=config.account, region=EDGE_REGION),
                                   cross_region_references=True,
                                   description="Headless commerce: CloudFront, web ACL, static assets, DNS")
    if compliance:
        add_compliance_gate(app)
    return ReferenceApp(app=app, config=config, stacks=stacks)


def add_compliance_gate(app: App) -> None:
    """AwsSolutions, PCI DSS 3.2.1 and Serverless packs; any unacknowledged finding fails synth.

    Also turns CDK's inline grant policies into managed policies everywhere in `app` (what PCI
    DSS asks for), so constructs imported into any stack pass the gate as they are.
    """
    Aspects.of(app).add(ManagedGrantPolicies())
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True),
        PCIDSS321Checks(app, verbose=True),
        ServerlessChecks(app, verbose=True),
    )


def write_openapi(path: Path) -> Path:
    """Write the OpenAPI 3.0 document of the public API (from the same route table)."""
    from .runtime.openapi import openapi_document

    path.write_text(json.dumps(openapi_document(), indent=2) + "\n")
    return path
