"""`headless-commerce cost`: each resource kind priced by hand-checked arithmetic, every resource
type of both profiles priced or listed as free, capability attribution checked against a synth
with every toggle off, the CLI's output and exit codes, and the README's table."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from headless_commerce.app_builder import build
from headless_commerce.config import TOGGLES
from headless_commerce.cost import (
    DEV_BUDGET_USD,
    PRICERS,
    UnpricedResource,
    capability_of_path,
    estimate_assembly,
    load_prices,
    price_template,
    read_assembly,
    render_markdown,
)
from headless_commerce.cost.command import contexts_for
from headless_commerce.cost.pricing import unpriced_types
from tests.conftest import ROOT, Synthesized

TABLE = load_prices()


def _priced(*resources: tuple[str, str, dict], capability_of=lambda _id: "core"):
    template = {"Resources": {logical_id: {"Type": type_, "Properties": props}
                              for logical_id, type_, props in resources}}
    return price_template("Stack", template, TABLE, capability_of)


def _total(lines) -> float:
    return round(sum(line.monthly for line in lines), 4)


# ---- each resource kind, arithmetic by hand (730 hours a month) ---------------------------------

def test_network_charges():
    assert _total(_priced(("Nat", "AWS::EC2::NatGateway", {}))) == 32.85          # 0.045 x 730
    assert _total(_priced(("Ip", "AWS::EC2::EIP", {}))) == 3.65                   # 0.005 x 730
    interface = {"VpcEndpointType": "Interface", "SubnetIds": ["a", "b"]}
    assert _total(_priced(("Secrets", "AWS::EC2::VPCEndpoint", interface))) == 14.6   # 2 AZ x 0.01 x 730
    assert _priced(("S3", "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})) == []


def test_load_balancers_and_their_public_addresses():
    alb = {"Scheme": "internet-facing", "Subnets": ["a", "b"]}
    assert _total(_priced(("Alb", "AWS::ElasticLoadBalancingV2::LoadBalancer", alb))) == 23.725  # 16.425 + 2 x 3.65
    nlb = {"Type": "network", "Scheme": "internal", "Subnets": ["a", "b", "c"]}
    assert _total(_priced(("Nlb", "AWS::ElasticLoadBalancingV2::LoadBalancer", nlb))) == 16.425


def test_web_acl_rules_and_fraud_control_attributed_to_fraud():
    def rule(name, managed=None):
        statement = {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": managed}} if managed \
            else {"RateBasedStatement": {"Limit": 2000}}
        return {"Name": name, "Statement": statement}

    acl = {"Scope": "CLOUDFRONT", "Rules": [rule("Rate"), rule("Common", "AWSManagedRulesCommonRuleSet"),
                                            rule("Atp", "AWSManagedRulesATPRuleSet")]}
    lines = _priced(("Acl", "AWS::WAFv2::WebACL", acl))
    assert _total(lines) == 18.0  # ACL 5 + 2 rules + ATP (1 rule + 10 subscription)
    assert {line.capability: line.monthly for line in lines if "ATP" in line.detail} == {"fraud": 11.0}


def test_fargate_service_from_its_task_definition():
    task = {"Cpu": "256", "Memory": "512", "RuntimePlatform": {"CpuArchitecture": "ARM64"}}
    service = {"LaunchType": "FARGATE", "TaskDefinition": {"Ref": "Task"}, "DesiredCount": 3, "Cluster": {"Ref": "C"}}
    insights = {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]}
    lines = _priced(("Task", "AWS::ECS::TaskDefinition", task), ("Svc", "AWS::ECS::Service", service),
                    ("C", "AWS::ECS::Cluster", insights))
    by_id = {line.logical_id: round(line.monthly, 4) for line in lines}
    assert by_id["Svc"] == round(3 * (0.25 * 0.03238 + 0.5 * 0.00356) * 730, 4)  # 21.6263
    assert by_id["C"] == 4.8  # (8 cluster + 8 service metrics) x 0.30


def test_caches_search_kafka_dax():
    assert _total(_priced(("V", "AWS::ElastiCache::ServerlessCache", {"Engine": "valkey"}))) == 6.1101  # 0.1 GB
    group = {"Engine": "valkey", "CacheNodeType": "cache.m7g.large", "NumCacheClusters": 3}
    assert _total(_priced(("G", "AWS::ElastiCache::ReplicationGroup", group))) == 276.816  # 3 x 0.1264 x 730
    domain = {"ClusterConfig": {"InstanceType": "t3.small.search", "InstanceCount": 1},
              "EBSOptions": {"EBSEnabled": True, "VolumeSize": 10, "VolumeType": "gp3"}}
    assert _total(_priced(("D", "AWS::OpenSearchService::Domain", domain))) == 27.5  # 26.28 + 10 x 0.122
    msk = {"NumberOfBrokerNodes": 2, "BrokerNodeGroupInfo": {
        "InstanceType": "kafka.t3.small", "StorageInfo": {"EBSStorageInfo": {"VolumeSize": 10}}}}
    assert _total(_priced(("K", "AWS::MSK::Cluster", msk))) == 68.576  # 2 x 0.0456 x 730 + 20 GB x 0.10
    dax = {"NodeType": "dax.r5.large", "ReplicationFactor": 3}
    assert _total(_priced(("X", "AWS::DAX::Cluster", dax))) == 589.11  # 3 x 0.269 x 730


def test_provisioned_kafka_pollers_one_epu_per_mapping_unless_grouped():
    def mapping(group=None):
        config = {"MinimumPollers": 1, "MaximumPollers": 3, **({"PollerGroupName": group} if group else {})}
        return {"ProvisionedPollerConfig": config}

    alone = _priced(*[(f"M{i}", "AWS::Lambda::EventSourceMapping", mapping()) for i in range(3)])
    assert _total(alone) == 405.15  # 3 EPU x 0.185 x 730
    grouped = _priced(*[(f"M{i}", "AWS::Lambda::EventSourceMapping", mapping("feeds")) for i in range(3)])
    assert _total(grouped) == 135.05  # 3 pollers share 1 EPU
    assert _priced(("M", "AWS::Lambda::EventSourceMapping", {"EventSourceArn": "arn"})) == []  # on-demand


def test_monthly_fees_and_minimums():
    assert _total(_priced(("K", "AWS::KMS::Key", {}))) == 1.0
    assert _total(_priced(("S", "AWS::SecretsManager::Secret", {"ReplicaRegions": [{"Region": "us-east-1"}]}))) == 0.8
    assert _total(_priced(("A", "AWS::CloudWatch::Alarm", {"Period": 300}))) == 0.1
    math_alarm = {"Metrics": [{"Id": "a", "MetricStat": {"Period": 60}}, {"Id": "b", "MetricStat": {"Period": 60}},
                              {"Id": "e", "Expression": "a/b"}]}
    assert _total(_priced(("M", "AWS::CloudWatch::Alarm", math_alarm))) == 0.2
    assert _total(_priced(("H", "AWS::CloudWatch::Alarm", {"Period": 10}))) == 0.3
    assert _total(_priced(("D", "AWS::CloudWatch::Dashboard", {}))) == 3.0
    assert _total(_priced(("Z", "AWS::Route53::HostedZone", {}))) == 0.5
    recommenders = {"Enabled": "true", "Recommenders": [{"MinRecommendationRequestsPerSecond": "1"}] * 3}
    assert _total(_priced(("R", "Custom::PersonalizeRecommenders", recommenders))) == 438.0  # 3 x 0.20 x 730
    assert _priced(("R", "Custom::PersonalizeRecommenders", {**recommenders, "Enabled": "false"})) == []


def test_unknown_types_and_sizes_fail_loudly():
    with pytest.raises(UnpricedResource, match="AWS::Made::Up"):
        _priced(("X", "AWS::Made::Up", {}))
    with pytest.raises(UnpricedResource, match=r"kafka\.x9\.huge"):
        _priced(("K", "AWS::MSK::Cluster", {"BrokerNodeGroupInfo": {"InstanceType": "kafka.x9.huge"}}))
    assert _priced(("R", "AWS::IAM::Role", {})) == []


def test_every_price_names_its_source_and_date():
    data = json.loads((ROOT / "headless_commerce/cost/prices.json").read_text())
    entries = [*data["prices"].values(), *data["instance_hours"].values(), *data["assumptions"].values(),
               *data["per_request"]]
    for entry in entries:
        assert entry["source"].startswith("https://"), entry
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["as_of"]), entry
    assert not set(PRICERS) & set(data["no_idle_cost"]), "a type is both priced and free"


# ---- the synthesized app -----------------------------------------------------------------------

# Capabilities being built elsewhere: their resource types are in the table before they land.
PRESEEDED = ("AWS::Location::APIKey", "AWS::Location::Tracker", "AWS::Location::GeofenceCollection",
             "AWS::Location::TrackerConsumer", "AWS::Lex::Bot", "AWS::Lex::BotVersion", "AWS::Lex::BotAlias",
             "AWS::CloudWatch::Dashboard", "AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")


def test_every_resource_type_of_both_profiles_is_priced_or_listed_free(dev_app, prod_app):
    types = {resource["Type"] for app in (dev_app, prod_app) for stack in read_assembly(app.outdir)
             for resource in stack.template["Resources"].values()}
    assert unpriced_types(types, TABLE) == [], "add these to headless_commerce/cost/prices.json"
    assert unpriced_types(PRESEEDED, TABLE) == []


def test_capability_of_path():
    assert capability_of_path("HeadlessCommerce-Integration", "/HeadlessCommerce-Integration/Pipelines/Cluster") == \
        "integration"
    assert capability_of_path("HeadlessCommerce-blue-Web", "/HeadlessCommerce-blue-Web/Web/Functions/cache_invalidation"
                              ) == "web"
    commerce = "HeadlessCommerce-Commerce"
    assert capability_of_path(commerce, f"/{commerce}/Search/Domain") == "search"
    assert capability_of_path(commerce, f"/{commerce}/Alarms/search_indexerErrors/Resource") == "search"
    assert capability_of_path(commerce, f"/{commerce}/AppTier/Data/Dax") == "dax"
    assert capability_of_path(commerce, f"/{commerce}/AppTier/Functions/cache_invalidation/Resource") == \
        "response_cache"
    assert capability_of_path(commerce, f"/{commerce}/AppTier/Functions/checkout/Resource") == "core"
    assert capability_of_path(commerce, "") == "core"


@pytest.fixture(scope="module")
def dev_without_toggles(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("dev-no-toggles")
    build({"profile": "dev", **dict.fromkeys(TOGGLES, "false")}, outdir=str(outdir),
          compliance=False).app.synth()
    return outdir


def test_capability_shares_are_what_switching_every_toggle_off_removes(dev_app, dev_without_toggles):
    full = estimate_assembly(dev_app.outdir, "dev")
    bare = estimate_assembly(dev_without_toggles, "dev, every toggle off")
    core = {(line.stack, line.logical_id, line.detail) for line in full.lines if line.capability == "core"}
    remaining = {(line.stack, line.logical_id, line.detail) for line in bare.lines}
    hint = ("a toggle's resource is counted as core, or a core one as a toggle's: extend CONSTRUCT_TOGGLES or "
            "NAME_PREFIX_TOGGLES in headless_commerce/cost/estimate.py (or _PAID_RULE_GROUPS in pricing.py)")
    assert remaining == core, f"{hint}: only core {sorted(core - remaining)}, only bare {sorted(remaining - core)}"
    assert round(bare.total, 2) == round(full.by_capability()["core"], 2)


# ---- the command -------------------------------------------------------------------------------

def test_cost_command_prices_an_assembly(dev_app, capsys):
    from headless_commerce.cli import main

    assert main(["cost", "--cdk-out", str(dev_app.outdir), "--details"]) == 0
    out = capsys.readouterr().out
    total = estimate_assembly(dev_app.outdir, "x").total
    assert "a month idle" in out and f"${total:,.2f}" in out
    for section in ("by stack:", "by capability", "by resource type:", "every charge:", "usage-billed",
                    "AWS::EC2::NatGateway", "HeadlessCommerce-Foundation", "Lex V2"):
        assert section in out


def test_cost_command_rejects_bad_context_with_the_synth_message(capsys):
    from headless_commerce.cli import main

    assert main(["cost", "-c", "profile=qa"]) == 2
    err = capsys.readouterr().err
    assert "error: invalid CDK context: unknown profile 'qa'" in err
    assert main(["cost", "-c", "search=maybe"]) == 2
    assert "'search' must be true or false" in capsys.readouterr().err
    assert main(["cost", "-c", "profile"]) == 2
    assert main(["cost", "--cdk-out", "/nonexistent"]) == 2


def test_prod_placeholders_only_fill_what_is_missing():
    both = contexts_for({})
    assert set(both) == {"dev", "prod"}
    assert both["prod"]["availability_zones"] == "us-east-1a,us-east-1b,us-east-1c"
    assert contexts_for({"profile": "prod", "email_from": "ops@x.example"})["prod"]["email_from"] == "ops@x.example"
    assert list(contexts_for({"profile": "dev"})) == ["dev"]


@pytest.fixture(scope="module")
def prod_default(tmp_path_factory) -> Path:
    """Prod as `headless-commerce cost` synthesizes it (the gate changes no priced resource)."""
    outdir = tmp_path_factory.mktemp("prod-cost")
    build(contexts_for({})["prod"], outdir=str(outdir), compliance=False).app.synth()
    return outdir


README_TABLE = re.compile(r"<!-- cost-table:start -->\n(.*?)<!-- cost-table:end -->", re.S)


def test_readme_cost_table_is_the_commands_output(dev_app: Synthesized, prod_default):
    expected = render_markdown([estimate_assembly(dev_app.outdir, "dev"), estimate_assembly(prod_default, "prod")])
    found = README_TABLE.search((ROOT / "README.md").read_text())
    assert found, "README.md lacks the <!-- cost-table:start --> block"
    assert found.group(1) == expected, "README cost table is stale: run `make cost-table`"


# ---- the dev budget ----------------------------------------------------------------------------

def test_dev_pays_no_event_poller_units_and_no_interface_endpoints(dev_app):
    """The two changes that took dev from $648 to $228 a month: on-demand Kafka pollers (three
    provisioned mappings billed $405) and AWS APIs through the NAT gateway ($14.60 an endpoint)."""
    by_type = estimate_assembly(dev_app.outdir, "dev").by_type()
    assert "AWS::Lambda::EventSourceMapping" not in by_type
    assert "AWS::EC2::VPCEndpoint" not in by_type


def test_dev_with_every_capability_on_fits_the_budget(dev_app):
    assert estimate_assembly(dev_app.outdir, "dev").total <= DEV_BUDGET_USD
