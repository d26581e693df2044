"""Integration: the MSK feeds and their consumers. Depends on Foundation and Commerce."""

from __future__ import annotations

from aws_cdk import CfnOutput
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..constructs.integration_pipelines import IntegrationPipelines
from ..constructs.monitoring import StackMonitoring
from ..constructs.python_functions import PythonFunctions
from ._base import CommerceStackBase
from .commerce_stack import CommerceStack
from .foundation_stack import FoundationStack


class IntegrationStack(CommerceStackBase):
    def __init__(self, scope: Construct, id: str, *, foundation: FoundationStack, commerce: CommerceStack,
                 powertools_layer_arn: str | None = None, form: str = "provisioned",
                 existing_cluster_arn: str | None = None, topics: dict[str, str] | None = None,
                 **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.add_stack_dependency(commerce, reason="The feed consumers write Commerce's table")
        topic = sns.Topic.from_topic_arn(self, "AlarmTopic", foundation.alarm_topic.topic.topic_arn)
        self.monitoring = StackMonitoring(self, "Monitoring", profile=self.profile, alarm_topic=topic)
        # Imported by ARN, as in Commerce: grants land in this stack's role policies.
        key = kms.Key.from_key_arn(self, "SharedKey", foundation.encryption.key.key_arn)
        table = commerce.app_tier.table
        functions = PythonFunctions(self, "Functions", profile=self.profile, vpc=foundation.network.vpc,
                                    encryption_key=key, powertools_layer_arn=powertools_layer_arn)
        self.pipelines = IntegrationPipelines(
            self, "Pipelines", profile=self.profile, table=table, functions=functions,
            vpc=foundation.network.vpc, encryption_key=key, form=form,
            existing_cluster_arn=existing_cluster_arn, topics=topics)
        self.monitoring.monitor_function_factory(functions)
        # Consumer lag and failed records alarm in IntegrationPipelines (Lambda's OffsetLag per consumer).
        self.monitoring.show_alarms(dict(sorted(self.pipelines.alarms.items())))
        CfnOutput(self, "ClusterArn", value=self.pipelines.cluster_arn,
                  description="headless-commerce feed publish --cluster-arn ... (from a host in the VPC)")
        for feed, topic in self.pipelines.topics.items():
            CfnOutput(self, f"{feed.title().replace('_', '')}Topic", value=topic)
        CfnOutput(self, "FeedFailureQueueUrl", value=self.pipelines.failure_queue.queue_url,
                  description="Rejected feed records (attribute `reason`) and batches that kept failing")
