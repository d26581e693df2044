"""One CloudWatch dashboard per stack and the alarms that matter for what the stack runs.

`StackMonitoring` is built on cdk-monitoring-constructs' `MonitoringFacade` wherever the
library has the service (Lambda, API Gateway, DynamoDB, SQS, OpenSearch, Fargate, WAF): its
segments draw the graphs and create the alarms. What the library does not cover is written here
with aws_cloudwatch, each for a stated reason: EventBridge Pipes (no Pipes monitoring), Valkey
memory and evictions (its serverless ElastiCache segment has no memory or eviction alarm, and
its node-based one alarms on host memory, not the engine's), the Kafka consumers' offset lag
(IntegrationPipelines alarms on Lambda's own `OffsetLag`, the lag its pollers act on) and the
business KPIs (Powertools metrics of this app).

Every alarm in the stack, the library's and each construct's own, notifies the alarm topic
(`notify_alarms`), and the dashboard ends with the state of all of them.
"""

from __future__ import annotations

from collections.abc import Mapping

import jsii
from aws_cdk import Duration, Fn, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from cdk_monitoring_constructs import (
    AlarmFactoryDefaults,
    DefaultDashboardFactory,
    ErrorRateThreshold,
    LatencyThreshold,
    MaxMessageAgeThreshold,
    MonitoringFacade,
    NoopAlarmActionStrategy,
    OpenSearchClusterStatus,
    OpenSearchClusterStatusCustomization,
    ThrottledEventsThreshold,
    UsageThreshold,
)
from constructs import Construct, IConstruct

from ..config import Profile
from . import _defaults as defaults
from .alarms import notify_alarms

FIVE_MINUTES = Duration.minutes(5)
# CloudWatch draws at most 100 alarms in one alarm status widget.
_ALARMS_PER_WIDGET = 100


