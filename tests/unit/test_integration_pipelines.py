"""IntegrationPipelines templates per profile and form (provisioned, serverless, existing):
encryption, auth, logs, topics, the consumers' Kafka event sources, alarms; props rules; the
`integration` toggle."""

import json

import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from headless_commerce.constructs.integration_pipelines import IntegrationPipelines
from headless_commerce.runtime import settings

from .helpers import commerce_base, resources_of

THEIRS = "arn:aws:kafka:eu-west-1:111111111111:cluster/theirs/0b1d2f6a-1111-2222-3333-444455556666-7"


def _build(profile="dev", **props):
    base = commerce_base(profile)
    if props.pop("bucket", False):
        props["failure_bucket"] = s3.Bucket.from_bucket_name(base.stack, "Archive", "feed-failures-archive")
    pipes = IntegrationPipelines(base.stack, "Feeds", profile=base.profile, table=base.table,
                                 functions=base.functions, vpc=base.network.vpc, encryption_key=base.key, **props)
    return base.stack, pipes, Template.from_stack(base.stack).to_json()


_of = resources_of


@pytest.fixture(scope="module")
def dev():
    return _build("dev")


@pytest.fixture(scope="module")
def prod():
    return _build("prod")


def _cluster(template):
    (cluster,) = _of(template, "AWS::MSK::Cluster").values()
    return cluster["Properties"]


def test_dev_cluster_is_two_small_brokers_encrypted_iam_only_with_logs(dev):
    _, _pipes, template = dev
    cluster = _cluster(template)
    assert cluster["NumberOfBrokerNodes"] == 2
    brokers = cluster["BrokerNodeGroupInfo"]
    assert brokers["InstanceType"] == "kafka.t3.small"
    assert len(brokers["ClientSubnets"]) == 2
    assert brokers["ConnectivityInfo"]["PublicAccess"]["Type"] == "DISABLED"
    assert cluster["EncryptionInfo"]["EncryptionInTransit"] == {"ClientBroker": "TLS", "InCluster": True}
    assert "Fn::GetAtt" in cluster["EncryptionInfo"]["EncryptionAtRest"]["DataVolumeKMSKeyId"]
    assert cluster["ClientAuthentication"] == {"Sasl": {"Iam": {"Enabled": True}},
                                               "Unauthenticated": {"Enabled": False}}
    logs = cluster["LoggingInfo"]["BrokerLogs"]["CloudWatchLogs"]
    assert logs["Enabled"] is True
    (group,) = [g for k, g in _of(template, "AWS::Logs::LogGroup").items() if "BrokerLogs" in k]
    assert "KmsKeyId" in group["Properties"]
    assert cluster["EnhancedMonitoring"] == "DEFAULT"


def test_prod_spreads_three_brokers_with_enhanced_monitoring(prod):
    _, _, template = prod
    cluster = _cluster(template)
    assert cluster["NumberOfBrokerNodes"] == 3
    assert len(cluster["BrokerNodeGroupInfo"]["ClientSubnets"]) == 3
    assert cluster["EnhancedMonitoring"] == "PER_TOPIC_PER_PARTITION"
    (resource,) = _of(template, "AWS::MSK::Cluster").values()
    assert resource["DeletionPolicy"] == "RetainExceptOnCreate"
    topics = [t["Properties"] for t in _of(template, "AWS::MSK::Topic").values()]
    assert {t["ReplicationFactor"] for t in topics} == {3}


def test_topics_default_and_come_from_props(dev):
    _, pipes, template = dev
    assert pipes.topics == {"catalog": "pim.catalog.v1", "inventory": "scm.inventory.v1",
                            "order_status": "scm.order-status.v1"}
    names = {t["Properties"]["TopicName"] for t in _of(template, "AWS::MSK::Topic").values()}
    assert names == set(pipes.topics.values())
    _, custom, template = _build(topics={"catalog": "pim.products.v2"})
    assert custom.topics["catalog"] == "pim.products.v2"
    mappings = [m["Properties"] for m in _of(template, "AWS::Lambda::EventSourceMapping").values()]
    assert sorted(t for m in mappings for t in m["Topics"]) == sorted(
        ["pim.products.v2", "scm.inventory.v1", "scm.order-status.v1"])


def test_each_consumer_has_a_kafka_source_with_retries_and_a_failure_destination(dev):
    _, pipes, template = dev
    mappings = [m["Properties"] for m in _of(template, "AWS::Lambda::EventSourceMapping").values()]
    assert len(mappings) == 3
    queue_arn = {"Fn::GetAtt": [next(k for k in _of(template, "AWS::SQS::Queue") if "FeedFailures" in k), "Arn"]}
    for mapping in mappings:
        assert mapping["StartingPosition"] == "TRIM_HORIZON"
        assert mapping["BatchSize"] == 100 and mapping["MaximumBatchingWindowInSeconds"] == 1
        # Dev: on-demand pollers (no Event Poller Units billed), which take no retry controls.
        assert not {"ProvisionedPollerConfig", "FunctionResponseTypes", "BisectBatchOnFunctionError",
                    "MaximumRetryAttempts"} & set(mapping)
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn
        assert mapping["AmazonManagedKafkaEventSourceConfig"]["ConsumerGroupId"]
    functions = _of(template, "AWS::Lambda::Function")
    for name in pipes.consumers:
        (props,) = [
            f["Properties"]
            for k, f in functions.items()
            if k.startswith((f"Fns{name}feed".replace("_", ""), f"Fns{name}_feed"))
        ]
        env = props["Environment"]["Variables"]
        assert set(env) >= {settings.TABLE_NAME, settings.DEAD_LETTER_QUEUE_URL}
        assert env[settings.FEED_PARTIAL_BATCH] == "false"  # so the consumer fails whole batches


