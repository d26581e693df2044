"""Monthly idle cost of synthesized CloudFormation templates, from the price table in prices.json.

"Idle" is what a deployed copy costs with no traffic: hours of provisioned capacity, monthly
fees per resource, and billed minimums. Usage-billed services cost nothing idle; the table
lists their per-request prices instead. A resource type that is in neither list of the table
raises `UnpricedResource`, so a new kind of resource cannot be left out of the estimate silently.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

PRICES_JSON = Path(__file__).with_name("prices.json")
# What Lambda provisions per Event Poller Unit (Kafka provisioned mode).
POLLERS_PER_EPU = 10


class UnpricedResource(ValueError):
    """A resource type or size the price table does not know."""


@dataclasses.dataclass(frozen=True)
class PriceTable:
    data: Mapping[str, Any]

    @property
    def hours(self) -> float:
        return float(self.data["hours_per_month"])

    @property
    def as_of(self) -> str:
        return str(self.data["as_of"])

    @property
    def region(self) -> str:
        return str(self.data["region"])

    def usd(self, key: str) -> float:
        return float(self.data["prices"][key]["usd"])

    def count(self, key: str) -> int:
        return int(self.data["assumptions"][key]["count"])

    def hourly(self, key: str) -> float:
        """A price per hour as a month of hours."""
        return self.usd(key) * self.hours

    def instance_hour(self, family: str, instance_type: str) -> float:
        table = self.data["instance_hours"][family]["usd_per_hour"]
        if instance_type not in table:
            raise UnpricedResource(f"no {family} price for {instance_type!r} in {PRICES_JSON.name}; "
                                   f"priced: {', '.join(sorted(table))}")
        return float(table[instance_type])

    @property
    def no_idle_cost(self) -> Mapping[str, str]:
        return self.data["no_idle_cost"]

    @property
    def per_request(self) -> list[Mapping[str, str]]:
        return list(self.data["per_request"])


@cache
def _load(path: str) -> PriceTable:
    return PriceTable(json.loads(Path(path).read_text()))


def load_prices(path: Path = PRICES_JSON) -> PriceTable:
    return _load(str(path))


@dataclasses.dataclass(frozen=True)
class Charge:
    """One idle charge of one resource: `capability` overrides the resource's own (a WAF rule
    added by a capability to a shared web ACL)."""
    monthly: float
    detail: str
    capability: str | None = None


@dataclasses.dataclass(frozen=True)
class Line:
    stack: str
    logical_id: str
    type: str
    capability: str
    monthly: float
    detail: str


Template = Mapping[str, Any]
Pricer = Callable[[str, Mapping[str, Any], Template, PriceTable], list[Charge]]


def _props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return resource.get("Properties") or {}


def _int(value: Any, default: int) -> int:
    """A number from a template; intrinsic functions (unknown until deploy) fall back to `default`."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return default


def _money(value: float) -> str:
    return f"${value:,.2f}"


# ---- pricers, one per resource type ------------------------------------------------------------

def _nat_gateway(_id, _res, _tpl, t: PriceTable) -> list[Charge]:
    return [Charge(t.hourly("nat_gateway_hour"), f"{t.hours:g} h x {_money(t.usd('nat_gateway_hour'))}/h")]


def _eip(_id, _res, _tpl, t: PriceTable) -> list[Charge]:
    return [Charge(t.hourly("public_ipv4_hour"), "1 public IPv4 address")]


