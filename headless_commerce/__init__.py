"""headless_commerce: AWS CDK constructs and stacks for headless e-commerce.

Public names are imported lazily so Lambda code that lives in this package
(`headless_commerce.runtime`, `headless_commerce.model`) never imports aws-cdk-lib.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# jsii prints a boxed warning on every start under an end-of-life Node.js (20 is what many
# machines still ship), burying real synth output. Silenced by default, as the Makefile does;
# a value the user sets wins. Import this package before aws_cdk for it to apply. Only
# environment defaults here: this module is also imported by the Lambda code.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

_EXPORTS = {
    "Profile": ".config",
    "PROFILES": ".config",
    "ConfigError": ".config",
    "get_profile": ".config",
    "EncryptionKey": ".constructs.encryption",
    "Network": ".constructs.network",
    "SharedFiles": ".constructs.shared_files",
    "Identity": ".constructs.identity",
    "AppTier": ".constructs.app_tier",
    "CommerceTable": ".constructs.commerce_table",
    "CommerceApi": ".constructs.commerce_api",
    "PythonFunctions": ".constructs.python_functions",
    "PipLayer": ".constructs.pip_layer",
    "RegionalWaf": ".constructs.regional_waf",
    "EventBus": ".constructs.event_bus",
    "EventSubscription": ".constructs.event_bus",
    "OmsHandoff": ".constructs.oms_handoff",
    "OutboxRelay": ".constructs.outbox_relay",
    "OrderEvents": ".constructs.order_events",
    "PendingOrderSweeper": ".constructs.order_sweeper",
    "Fraud": ".constructs.fraud",
    "ConsentFanout": ".constructs.consent_fanout",
    "AlarmTopic": ".constructs.alarms",
    "StackMonitoring": ".constructs.monitoring",
    "notify_alarms": ".constructs.alarms",
    "SearchDomain": ".constructs.search_domain",
    "Personalization": ".constructs.personalization",
    "Chatbot": ".constructs.chatbot",
    "Location": ".constructs.location",
    "RecommendationSignals": ".constructs.recommendation_signals",
    "Marketing": ".constructs.marketing",
    "Campaign": ".constructs.marketing",
    "SmsOptions": ".constructs.marketing",
    "ResponseCache": ".constructs.response_cache",
    "CacheInvalidation": ".constructs.response_cache",
    "FargateFunctions": ".constructs.fargate_functions",
    "FargateService": ".constructs.fargate_functions",
    "Compute": ".constructs.fargate_functions",
    "IntegrationPipelines": ".constructs.integration_pipelines",
    "ManagedGrantPolicies": ".constructs._iam",
    "WebTier": ".constructs.web_tier",
    "WebCache": ".constructs.web_cache",
    "WebTables": ".constructs.web_tables",
    "CloudFrontOnlyLoadBalancer": ".constructs.web_origin",
    "CloudFrontPrefixList": ".constructs.cloudfront_prefix_list",
    "CloudFrontWaf": ".constructs.cloudfront_waf",
    "EdgeDistribution": ".constructs.edge",
    "FoundationStack": ".stacks.foundation_stack",
    "CommerceStack": ".stacks.commerce_stack",
    "IntegrationStack": ".stacks.integration_stack",
    "WebStack": ".stacks.web_stack",
    "EdgeStack": ".stacks.edge_stack",
    "build": ".app_builder",
    "add_compliance_gate": ".app_builder",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'headless_commerce' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
