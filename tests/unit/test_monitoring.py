"""StackMonitoring: one dashboard per stack, the alarms of every capability, all routed to the
alarm topic. The app-wide checks read the session's dev and prod synths (tests/conftest.py)."""

import dataclasses
import json

import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns

from headless_commerce import model
from headless_commerce.constructs.alarms import notify_alarms
from headless_commerce.constructs.monitoring import StackMonitoring

from .helpers import commerce_base, new_stack, resources_of, template

ALARM_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")


def _topic_id(app, stack: str = "Foundation") -> str:
    topics = resources_of(app.template(stack), "AWS::SNS::Topic")
    (topic_id,) = [k for k, v in topics.items() if v["Properties"].get("DisplayName") == "Headless commerce alarms"]
    return topic_id


def _points_at_topic(action, topic_id: str) -> bool:
    if action == {"Ref": topic_id}:
        return True
    # Later stacks read Foundation's topic ARN through its export (or, with cross-region
    # references on for the edge stack, its published output).
    return bool({"Fn::ImportValue", "Fn::GetStackOutput"} & set(action)) and topic_id in json.dumps(action)


def test_every_alarm_of_every_stack_notifies_the_alarm_topic(any_app):
    checked = 0
    for stack in any_app.reference.stacks:
        # An alarm notifies only a topic in its own region: the edge (us-east-1) has its own.
        topic_id = _topic_id(any_app, "Edge" if stack == "Edge" else "Foundation")
        for logical_id, alarm in any_app.template(stack).get("Resources", {}).items():
            if alarm["Type"] not in ALARM_TYPES:
                continue
            props = alarm["Properties"]
            assert props.get("ActionsEnabled", True) is not False, f"{stack}/{logical_id}"
            assert any(_points_at_topic(a, topic_id) for a in props.get("AlarmActions", [])), f"{stack}/{logical_id}"
            assert any(_points_at_topic(a, topic_id) for a in props.get("OKActions", [])), f"{stack}/{logical_id}"
            # Once: a duplicated action would notify twice per state change.
            assert len(props["AlarmActions"]) == len({json.dumps(a) for a in props["AlarmActions"]})
            checked += 1
    assert checked > 50


def test_one_dashboard_per_monitored_stack_named_after_it_in_prod_none_in_dev(dev_app, prod_app):
    for stack in ("Foundation", "Commerce", "Integration", "Web", "Edge"):
        dashboards = resources_of(prod_app.template(stack), "AWS::CloudWatch::Dashboard")
        assert [d["Properties"]["DashboardName"] for d in dashboards.values()] == \
            [prod_app.reference.stacks[stack].stack_name], stack
        # Dev keeps the alarms only (profile `dashboards`: $3/month a dashboard).
        assert resources_of(dev_app.template(stack), "AWS::CloudWatch::Dashboard") == {}, stack
        assert resources_of(dev_app.template(stack), "AWS::CloudWatch::Alarm"), stack


def test_dashboards_on_request_in_dev(tmp_path):
    from headless_commerce.app_builder import build

    reference = build({"profile": "dev", "dashboards": "true", "integration": "false", "web": "false"},
                      outdir=str(tmp_path), compliance=False)
    assert reference.config.profile.dashboards is True
    reference.app.synth()
    foundation = json.loads((tmp_path / "HeadlessCommerce-Foundation.template.json").read_text())
    assert len(resources_of(foundation, "AWS::CloudWatch::Dashboard")) == 1