class StackMonitoring(Construct):
    """`facade` (MonitoringFacade), `dashboard` (the stack's one dashboard, named after the stack,
    so two copies of the app never share one; None without one), `thresholds` and `alarms` (the
    ones created here, by name).

    Parameters: `profile`; `alarm_topic` (every alarm of the stack notifies it, on ALARM and OK);
    `thresholds` (default `_defaults.alarm_thresholds(profile)`; a key it does not know is a
    ValueError); `dashboard_name` (default the watched stack's name); `watched` (default the stack
    StackMonitoring is in): the stack whose alarms, its nested stacks' included, are routed and
    listed. Build StackMonitoring in a `NestedStack` of a large stack and pass the stack as
    `watched`: the dashboard and the alarms made here then count against the nested template's
    500 resources, not the stack's. `dashboard` (default None: the profile's `dashboards`; False:
    the alarms only, $3/month less).

    Add what the stack runs with the `monitor_*` methods; `monitor_function_factory` also
    monitors every function the factory creates later, so a new capability's functions alarm
    without anyone remembering to.
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, alarm_topic: sns.ITopic,
                 thresholds: Mapping[str, float] | None = None, dashboard_name: str | None = None,
                 watched: Stack | None = None, dashboard: bool | None = None) -> None:
        super().__init__(scope, id)
        base = defaults.alarm_thresholds(profile)
        unknown = sorted(set(thresholds or {}) - set(base))
        if unknown:
            raise ValueError(f"StackMonitoring: unknown thresholds {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(base))}")
        self.thresholds: dict[str, float] = {**base, **(thresholds or {})}
        stack = watched or Stack.of(self)
        name = dashboard_name or stack.stack_name
        self._dashboards = DefaultDashboardFactory(
            self, "Dashboards", dashboard_name_prefix=name,
            create_dashboard=profile.dashboards if dashboard is None else dashboard,
            create_summary_dashboard=False, create_alarm_dashboard=False)
        # The facade creates alarms without actions: notify_alarms adds the topic to every alarm
        # of the stack, the library's and the constructs' own alike, exactly once.
        self.facade = MonitoringFacade(
            self, "Facade", dashboard_factory=self._dashboards,
            alarm_factory_defaults=AlarmFactoryDefaults(
                actions_enabled=True, alarm_name_prefix=name, action=NoopAlarmActionStrategy(),
                datapoints_to_alarm=1, evaluation_periods=1))
        self.dashboard: cloudwatch.Dashboard | None = self._dashboards.dashboard
        self.alarms: dict[str, cloudwatch.AlarmBase] = {}
        self._function_graphs: dict[str, cloudwatch.GraphWidget] | None = None
        self._throttles_per_function = profile.function_throttle_alarms
        self._reserved = frozenset(profile.reserved_concurrency)
        notify_alarms(stack, alarm_topic)
        # First on the dashboard: the state of every alarm of the stack.
        self.facade.add_widget(_AlarmStatus(stack))

    # ---- library segments -----------------------------------------------------------------

    def monitor_functions(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        """Errors (crashes, timeouts) and throttles of each function."""
        for name, fn in sorted(functions.items()):
            self.monitor_function(name, fn)

    def monitor_function(self, name: str, fn: lambda_.IFunction) -> None:
        """One alarm per function on errors (crashes, timeouts) or throttles.

        Hand-written, not the library's two alarms per function: the prod Commerce stack is
        close to CloudFormation's 500-resource limit, and one metric-math alarm over both
        metrics costs the same ($0.10 per metric) with half the resources. Without
        `function_throttle_alarms` (dev) a function's alarm watches its errors only, unless it
        has reserved concurrency, and one alarm watches the Region's throttles instead."""
        t = self.thresholds
        metrics = {"errors": fn.metric_errors(period=FIVE_MINUTES, statistic="Sum")}
        condition = f"FILL(errors, 0) > {t['lambda_errors']}"
        if self._throttles_per_function or name in self._reserved:
            metrics["throttles"] = fn.metric_throttles(period=FIVE_MINUTES, statistic="Sum")
            condition += f" OR FILL(throttles, 0) > {t['lambda_throttles']}"
            watched = (f"{t['lambda_errors']:.0f} errors (crashes, timeouts) or {t['lambda_throttles']:.0f} "
                       "throttles in 5 minutes; throttles mean raising its concurrency or the account quota")
        else:
            self._watch_region_throttles()
            watched = f"{t['lambda_errors']:.0f} errors (crashes, timeouts) in 5 minutes"
        scope = Construct(self, name)
        self.alarms[f"{name}Failures"] = cloudwatch.Alarm(
            scope, "Failures", evaluation_periods=1, threshold=0,
            alarm_description=f"Function {name}: more than {watched}",
            metric=cloudwatch.MathExpression(
                expression=f"IF({condition}, 1, 0)", using_metrics=metrics, period=FIVE_MINUTES,
                label=f"{name} {' or '.join(metrics)} over threshold"),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
        # The library's four graphs per function would make the Commerce dashboard alone over
        # 100 KB of template (CloudFormation's limit is 1 MB); one line per function on four
        # shared graphs says the same.
        if self._function_graphs is None:
            self._function_graphs = {
                title: cloudwatch.GraphWidget(title=f"Functions: {title}", width=6, height=6, legend_position=legend)
                for title, legend in (("invocations", cloudwatch.LegendPosition.HIDDEN),
                                      ("errors", cloudwatch.LegendPosition.HIDDEN),
                                      ("throttles", cloudwatch.LegendPosition.HIDDEN),
                                      ("duration p99 (ms)", cloudwatch.LegendPosition.HIDDEN))}
            self.facade.add_widget(cloudwatch.Row(*self._function_graphs.values()))
        graphs = self._function_graphs
        graphs["invocations"].add_left_metric(fn.metric_invocations(period=FIVE_MINUTES, label=name))
        graphs["errors"].add_left_metric(fn.metric_errors(period=FIVE_MINUTES, label=name))
        graphs["throttles"].add_left_metric(fn.metric_throttles(period=FIVE_MINUTES, label=name))
        graphs["duration p99 (ms)"].add_left_metric(fn.metric_duration(period=FIVE_MINUTES, statistic="p99",
                                                                        label=name))

    def _watch_region_throttles(self) -> None:
        """Without reserved concurrency a function is throttled only when the account's pool (or
        Lambda's scaling rate) runs out, which the Region-wide Throttles metric shows for every
        function at once: one metric instead of one per function ($0.10 each a month)."""
        # One per app and Region: another StackMonitoring's alarm already watches the same metric.
        root, region = self.node.root, Stack.of(self).region
        watching = getattr(root, "_region_throttle_alarms", None)
        if watching is None:
            watching = root._region_throttle_alarms = {}
        if region in watching:
            return
        limit = self.thresholds["lambda_throttles"]
        self.alarms["LambdaThrottles"] = cloudwatch.Alarm(
            self, "LambdaThrottles", evaluation_periods=1, threshold=limit,
            alarm_description=(f"Lambda throttled more than {limit:.0f} invocations in 5 minutes (any function of "
                               "this account in this Region): raise the account's concurrency quota"),
            metric=cloudwatch.Metric(namespace="AWS/Lambda", metric_name="Throttles", statistic="Sum",
                                     period=FIVE_MINUTES),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
        watching[region] = self.alarms["LambdaThrottles"]

    def monitor_function_factory(self, factory) -> None:
        """Every function of a `PythonFunctions` factory, including the ones added later."""
        factory.on_add(self.monitor_function)

    def monitor_api(self, api: apigw.IRestApi, stage_name: str) -> None:
        """5xx rate (share of requests) and p99 latency of a REST API stage."""
        t = self.thresholds
        datapoints = {"datapoints_to_alarm": 2, "evaluation_periods": 3}
        self.facade.monitor_api_gateway(
            api=api, api_stage=stage_name, alarm_friendly_name="Api", human_readable_name="Commerce API",
            add5_xx_fault_rate_alarm={"5xxRate": ErrorRateThreshold(max_error_rate=t["api_5xx_rate"], **datapoints)},
            add_latency_p99_alarm={"P99": LatencyThreshold(
                max_latency=Duration.millis(t["api_p99_latency_ms"]), **datapoints)})

    def monitor_table(self, name: str, table: dynamodb.ITable) -> None:
        """Read and write throttles (on demand tables throttle past their partition limits)."""
        limit = self.thresholds["dynamodb_throttles"]
        self.facade.monitor_dynamo_table(
            table=table, alarm_friendly_name=name, human_readable_name=f"Table {name}",
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            add_read_throttled_events_count_alarm={"ReadThrottles": ThrottledEventsThreshold(
                max_throttled_events_threshold=limit)},
            add_write_throttled_events_count_alarm={"WriteThrottles": ThrottledEventsThreshold(
                max_throttled_events_threshold=limit)})

    def monitor_fifo_queue(self, name: str, queue: sqs.IQueue, dead_letter_queue: sqs.IQueue) -> None:
        """Age of the oldest message (a consumer that stopped leaves orders waiting); the
        dead-letter queue's own alarm comes with the construct that owns it."""
        self.facade.monitor_sqs_queue_with_dlq(
            queue=queue, dead_letter_queue=dead_letter_queue, alarm_friendly_name=name,
            human_readable_name=f"Queue {name}",
            add_queue_max_message_age_alarm={"OldestMessage": MaxMessageAgeThreshold(
                max_age_in_seconds=self.thresholds["fifo_oldest_message_age_s"])})

    def monitor_search_domain(self, domain: opensearch.IDomain) -> None:
        """Cluster status red and disk space used (free storage running out blocks writes)."""
        self.facade.monitor_open_search_cluster(
            domain=domain, alarm_friendly_name="search", human_readable_name="Search domain",
            # Named like the capability's own resources, so its cost is put down to the search toggle.
            add_cluster_status_alarm={"Red": OpenSearchClusterStatusCustomization(status=OpenSearchClusterStatus.RED)},
            add_disk_space_usage_alarm={"Disk": UsageThreshold(
                max_usage_percent=self.thresholds["search_disk_used_percent"])})

    def monitor_fargate_service(self, name: str, service: ecs.FargateService, *, memory: bool = True) -> None:
        """CPU and memory of a Fargate service (`memory=False` where its construct already alarms on it)."""
        t = self.thresholds
        self.facade.monitor_simple_fargate_service(
            fargate_service=service, alarm_friendly_name=name, human_readable_name=f"Service {name}",
            add_cpu_usage_alarm={"Cpu": UsageThreshold(max_usage_percent=t["ecs_cpu_percent"], datapoints_to_alarm=3,
                                                       evaluation_periods=3)},
            add_memory_usage_alarm={"Memory": UsageThreshold(max_usage_percent=t["ecs_memory_percent"],
                                                             datapoints_to_alarm=3, evaluation_periods=3)}
            if memory else None)

    # ---- hand-written ---------------------------------------------------------------------

    def monitor_cache(self, name: str, cache: elasticache.CfnServerlessCache | elasticache.CfnReplicationGroup,
                      *, data_limit_gb: float | None = None) -> None:
        """Valkey memory used and evictions, serverless (memory against `data_limit_gb`, its
        usage cap) or node-based (the engine's `DatabaseMemoryUsagePercentage` on every node)."""
        t = self.thresholds
        if isinstance(cache, elasticache.CfnServerlessCache):
            data_limit_gb = data_limit_gb or _data_limit_gb(cache)
            if data_limit_gb is None:
                raise ValueError(f"StackMonitoring.monitor_cache: {name} has no data storage limit; pass data_limit_gb")
            dims = {"clusterId": cache.serverless_cache_name or cache.ref}
            used = cloudwatch.MathExpression(
                expression=f"100 * bytes / {data_limit_gb * 1024 ** 3:.0f}", label="Memory used (% of cap)",
                using_metrics={"bytes": _metric("AWS/ElastiCache", "BytesUsedForCache", dims, "Maximum")},
                period=FIVE_MINUTES)
            evictions: cloudwatch.IMetric = _metric("AWS/ElastiCache", "Evictions", dims, "Sum")
        else:
            # Node ids of a replication group without cluster mode: <group id>-001, -002, ...
            count = int(cache.num_cache_clusters or 1)
            nodes = {f"n{i}": Fn.join("-", [cache.ref, f"{i:03d}"]) for i in range(1, count + 1)}
            used = cloudwatch.MathExpression(
                expression=f"MAX([{', '.join(f'm{k}' for k in nodes)}])",
                label="Memory used (% of max, busiest node)",
                using_metrics={f"m{k}": _metric("AWS/ElastiCache", "DatabaseMemoryUsagePercentage",
                                                {"CacheClusterId": node}, "Maximum") for k, node in nodes.items()},
                period=FIVE_MINUTES)
            evictions = cloudwatch.MathExpression(
                expression=" + ".join(f"FILL(e{k}, 0)" for k in nodes), label="Evictions",
                using_metrics={f"e{k}": _metric("AWS/ElastiCache", "Evictions", {"CacheClusterId": node}, "Sum")
                               for k, node in nodes.items()},
                period=FIVE_MINUTES)
        # Under a scope named like the cache's construct, so the cost estimate puts these alarms
        # down to the cache's toggle.
        scope = Construct(self, name)
        self._alarm(f"{name}Memory", used, t["cache_memory_percent"], 3,
                    f"Valkey {name} uses over {t['cache_memory_percent']:.0f}% of its memory; evictions follow",
                    scope=scope, id="Memory")
        self._alarm(f"{name}Evictions", evictions, t["cache_evictions"], 1,
                    f"Valkey {name} evicted keys: it is full, cached answers are being dropped",
                    scope=scope, id="Evictions")
        self.facade.add_widget(cloudwatch.GraphWidget(
            title=f"Valkey {name}", left=[used], right=[evictions], width=12, height=6))

    def monitor_web_acl(self, name: str, acl: wafv2.CfnWebACL) -> None:
        """A spike of blocked requests: an attack, or a rule blocking real shoppers.

        Hand-written: the library keys WAF metrics on the ACL's `name`, but CloudWatch's `WebACL`
        dimension is the ACL's visibility metric name, and our ACLs are named by CloudFormation."""
        visibility = acl.visibility_config
        dims = {"WebACL": visibility.metric_name, "Rule": "ALL"}
        if acl.scope == "REGIONAL":
            dims["Region"] = Stack.of(acl).region
        blocked = _metric("AWS/WAFV2", "BlockedRequests", dims, "Sum")
        allowed = _metric("AWS/WAFV2", "AllowedRequests", dims, "Sum")
        limit = self.thresholds["waf_blocked_requests"]
        self._alarm(f"{name}BlockedSpike", blocked, limit, 1,
                    f"Web ACL {name} blocked over {limit:.0f} requests in 5 minutes: an attack, or a rule "
                    "blocking real shoppers (see the ACL's sampled requests and logs)")
        self.facade.add_widget(cloudwatch.GraphWidget(
            title=f"Web ACL {name} (requests per 5 minutes)", left=[allowed, blocked], width=12, height=6))

    def show_alarms(self, alarms: Mapping[str, cloudwatch.Alarm]) -> None:
        """Graphs of alarms constructs own (pipes, Kafka lag, dead letters), with their thresholds,
        three to a row."""
        widgets = [cloudwatch.AlarmWidget(alarm=alarm, title=title, width=8, height=5)
                   for title, alarm in alarms.items()]
        for index in range(0, len(widgets), 3):
            self.facade.add_widget(cloudwatch.Row(*widgets[index:index + 3]))

    def add_business_kpis(self, namespace: str, services: Mapping[str, str]) -> None:
        """Powertools metrics from the runtime: orders placed, payment declines, fraud decisions
        and the search zero-result rate. `services` maps a KPI group (`orders`, `search`) to the
        Powertools `service` dimension (the function's name) that emits it."""
        def kpi(metric_name: str, service: str, label: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace=namespace, metric_name=metric_name, dimensions_map={"service": service},
                                     statistic="Sum", period=Duration.hours(1), label=label)

        widgets: list[cloudwatch.IWidget] = []
        orders = services.get("orders")
        if orders:
            widgets.append(cloudwatch.GraphWidget(
                title="Orders and payment declines (per hour)", width=8, height=6,
                left=[kpi("OrdersPlaced", orders, "Orders placed"),
                      kpi("PaymentDeclines", orders, "Payment declines")]))
            widgets.append(cloudwatch.GraphWidget(title="Fraud decisions (per hour)", width=8, height=6, left=[
                kpi(f"Fraud{decision}", orders, decision) for decision in ("Approved", "Review", "Denied")]))
        search = services.get("search")
        if search:
            widgets.append(cloudwatch.GraphWidget(title="Search zero-result rate (%)", width=8, height=6, left=[
                cloudwatch.MathExpression(
                    expression="IF(searches > 0, 100 * FILL(zero, 0) / searches, 0)", label="Zero-result searches (%)",
                    using_metrics={"zero": kpi("SearchZeroResults", search, "Zero results"),
                                   "searches": kpi("Searches", search, "Searches")},
                    period=Duration.hours(1))], left_y_axis=cloudwatch.YAxisProps(min=0, max=100)))
        self.facade.add_widget(cloudwatch.TextWidget(markdown="## Business", width=24, height=1))
        self.facade.add_widget(cloudwatch.Row(*widgets))

    def _alarm(self, name: str, metric: cloudwatch.IMetric, threshold: float, periods: int, description: str,
               *, scope: Construct | None = None, id: str | None = None) -> None:
        self.alarms[name] = cloudwatch.Alarm(
            scope or self, id or name, metric=metric, threshold=threshold, evaluation_periods=periods,
            alarm_description=description,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)


def _data_limit_gb(cache: elasticache.CfnServerlessCache) -> float | None:
    limits = cache.cache_usage_limits
    storage = getattr(limits, "data_storage", None)
    if storage is None or getattr(storage, "maximum", None) is None:
        return None
    return storage.maximum if storage.unit == "GB" else None


def _metric(namespace: str, name: str, dims: dict[str, str], statistic: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(namespace=namespace, metric_name=name, dimensions_map=dims, statistic=statistic,
                             period=FIVE_MINUTES)


@jsii.implements(cloudwatch.IWidget)
class _AlarmStatus:
    """The state of every alarm in the stack, listed when the dashboard is rendered (at synth),
    so alarms that constructs create after StackMonitoring are on it too."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._x = self._y = 0

    @property
    def width(self) -> int:
        return 24

    @property
    def height(self) -> int:
        return sum(height for _, height in self._chunks())

    @property
    def warnings(self) -> list[str] | None:
        return None

    @property
    def warnings_v2(self) -> dict[str, str] | None:
        return None

    def position(self, x: int, y: int) -> None:
        self._x, self._y = x, y

    def _chunks(self) -> list[tuple[list[cloudwatch.AlarmBase], int]]:
        alarms = sorted((node for node in self._stack.node.find_all() if _is_alarm(node)), key=lambda a: a.node.path)
        chunks = [alarms[i:i + _ALARMS_PER_WIDGET] for i in range(0, len(alarms), _ALARMS_PER_WIDGET)]
        # Four alarm names per row of a full-width widget, plus the title row.
        return [(chunk, 2 + (len(chunk) + 3) // 4) for chunk in chunks]

    def to_json(self) -> list:
        widgets, y = [], self._y
        for index, (chunk, height) in enumerate(self._chunks()):
            widget = cloudwatch.AlarmStatusWidget(alarms=chunk, width=24, height=height,
                                                  title="Alarms" if index == 0 else "Alarms (continued)")
            widget.position(self._x, y)
            y += height
            widgets.extend(widget.to_json())
        return widgets


def _is_alarm(node: IConstruct) -> bool:
    return isinstance(node, cloudwatch.AlarmBase) and Stack.of(node) is not None and node.node.default_child is not None