def test_prod_consumers_run_provisioned_pollers_with_partial_batch_retries(prod):
    _, _, template = prod
    mappings = [m["Properties"] for m in _of(template, "AWS::Lambda::EventSourceMapping").values()]
    assert len(mappings) == 3
    for mapping in mappings:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is True and mapping["MaximumRetryAttempts"] == 10
        assert mapping["ProvisionedPollerConfig"] == {"MinimumPollers": 1, "MaximumPollers": 3}
    for fn in _of(template, "AWS::Lambda::Function").values():
        variables = (fn["Properties"].get("Environment") or {}).get("Variables", {})
        if settings.DEAD_LETTER_QUEUE_URL in variables and "feed" in json.dumps(fn["Properties"].get("Handler")):
            assert variables[settings.FEED_PARTIAL_BATCH] == "true"


def test_consumer_roles_read_only_their_topic_and_group(dev):
    _, _pipes, template = dev
    roles = {k: r for k, r in _of(template, "AWS::IAM::Role").items() if "feedRole" in k}
    assert len(roles) == 3
    for role in roles.values():
        assert "ManagedPolicyArns" not in role["Properties"], "AWSLambdaMSKExecutionRole grants kafka:* on *"
    policies = json.dumps(_of(template, "AWS::IAM::Policy")) + json.dumps(_of(template, "AWS::IAM::ManagedPolicy"))
    assert "kafka-cluster:WriteData" not in policies
    assert '"kafka:*"' not in policies and '"kafka-cluster:*"' not in policies
    assert policies.count("kafka-cluster:ReadData") == 3
    assert ":topic/" in policies and ":group/" in policies


def test_alarms_on_failures_and_on_each_consumers_offset_lag(dev):
    _, pipes, template = dev
    alarms = [a["Properties"] for a in _of(template, "AWS::CloudWatch::Alarm").values()]
    lag = [a for a in alarms if a.get("MetricName") == "OffsetLag"]
    assert len(lag) == 3 and {a["Threshold"] for a in lag} == {10_000}
    queue = [a for a in alarms if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"]
    assert len(queue) == 1 and queue[0]["Threshold"] == 0
    assert set(pipes.alarms) == {"failures", "catalog_lag", "inventory_lag", "order_status_lag"}


def test_serverless_form_uses_iam_in_private_subnets_and_creates_no_broker_logs():
    _, pipes, template = _build("dev", form="serverless")
    assert not _of(template, "AWS::MSK::Cluster") and not _of(template, "AWS::MSK::Topic")
    (cluster,) = _of(template, "AWS::MSK::ServerlessCluster").values()
    props = cluster["Properties"]
    assert props["ClientAuthentication"] == {"Sasl": {"Iam": {"Enabled": True}}}
    assert len(props["VpcConfigs"][0]["SubnetIds"]) == 2
    assert pipes.log_group is None
    assert len(_of(template, "AWS::Lambda::EventSourceMapping")) == 3


def test_existing_cluster_creates_no_cluster_and_consumes_from_it():
    _, pipes, template = _build(existing_cluster_arn=THEIRS)
    assert not _of(template, "AWS::MSK::Cluster") and not _of(template, "AWS::MSK::ServerlessCluster")
    mappings = [m["Properties"] for m in _of(template, "AWS::Lambda::EventSourceMapping").values()]
    assert {m["EventSourceArn"] for m in mappings} == {THEIRS}
    assert pipes.cluster is None and pipes.cluster_arn == THEIRS


def test_s3_failure_destination_when_a_bucket_is_given():
    _, _, template = _build(bucket=True)
    destinations = {json.dumps(m["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
                    for m in _of(template, "AWS::Lambda::EventSourceMapping").values()}
    assert len(destinations) == 1 and "feed-failures-archive" in destinations.pop()


@pytest.mark.parametrize(
    "props, message",
    [
        (
            {"existing_cluster_arn": THEIRS, "cluster_props": {"kafka_version": "3.8.x"}},
            "existing_cluster and cluster_props",
        ),
        ({"form": "serverless", "existing_cluster_arn": THEIRS}, "existing_cluster_arn and form='serverless'"),
        ({"form": "serverless", "cluster_props": {"kafka_version": "3.8.x"}}, "cluster_props without"),
        (
            {"cluster_props": {"encryption_info": {}, "client_authentication": {}}},
            "client_authentication, encryption_info",
        ),
        ({"form": "kraft"}, "form must be one of"),
        ({"topics": {"prices": "pim.prices.v1"}}, "unknown feeds prices"),
        ({"topics": {"catalog": "bad topic!"}}, "topic names must be"),
        ({"max_offset_lag": 0}, "max_offset_lag"),
    ],
)
def test_bad_props_raise_value_error_naming_them(props, message):
    with pytest.raises(ValueError, match=message):
        _build(**props)


def test_cluster_props_override_defaults():
    _, _, template = _build(cluster_props={"kafka_version": "3.8.x"})
    assert _cluster(template)["KafkaVersion"] == "3.8.x"


def test_toggle_off_creates_no_integration_stack(tmp_path):
    from headless_commerce.app_builder import build

    reference = build({"integration": "false", "search": "false"}, outdir=str(tmp_path), compliance=False)
    assert "Integration" not in reference.stacks
    assert not [c for s in reference.stacks.values() for c in s.node.find_all()
                if type(c).__name__ == "IntegrationPipelines"]