def _alarm_metrics(app, stack: str) -> set[str]:
    """Metric names the stack's alarms watch, directly or inside metric math."""
    names = set()
    for alarm in resources_of(app.template(stack), "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if "MetricName" in props:
            names.add(props["MetricName"])
        for query in props.get("Metrics", []):
            if "MetricStat" in query:
                names.add(query["MetricStat"]["Metric"]["MetricName"])
    return names


# The list, per stack: what must alarm in every profile.
EXPECTED = {
    "Foundation": {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "ExecutionFailed"},
    "Commerce": {"Errors", "Throttles", "5XXError", "Latency", "ApproximateNumberOfMessagesVisible",
                 "ExecutionFailed", "ClusterStatus.red", "FreeStorageSpace", "Evictions",
                 "ReadThrottleEvents", "WriteThrottleEvents", "BlockedRequests"},
    "Integration": {"Errors", "Throttles", "OffsetLag", "ApproximateNumberOfMessagesVisible"},
    "Edge": {"BlockedRequests"},
    "Web": {"Errors", "Throttles", "HTTPCode_Target_5XX_Count", "UnHealthyHostCount", "CPUUtilization",
            "MemoryUtilization", "Evictions", "ReadThrottleEvents", "WriteThrottleEvents"},
}


# What a dev Web stack leaves to Commerce: its storefront shares the API's response cache, whose
# invalidation function and cache alarms are Commerce's (profile `web_cache_shared`).
SHARED_WITH_COMMERCE = {"Errors", "Throttles", "Evictions"}


@pytest.mark.parametrize("stack", sorted(EXPECTED))
def test_every_capability_alarms_in_both_profiles(dev_app, prod_app, stack):
    for app in (dev_app, prod_app):
        expected = EXPECTED[stack]
        if stack == "Web" and app.reference.stacks["Web"].web.shared_cache:
            expected = expected - SHARED_WITH_COMMERCE
            assert SHARED_WITH_COMMERCE | {"BytesUsedForCache"} <= _alarm_metrics(app, "Commerce")
        if not app.reference.config.profile.function_throttle_alarms:
            # The Region's throttles are one alarm, in Commerce (test_dev_alarms_on_each_functions_...).
            expected = expected - {"Throttles"}
            assert "Throttles" in _alarm_metrics(app, "Commerce")
        missing = expected - _alarm_metrics(app, stack)
        assert not missing, f"{app.reference.config.profile.name} {stack}: no alarm on {sorted(missing)}"
    if stack in ("Commerce", "Web"):
        # Valkey memory: of the serverless cap in dev, the engine's own percentage on each node in prod.
        assert "BytesUsedForCache" in _alarm_metrics(dev_app, "Commerce")
        assert "DatabaseMemoryUsagePercentage" in _alarm_metrics(prod_app, stack)


def _function_alarm_metrics(t: dict) -> dict[str, set]:
    """Metric names each function's alarms watch, by the function's logical id."""
    watched: dict[str, set] = {}
    for alarm in resources_of(t, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        queries = props.get("Metrics") or [{"MetricStat": {"Metric": {
            "MetricName": props.get("MetricName"), "Dimensions": props.get("Dimensions", [])}}}]
        for query in queries:
            metric = query.get("MetricStat", {}).get("Metric", {})
            for dim in metric.get("Dimensions", []):
                if dim["Name"] == "FunctionName" and "Ref" in dim["Value"]:
                    watched.setdefault(dim["Value"]["Ref"], set()).add(metric["MetricName"])
    return watched


def _our_functions(t: dict) -> list[str]:
    # Functions CDK creates for itself (custom resource providers) are not the app's.
    functions = resources_of(t, "AWS::Lambda::Function")
    ours = [k for k, v in functions.items() if "POWERTOOLS_SERVICE_NAME" in json.dumps(v["Properties"])]
    assert len(ours) > 20
    return ours


def test_every_function_has_error_and_throttle_alarms_in_prod(prod_app):
    t = prod_app.template("Commerce")
    watched = _function_alarm_metrics(t)
    for logical_id in _our_functions(t):
        assert {"Errors", "Throttles"} <= watched.get(logical_id, set()), logical_id


def test_dev_alarms_on_each_functions_errors_and_the_regions_throttles(dev_app):
    t = dev_app.template("Commerce")
    watched = _function_alarm_metrics(t)
    for logical_id in _our_functions(t):
        assert watched.get(logical_id) == {"Errors"}, logical_id
    # One metric for every function's throttles (none has reserved concurrency in dev).
    region = [a["Properties"] for a in resources_of(t, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("MetricName") == "Throttles"]
    assert len(region) == 1
    assert region[0]["Namespace"] == "AWS/Lambda" and "Dimensions" not in region[0]
    # Once per app and Region: Integration's functions are covered by the same alarm.
    assert not [a for a in resources_of(dev_app.template("Integration"), "AWS::CloudWatch::Alarm").values()
                if a["Properties"].get("MetricName") == "Throttles"]


def test_a_function_with_reserved_concurrency_keeps_its_own_throttle_alarm():
    base = commerce_base()
    topic = sns.Topic(base.stack, "Topic")
    profile = dataclasses.replace(base.profile, reserved_concurrency={"capped": 5})
    monitoring = StackMonitoring(base.stack, "Monitoring", profile=profile, alarm_topic=topic)
    monitoring.monitor_function_factory(base.functions)
    base.functions.add("capped", handler="x.handler", memory_mb=128, timeout_s=3, environment={})
    base.functions.add("free", handler="x.handler", memory_mb=128, timeout_s=3, environment={})
    expressions = {name: json.dumps(template(base.stack).to_json()["Resources"][
        base.stack.get_logical_id(monitoring.alarms[f"{name}Failures"].node.default_child)]["Properties"]["Metrics"])
        for name in ("capped", "free")}
    assert "throttles" in expressions["capped"] and "throttles" not in expressions["free"]
    assert "LambdaThrottles" in monitoring.alarms


def test_business_kpis_on_the_commerce_dashboard(dev_app, prod_app):
    (dashboard,) = resources_of(prod_app.template("Commerce"), "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    prod_namespace = prod_app.reference.stacks["Commerce"].stack_name
    for kpi in (kpi for names in model.BUSINESS_KPIS.values() for kpi in names):
        assert kpi in body, kpi
    assert prod_namespace in body and "SearchZeroResults" in body and "100 * FILL(zero, 0) / searches" in body
    # Dev has no dashboard; its Lambda checkout publishes into its own stack's namespace (the stack
    # name carries the stage), which a dashboard (`-c dashboards=true`) would graph.
    t = dev_app.template("Commerce")
    namespace = dev_app.reference.stacks["Commerce"].stack_name
    checkout = [v for v in resources_of(t, "AWS::Lambda::Function").values()
                if v["Properties"].get("Environment", {}).get("Variables", {}).get("POWERTOOLS_SERVICE_NAME")
                == "checkout"]
    assert checkout and all(f["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == namespace
                            for f in checkout)


def test_kpis_of_a_function_on_fargate_are_published_by_metric_filters(prod_app):
    """Prod runs checkout on Fargate, where CloudWatch reads no embedded-metric-format lines: the
    container logs each count and a filter on its log group publishes the dashboard's metric."""
    t = prod_app.template("Commerce")
    namespace = prod_app.reference.stacks["Commerce"].stack_name
    task = next(v for v in resources_of(t, "AWS::ECS::TaskDefinition").values()
                if any(e["Value"] == "checkout" for c in v["Properties"]["ContainerDefinitions"]
                       for e in c.get("Environment", []) if e["Name"] == "POWERTOOLS_SERVICE_NAME"))
    (container,) = task["Properties"]["ContainerDefinitions"]
    assert {"Name": "COUNT_LOG_LINES", "Value": "1"} in container["Environment"]
    log_group = container["LogConfiguration"]["Options"]["awslogs-group"]
    filters = {f["Properties"]["MetricTransformations"][0]["MetricName"]: f["Properties"]
               for f in resources_of(t, "AWS::Logs::MetricFilter").values()
               if f["Properties"]["LogGroupName"] == log_group}
    assert set(filters) == set(model.BUSINESS_KPIS["orders"])
    for name, props in filters.items():
        (transform,) = props["MetricTransformations"]
        assert transform["MetricNamespace"] == namespace and transform["MetricValue"] == "$.value"
        assert transform["Dimensions"] == [{"Key": "service", "Value": "$.service"}]
        assert f'$.count = "{name}"' in props["FilterPattern"]
    # Dev runs checkout on Lambda, which publishes the same metrics by itself.
    assert prod_app.reference.stacks["Commerce"].app_tier.services.get("checkout") is not None


def test_dashboard_lists_every_alarm_of_its_stack(prod_app):
    t = prod_app.template("Web")
    (dashboard,) = resources_of(t, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for logical_id in resources_of(t, "AWS::CloudWatch::Alarm"):
        assert logical_id in body, logical_id


# ---- the construct alone --------------------------------------------------------------------

def _monitoring(**kwargs):
    stack, profile = new_stack()
    topic = sns.Topic(stack, "Topic")
    return stack, StackMonitoring(stack, "Monitoring", profile=profile, alarm_topic=topic, **kwargs), topic


def test_unknown_threshold_is_refused():
    with pytest.raises(ValueError, match="lambda_erors"):
        _monitoring(thresholds={"lambda_erors": 1})


def test_threshold_override_and_functions_added_later_are_monitored():
    base = commerce_base()
    topic = sns.Topic(base.stack, "Topic")
    monitoring = StackMonitoring(base.stack, "Monitoring", profile=base.profile, alarm_topic=topic,
                                 thresholds={"lambda_errors": 5})
    base.functions.add("early", handler="x.handler", memory_mb=128, timeout_s=3, environment={})
    monitoring.monitor_function_factory(base.functions)
    base.functions.add("late", handler="x.handler", memory_mb=128, timeout_s=3, environment={})
    alarms = resources_of(template(base.stack).to_json(), "AWS::CloudWatch::Alarm")
    errors = [a["Properties"] for a in alarms.values() if "Errors" in json.dumps(a) and "FunctionName" in json.dumps(a)]
    assert len(errors) == 2
    # Dev's profile: errors per function, throttles on one Region-wide alarm.
    assert all("FILL(errors, 0) > 5, 1, 0" in json.dumps(a["Metrics"]) for a in errors)
    assert all(a["AlarmActions"] == [{"Ref": base.stack.get_logical_id(topic.node.default_child)}] for a in errors)


def test_alarm_a_construct_adds_after_monitoring_is_routed_once():
    stack, _monitoring_construct, topic = _monitoring()
    metric = cloudwatch.Metric(namespace="Custom", metric_name="Thing", period=Duration.minutes(5))
    _ = cloudwatch.Alarm(stack, "Late", metric=metric, threshold=1, evaluation_periods=1)
    # A second notify for the same topic (a stack calling it too) must not add the action twice.
    notify_alarms(stack, topic)
    (late,) = [a for k, a in resources_of(template(stack).to_json(), "AWS::CloudWatch::Alarm").items()
               if k.startswith("Late")]
    assert late["Properties"]["AlarmActions"] == [{"Ref": stack.get_logical_id(topic.node.default_child)}]


def test_serverless_cache_without_a_cap_needs_one():
    from aws_cdk import aws_elasticache as elasticache
    stack, monitoring, _ = _monitoring()
    cache = elasticache.CfnServerlessCache(stack, "Cache", engine="valkey", serverless_cache_name="c")
    with pytest.raises(ValueError, match="data_limit_gb"):
        monitoring.monitor_cache("Cache", cache)
    monitoring.monitor_cache("Cache", cache, data_limit_gb=1)
    alarms = resources_of(template(stack).to_json(), "AWS::CloudWatch::Alarm")
    memory = [a for k, a in alarms.items() if "CacheMemory" in k]
    assert memory and "100 * bytes / 1073741824" in json.dumps(memory[0])