def _vpc_endpoint(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    props = _props(res)
    if props.get("VpcEndpointType", "Gateway") != "Interface":
        return []  # gateway endpoints (S3, DynamoDB) are free
    zones = len(props.get("SubnetIds") or []) or 1
    return [Charge(zones * t.hourly("interface_endpoint_az_hour"), f"interface endpoint in {zones} AZ(s)")]


def _load_balancer(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    props = _props(res)
    kind = props.get("Type", "application")
    charges = [Charge(t.hourly("nlb_hour" if kind == "network" else "alb_hour"), f"{kind} load balancer")]
    if props.get("Scheme", "internet-facing") == "internet-facing":
        zones = len(props.get("Subnets") or props.get("SubnetMappings") or []) or 1
        charges.append(Charge(zones * t.hourly("public_ipv4_hour"), f"{zones} public IPv4 address(es), one per AZ"))
    return charges


# Managed rule groups with a subscription fee on top of the rule, and the capability that adds them.
_PAID_RULE_GROUPS = {
    "AWSManagedRulesBotControlRuleSet": ("waf_bot_control_month", None),
    "AWSManagedRulesATPRuleSet": ("waf_atp_month", "fraud"),
    "AWSManagedRulesACFPRuleSet": ("waf_acfp_month", "fraud"),
}


def _web_acl(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    rules = _props(res).get("Rules") or []
    charges = [Charge(t.usd("waf_web_acl_month"), f"web ACL ({_props(res).get('Scope', 'REGIONAL')})")]
    plain = 0
    for rule in rules:
        group = (rule.get("Statement") or {}).get("ManagedRuleGroupStatement", {}).get("Name")
        if group in _PAID_RULE_GROUPS:
            key, capability = _PAID_RULE_GROUPS[group]
            charges.append(Charge(t.usd("waf_rule_month") + t.usd(key), f"rule group {group}", capability))
        else:
            plain += 1
    if plain:
        charges.append(Charge(plain * t.usd("waf_rule_month"), f"{plain} rule(s)"))
    return charges


def _fargate_service(_id, res, tpl: Template, t: PriceTable) -> list[Charge]:
    props = _props(res)
    task_ref = props.get("TaskDefinition")
    task = tpl["Resources"].get(task_ref.get("Ref")) if isinstance(task_ref, dict) else None
    uses_fargate = props.get("LaunchType") == "FARGATE" or any(
        s.get("CapacityProvider", "").startswith("FARGATE") for s in props.get("CapacityProviderStrategy") or [])
    if task is None or not uses_fargate:
        raise UnpricedResource(f"ECS service {_id}: only Fargate services with a task definition in the "
                               "same template are priced")
    task_props = _props(task)
    vcpu = _int(task_props.get("Cpu"), 256) / 1024
    gb = _int(task_props.get("Memory"), 512) / 1024
    tasks = _int(props.get("DesiredCount"), 1)
    arch = "arm" if (task_props.get("RuntimePlatform") or {}).get("CpuArchitecture") == "ARM64" else "x86"
    monthly = tasks * (vcpu * t.hourly(f"fargate_{arch}_vcpu_hour") + gb * t.hourly(f"fargate_{arch}_gb_hour"))
    return [Charge(monthly, f"{tasks} task(s) x {vcpu:g} vCPU, {gb:g} GB ({arch})")]


def _ecs_cluster(logical_id, res, tpl: Template, t: PriceTable) -> list[Charge]:
    settings = {s.get("Name"): s.get("Value") for s in _props(res).get("ClusterSettings") or []}
    if settings.get("containerInsights") not in ("enabled", "enhanced"):
        return []
    services = sum(1 for r in tpl["Resources"].values()
                   if r["Type"] == "AWS::ECS::Service" and _props(r).get("Cluster") == {"Ref": logical_id})
    metrics = (t.count("container_insights_metrics_per_cluster")
               + services * t.count("container_insights_metrics_per_service"))
    return [Charge(metrics * t.usd("cloudwatch_metric_month"),
                   f"Container Insights ≈ {metrics} metrics (1 cluster, {services} service(s))")]


def _serverless_cache(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    engine = _props(res).get("Engine", "valkey")
    kind = "valkey" if engine == "valkey" else "redis"
    minimum = t.usd(f"elasticache_serverless_{kind}_min_gb")
    return [Charge(minimum * t.hourly(f"elasticache_serverless_{kind}_gb_hour"),
                   f"serverless {engine}, billed minimum {minimum:g} GB stored")]


def _replication_group(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    props = _props(res)
    family = "elasticache_valkey" if props.get("Engine") == "valkey" else "elasticache_redis"
    if "NumCacheClusters" in props:
        nodes = _int(props["NumCacheClusters"], 1)
    else:
        nodes = _int(props.get("NumNodeGroups"), 1) * (1 + _int(props.get("ReplicasPerNodeGroup"), 0))
    node_type = props.get("CacheNodeType", "")
    return [Charge(nodes * t.instance_hour(family, node_type) * t.hours, f"{nodes} x {node_type}")]


def _cache_cluster(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    props = _props(res)
    family = "elasticache_valkey" if props.get("Engine") == "valkey" else "elasticache_redis"
    nodes = _int(props.get("NumCacheNodes"), 1)
    return [Charge(nodes * t.instance_hour(family, props.get("CacheNodeType", "")) * t.hours,
                   f"{nodes} x {props.get('CacheNodeType')}")]


def _opensearch_domain(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    props = _props(res)
    cluster = props.get("ClusterConfig") or {}
    data_type = cluster.get("InstanceType", "r5.large.search")
    data_nodes = _int(cluster.get("InstanceCount"), 1)
    charges = [Charge(data_nodes * t.instance_hour("opensearch", data_type) * t.hours,
                      f"{data_nodes} x {data_type} data node(s)")]
    if cluster.get("DedicatedMasterEnabled"):
        masters = _int(cluster.get("DedicatedMasterCount"), 3)
        master_type = cluster.get("DedicatedMasterType", data_type)
        charges.append(Charge(masters * t.instance_hour("opensearch", master_type) * t.hours,
                              f"{masters} x {master_type} dedicated master(s)"))
    ebs = props.get("EBSOptions") or {}
    if ebs.get("EBSEnabled"):
        if ebs.get("VolumeType", "gp3") != "gp3":
            raise UnpricedResource(f"OpenSearch {ebs.get('VolumeType')} storage is not in the price table")
        gb = _int(ebs.get("VolumeSize"), 10) * data_nodes
        charges.append(Charge(gb * t.usd("opensearch_gp3_gb_month"), f"{gb} GB gp3"))
    return charges


def _msk_cluster(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    props = _props(res)
    brokers = _int(props.get("NumberOfBrokerNodes"), 3)
    broker_info = props.get("BrokerNodeGroupInfo") or {}
    broker_type = broker_info.get("InstanceType", "")
    gb = brokers * _int(((broker_info.get("StorageInfo") or {}).get("EBSStorageInfo") or {}).get("VolumeSize"), 1000)
    return [Charge(brokers * t.instance_hour("msk", broker_type) * t.hours, f"{brokers} x {broker_type} broker(s)"),
            Charge(gb * t.usd("msk_storage_gb_month"), f"{gb} GB broker storage")]


def _msk_serverless(_id, _res, _tpl, t: PriceTable) -> list[Charge]:
    return [Charge(t.hourly("msk_serverless_cluster_hour"), "serverless cluster-hours (+ partitions, data)")]


def _event_source_mapping(logical_id, res, tpl: Template, t: PriceTable) -> list[Charge]:
    config = _props(res).get("ProvisionedPollerConfig")
    if not config:
        return []  # on-demand pollers: no charge
    group = config.get("PollerGroupName")
    pollers = max(_int(config.get("MinimumPollers"), 1), 1)
    if not group:
        epus = math.ceil(pollers / POLLERS_PER_EPU)
        return [Charge(epus * t.hourly("lambda_kafka_epu_hour"),
                       f"{epus} Event Poller Unit(s) for {pollers} minimum poller(s), not shared")]
    # Mappings of one poller group share EPUs; each carries its share of the minimum pollers.
    members = [_props(r)["ProvisionedPollerConfig"] for r in tpl["Resources"].values()
               if r["Type"] == "AWS::Lambda::EventSourceMapping"
               and (_props(r).get("ProvisionedPollerConfig") or {}).get("PollerGroupName") == group]
    group_pollers = sum(max(_int(m.get("MinimumPollers"), 1), 1) for m in members)
    epus = math.ceil(group_pollers / POLLERS_PER_EPU)
    share = pollers / group_pollers
    return [Charge(share * epus * t.hourly("lambda_kafka_epu_hour"),
                   f"{share:.0%} of {epus} shared Event Poller Unit(s) (poller group, {group_pollers} pollers)")]


def _dax_cluster(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    props = _props(res)
    nodes = _int(props.get("ReplicationFactor"), 1)
    return [Charge(nodes * t.instance_hour("dax", props.get("NodeType", "")) * t.hours,
                   f"{nodes} x {props.get('NodeType')}")]


def _kms_key(_id, _res, _tpl, t: PriceTable) -> list[Charge]:
    return [Charge(t.usd("kms_key_month"), "customer managed key")]


def _secret(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    copies = 1 + len(_props(res).get("ReplicaRegions") or [])
    return [Charge(copies * t.usd("secret_month"), f"{copies} secret(s) (with replicas)")]


def _alarm(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    props = _props(res)
    metrics = [m for m in props.get("Metrics") or [] if "MetricStat" in m] or [props]
    high_res = any(_int(m.get("Period", (m.get("MetricStat") or {}).get("Period")), 60) < 60 for m in metrics)
    key = "cloudwatch_high_resolution_alarm_month" if high_res else "cloudwatch_alarm_month"
    return [Charge(len(metrics) * t.usd(key), f"{len(metrics)} alarm metric(s)")]


def _composite_alarm(_id, _res, _tpl, t: PriceTable) -> list[Charge]:
    return [Charge(t.usd("cloudwatch_composite_alarm_month"), "composite alarm")]


def _dashboard(_id, _res, _tpl, t: PriceTable) -> list[Charge]:
    return [Charge(t.usd("cloudwatch_dashboard_month"), "dashboard")]


def _hosted_zone(_id, _res, _tpl, t: PriceTable) -> list[Charge]:
    return [Charge(t.usd("route53_hosted_zone_month"), "hosted zone")]


def _health_check(_id, _res, _tpl, t: PriceTable) -> list[Charge]:
    return [Charge(t.usd("route53_health_check_month"), "health check")]


def _personalize_recommenders(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    props = _props(res)
    if str(props.get("Enabled", "true")).lower() != "true":
        return []
    recommenders = props.get("Recommenders") or []
    tps = sum(max(_int(r.get("MinRecommendationRequestsPerSecond"), 1), 1) for r in recommenders)
    return [Charge(tps * t.hourly("personalize_recommender_tps_hour"),
                   f"{len(recommenders)} recommender(s), {tps} TPS minimum throughput")]


def _phone_number(_id, res, _tpl, t: PriceTable) -> list[Charge]:
    number_type = _props(res).get("NumberType", "TOLL_FREE")
    return [Charge(t.usd("sms_toll_free_number_month"), f"{number_type} number lease (toll-free rate)")]


PRICERS: dict[str, Pricer] = {
    "AWS::EC2::NatGateway": _nat_gateway,
    "AWS::EC2::EIP": _eip,
    "AWS::EC2::VPCEndpoint": _vpc_endpoint,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _load_balancer,
    "AWS::WAFv2::WebACL": _web_acl,
    "AWS::ECS::Service": _fargate_service,
    "AWS::ECS::Cluster": _ecs_cluster,
    "AWS::ElastiCache::ServerlessCache": _serverless_cache,
    "AWS::ElastiCache::ReplicationGroup": _replication_group,
    "AWS::ElastiCache::CacheCluster": _cache_cluster,
    "AWS::OpenSearchService::Domain": _opensearch_domain,
    "AWS::MSK::Cluster": _msk_cluster,
    "AWS::MSK::ServerlessCluster": _msk_serverless,
    "AWS::Lambda::EventSourceMapping": _event_source_mapping,
    "AWS::DAX::Cluster": _dax_cluster,
    "AWS::KMS::Key": _kms_key,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::CompositeAlarm": _composite_alarm,
    "AWS::CloudWatch::Dashboard": _dashboard,
    "AWS::Route53::HostedZone": _hosted_zone,
    "AWS::Route53::HealthCheck": _health_check,
    "Custom::PersonalizeRecommenders": _personalize_recommenders,
    "AWS::SMSVOICE::PhoneNumber": _phone_number,
}


def price_template(stack: str, template: Template, table: PriceTable,
                   capability_of: Callable[[str], str] = lambda _logical_id: "core") -> list[Line]:
    """Every idle charge of one template; `capability_of(logical_id)` names the toggle a resource
    belongs to ("core" when none)."""
    lines: list[Line] = []
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        type_ = resource["Type"]
        pricer = PRICERS.get(type_)
        if pricer is None:
            if type_ in table.no_idle_cost:
                continue
            raise UnpricedResource(f"{stack}/{logical_id}: resource type {type_} is not in the price table "
                                   f"({PRICES_JSON}); add its idle price or list it under no_idle_cost")
        for charge in pricer(logical_id, resource, template, table):
            lines.append(Line(stack, logical_id, type_, charge.capability or capability_of(logical_id),
                              round(charge.monthly, 6), charge.detail))
    return lines


def unpriced_types(types: Iterable[str], table: PriceTable) -> list[str]:
    return sorted(t for t in set(types) if t not in PRICERS and t not in table.no_idle_cost)
