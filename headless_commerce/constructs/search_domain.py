"""SearchDomain: product search on Amazon OpenSearch, kept in sync from the table's stream.

Three forms, chosen by props:
- `form="domain"` (default): a managed domain in the VPC's private subnets. dev: one
  t3.small.search data node (≈ $27/month). prod: three data nodes across three AZs with zone
  awareness, three dedicated masters, two replicas per shard. Encrypted at rest with the
  CMK, node-to-node encrypted, HTTPS only with TLS 1.2+ (PFS suites), fine-grained access
  control whose master user is the indexer's IAM role; slow, error and audit logs go to
  CMK-encrypted log groups.
- `form="serverless"`: an OpenSearch Serverless search collection with an encryption policy
  (the CMK), a network policy (reachable only through a VPC endpoint in the private subnets)
  and a data access policy naming the indexer and query roles. Its floor is ≈ $175-350/month
  (2-4 OCUs), far above one small node: choose it for spiky load, not to save money.
- `existing_domain`: index into a domain someone else runs (they open port 443 to
  `security_group` and map the roles in its fine-grained access control).

Either way it adds the indexer: a function with its own stream event source (filtered to
product and inventory items), bulk writes with external versions, batch item failures, an
SQS on-failure destination and an alarm on it. `grant_query(fn)` and `query_environment`
are what the search API function needs.
"""

from __future__ import annotations

import json
import re

from aws_cdk import Duration, Names, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchserverless as aoss
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from ..config import Profile
from ..runtime import settings, table_permissions
from ..runtime.search.stream_filter import FUNCTION_NAME, STREAM_FILTERS
from . import _defaults
from ._checkov import skip_checkov
from ._iam import grant_table_actions
from ._nag import acknowledge
from ._props import check_choice, check_exclusive, merge, refuse
from ._queues import QueueFailureDestination, dead_letter_alarm, dead_letter_queue
from ._tables import acknowledge_index_grant
from .python_functions import PythonFunctions

FORMS = ("domain", "serverless")
INDEXER_HANDLER = "headless_commerce.runtime.search.indexer.handler"
ENGINE_VERSION = opensearch.EngineVersion.OPENSEARCH_2_19
# opensearch-py and what it needs beyond the runtime's boto3, pinned (see PipLayer).
OPENSEARCH_REQUIREMENTS = ["opensearch-py==3.2.0", "requests==2.34.2", "urllib3==2.8.0",
                           "charset-normalizer==3.5.2", "idna==3.20", "certifi==2026.10.19.post1",
                           "python-dateutil==2.9.0.post0", "six==1.17.0", "Events==0.5"]
_HTTP_READ = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"]
_HTTP_WRITE = [*_HTTP_READ, "es:ESHttpPut", "es:ESHttpDelete"]


def replicas(profile: Profile) -> int:
    """Replicas per shard: none on one node; two in prod so every AZ holds a full copy."""
    return 2 if profile.is_production else 0


class _DataAccessPolicy:
    """The serverless data access policy; re-rendered on each grant so every role is named."""

    def __init__(self, collection: str) -> None:
        self.collection = collection
        self.writers: list[str] = []
        self.readers: list[str] = []

    def render(self) -> str:
        index = [f"index/{self.collection}/*"]
        rules = [{"Rules": [
            {"ResourceType": "index", "Resource": index,
             "Permission": ["aoss:CreateIndex", "aoss:DescribeIndex", "aoss:UpdateIndex",
                            "aoss:ReadDocument", "aoss:WriteDocument", "aoss:DeleteIndex"]},
            {"ResourceType": "collection", "Resource": [f"collection/{self.collection}"],
             "Permission": ["aoss:DescribeCollectionItems", "aoss:CreateCollectionItems",
                            "aoss:UpdateCollectionItems"]},
        ], "Principal": self.writers, "Description": "search indexer"}]
        if self.readers:
            rules.append({"Rules": [
                {"ResourceType": "index", "Resource": index,
                 "Permission": ["aoss:ReadDocument", "aoss:DescribeIndex"]},
            ], "Principal": self.readers, "Description": "search API"})
        return json.dumps(rules)


class SearchDomain(Construct):
    """Product search. Parameters (keyword-only; defaults in brackets):

    - `profile`: sizes, retention, removal policy.
    - `table` (ITableV2 with a stream): the commerce table the indexer follows.
    - `functions`: the factory that builds the indexer like every other function.
    - `vpc` [None]: required for a new domain or collection; they go in its private subnets.
    - `encryption_key` [None → AWS-owned keys]: the CMK for data at rest, logs and the DLQ.
    - `form` ["domain"]: "domain" or "serverless" (see the module docstring).
    - `existing_domain` [None]: index into this domain instead of creating one.
    - `domain_props` [None]: overrides of `opensearch.DomainProps` for a new domain (not the
      security props in `_defaults.SEARCH_DOMAIN_LOCKED`).
    - `collection_props` [None]: overrides of `CfnCollection` props for the serverless form.

    Attributes: `domain` (IDomain or None), `collection` (CfnCollection or None), `endpoint`,
    `signing_service`, `security_group`, `indexer`, `dead_letter_queue`, `alarm`, `layer`,
    `log_groups`, `query_environment`.
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, table: dynamodb.ITableV2,
                 functions: PythonFunctions, vpc: ec2.IVpc | None = None,
                 encryption_key: kms.IKey | None = None, form: str = "domain",
                 existing_domain: opensearch.IDomain | None = None, domain_props: dict | None = None,
                 collection_props: dict | None = None) -> None:
        super().__init__(scope, id)
        name = type(self).__name__
        check_exclusive(name, existing_domain=existing_domain, domain_props=domain_props)
        check_choice(name, "form", form, FORMS)
        conflicts = []
        if existing_domain is not None and form == "serverless":
            conflicts.append("existing_domain and form='serverless'")
        if collection_props is not None and form != "serverless":
            conflicts.append("collection_props without form='serverless'")
        if existing_domain is None and vpc is None:
            conflicts.append("a new domain or collection needs `vpc`")
        if table.table_stream_arn is None:
            conflicts.append("`table` needs a stream (NEW_AND_OLD_IMAGES)")
        refuse(name, conflicts)

        self._profile = profile
        self._key = encryption_key
        self.domain: opensearch.IDomain | None = None
        self.collection: aoss.CfnCollection | None = None
        self.log_groups: dict[str, logs.LogGroup] = {}
        self._data_access: _DataAccessPolicy | None = None
        self._principals: list[str] = []
        self._reader_roles: list[str] = []
        self._domain_arn: str | None = None
        self._cfn_domain: opensearch.CfnDomain | None = None
        self.domain_name: str | None = None
        self.security_group = (ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                                                 description="Search: HTTPS from the commerce functions only")
                               if vpc is not None and existing_domain is None else None)
        self.layer = functions.pip_layer("OpenSearchPy", requirements=OPENSEARCH_REQUIREMENTS,
                                         description="opensearch-py for product search")
        self.dead_letter_queue = dead_letter_queue(self, "IndexerFailures", key=encryption_key)
        # The indexer's role exists before the domain: it is the fine-grained access control master.
        self.indexer = functions.add(
            FUNCTION_NAME, handler=INDEXER_HANDLER, memory_mb=512, timeout_s=300,
            environment={}, extra_layers=[self.layer])
        self.indexer.node.add_dependency(self.dead_letter_queue)

        if form == "serverless":
            self._serverless(vpc, collection_props)
            self.signing_service = "aoss"
        else:
            self.domain = existing_domain or self._domain(vpc, domain_props)
            self.endpoint = self.domain.domain_endpoint
            self.signing_service = "es"
        self.query_environment = {
            settings.SEARCH_PROVIDER: "opensearch",
            settings.SEARCH_ENDPOINT: self.endpoint,
            settings.SEARCH_SIGNING_SERVICE: self.signing_service,
            settings.SEARCH_ALIAS: settings.SEARCH_DEFAULT_ALIAS,
            settings.SEARCH_REPLICAS: str(replicas(profile)),
        }
        for key, value in {**self.query_environment, settings.TABLE_NAME: table.table_name}.items():
            self.indexer.add_environment(key, value)
        self._grant(self.indexer, write=True)
        self.connect(self.indexer)
        grant_table_actions(table, self.indexer, table_permissions.actions_for(FUNCTION_NAME))
        acknowledge_index_grant(self.indexer.role, table)
        self._stream(table)

    # ---- forms ----------------------------------------------------------------------------

    def _log_group(self, kind: str) -> logs.LogGroup:
        group = logs.LogGroup(self, f"{kind}Logs", retention=self._profile.log_retention,
                              removal_policy=self._profile.removal_policy, encryption_key=self._key)
        self.log_groups[kind] = group
        return group

    def _physical_name(self, max_length: int) -> str:
        """A lowercase name derived from the construct path: unique per stack and stage, so
        two copies of the app deploy side by side, and known at synth (no self-reference)."""
        raw = re.sub(r"[^a-z0-9]", "", Names.unique_resource_name(self, max_length=64).lower())
        name = raw[-max_length:]
        return name if name[:1].isalpha() else "s" + name[1:]

    def _domain(self, vpc: ec2.IVpc, domain_props: dict | None) -> opensearch.Domain:
        profile = self._profile
        domain_name = self.domain_name = (domain_props or {}).get("domain_name") or self._physical_name(28)
        self._domain_arn = Stack.of(self).format_arn(service="es", resource="domain", resource_name=domain_name)
        subnets = vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnets
        zones = 3 if profile.is_production else 1
        logging = opensearch.LoggingOptions(
            slow_search_log_enabled=True, slow_search_log_group=self._log_group("SlowSearch"),
            slow_index_log_enabled=True, slow_index_log_group=self._log_group("SlowIndex"),
            app_log_enabled=True, app_log_group=self._log_group("Error"),
            audit_log_enabled=True, audit_log_group=self._log_group("Audit"))
        props = merge({
            **_defaults.search_domain(profile),
            "version": ENGINE_VERSION,
            "removal_policy": profile.removal_policy,
            "logging": logging,
            # The service writes logs under this policy, made below without CDK's custom resource.
            "suppress_logs_resource_policy": True,
            "off_peak_window_enabled": True,
            "enable_auto_software_update": True,
            "vpc_subnets": [ec2.SubnetSelection(subnets=subnets[:zones])],
            "security_groups": [self.security_group],
        }, domain_props, locked=_defaults.SEARCH_DOMAIN_LOCKED, owner=type(self).__name__,
            props_name="domain_props")
        domain = opensearch.Domain(self, "Domain", **{
            **props,
            "domain_name": domain_name,
            "vpc": vpc,
            "encryption_at_rest": opensearch.EncryptionAtRestOptions(enabled=True, kms_key=self._key),
            "node_to_node_encryption": True,
            "enforce_https": True,
            "tls_security_policy": opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
            # IAM roles are the only users: the indexer is the master; the search API's role is
            # mapped to a read-only role by the indexer (OpenSearchProvider.ensure_reader_role).
            "fine_grained_access_control": opensearch.AdvancedSecurityOptions(
                master_user_arn=self.indexer.role.role_arn),
        })
        # The resource policy names each role that may call the domain (no "*" principal). It is
        # set on the L1 (CDK's access_policies prop deploys a custom-resource Lambda to do it) and
        # rewritten by each grant, so roles granted later by grant_query are included.
        self._cfn_domain = domain.node.default_child
        if self._key is not None:
            # The key ARN, not the id CDK derives from it: an imported key's id is a Split of a
            # cross-stack value, which CloudFormation rejects; OpenSearch accepts either.
            self._cfn_domain.add_property_override("EncryptionAtRestOptions.KmsKeyId", self._key.key_arn)
        acknowledge(domain, "AwsSolutions-OS3",
                    "A VPC-only domain: AWS does not apply IP-based policies to VPC access; its security "
                    "group admits HTTPS only from the commerce functions and its policy names their roles.")
        logs.CfnResourcePolicy(
            self, "LogDelivery", policy_name=Names.unique_resource_name(self, max_length=60) + "-os-logs",
            policy_document=Stack.of(self).to_json_string({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "es.amazonaws.com"},
                    "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
                    "Resource": [f"{g.log_group_arn}" for g in self.log_groups.values()],
                    "Condition": {"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
                }],
            }))
        if not profile.is_production:
            reason = ("The dev profile runs one t3.small.search node (≈ $27/month) for disposable data; "
                      "prod runs three dedicated masters and three data nodes across three AZs.")
            acknowledge(domain, "AwsSolutions-OS4", reason)
            acknowledge(domain, "AwsSolutions-OS7", reason)
            skip_checkov(domain.node.default_child, "CKV_AWS_318", reason)
        return domain

    def _serverless(self, vpc: ec2.IVpc, collection_props: dict | None) -> None:
        # Collection and policy names are account-unique and at most 32 lowercase characters;
        # derived from the construct path, so two stages never collide.
        raw = Names.unique_resource_name(self, max_length=32).lower()
        collection_name = re.sub(r"[^a-z0-9-]", "", raw)[-28:].lstrip("-0123456789") or "products"
        encryption = {"Rules": [{"ResourceType": "collection", "Resource": [f"collection/{collection_name}"]}]}
        encryption.update({"AWSOwnedKey": False, "KmsARN": self._key.key_arn} if self._key is not None
                          else {"AWSOwnedKey": True})
        encryption_policy = aoss.CfnSecurityPolicy(
            self, "EncryptionPolicy", name=f"{collection_name}-enc", type="encryption",
            policy=Stack.of(self).to_json_string(encryption))
        endpoint = aoss.CfnVpcEndpoint(
            self, "VpcEndpoint", name=f"{collection_name}-vpce", vpc_id=vpc.vpc_id,
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids,
            security_group_ids=[self.security_group.security_group_id])
        network_policy = aoss.CfnSecurityPolicy(
            self, "NetworkPolicy", name=f"{collection_name}-net", type="network",
            policy=Stack.of(self).to_json_string([{
                "Rules": [{"ResourceType": "collection", "Resource": [f"collection/{collection_name}"]}],
                "AllowFromPublic": False, "SourceVPCEs": [endpoint.attr_id]}]))
        self._data_access = _DataAccessPolicy(collection_name)
        self._cfn_data_access = aoss.CfnAccessPolicy(self, "DataAccessPolicy", name=f"{collection_name}-data",
                                                     type="data", policy=self._data_access.render())
        self.collection = aoss.CfnCollection(self, "Collection", **merge({
            "type": "SEARCH",
            "description": "Product search",
            # Standby replicas in a second AZ double the OCU floor; prod pays for them.
            "standby_replicas": "ENABLED" if self._profile.is_production else "DISABLED",
        }, collection_props), name=collection_name)
        self.collection.add_dependency(encryption_policy)
        self.collection.add_dependency(network_policy)
        self.collection.apply_removal_policy(self._profile.removal_policy)
        self.endpoint = self.collection.attr_collection_endpoint

    def _stream(self, table: dynamodb.ITableV2) -> None:
        self.indexer.add_event_source(sources.DynamoEventSource(
            table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=100,
            max_batching_window=Duration.seconds(1), bisect_batch_on_error=True, retry_attempts=10,
            max_record_age=Duration.days(1), report_batch_item_failures=True,
            on_failure=QueueFailureDestination(self.dead_letter_queue),
            filters=[{"pattern": json.dumps(f)} for f in STREAM_FILTERS]))
        self.alarm = dead_letter_alarm(self, "IndexerFailureAlarm", self.dead_letter_queue,
                                       "the search indexer (stream batches that kept failing)")

    # ---- access ---------------------------------------------------------------------------

    def _grant(self, grantee: lambda_.Function, *, write: bool) -> None:
        if self.collection is not None:
            grantee.add_to_role_policy(iam.PolicyStatement(
                actions=["aoss:APIAccessAll"], resources=[self.collection.attr_arn]))
            assert self._data_access is not None
            (self._data_access.writers if write else self._data_access.readers).append(grantee.role.role_arn)
            self._cfn_data_access.policy = self._data_access.render()
            return
        assert self.domain is not None
        arn = self._domain_arn or self.domain.domain_arn
        self._principals.append(grantee.role.role_arn)
        if self._cfn_domain is not None:
            self._cfn_domain.access_policies = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": list(self._principals)},
                               "Action": "es:ESHttp*", "Resource": f"{self._domain_arn}/*"}],
            }
        grantee.add_to_role_policy(iam.PolicyStatement(
            actions=_HTTP_WRITE if write else _HTTP_READ, resources=[arn, f"{arn}/*"]))
        self._acknowledge_paths(grantee.role, arn)

    def _acknowledge_paths(self, role: iam.IRole, arn: str) -> None:
        reason = ("HTTP paths inside the one search domain (index names change with each reindex); "
                  "fine-grained access control narrows the query role to read-only on the alias.")
        acknowledge(role, f"AwsSolutions-IAM5[Resource::{self._nag_form(f'{arn}/*')}]", reason)

    def _nag_form(self, value: str) -> str:
        """How cdk-nag writes a resource in a finding id: Fn::Join flattened, Refs as <Name>."""
        resolved = Stack.of(self).resolve(value)
        if isinstance(resolved, str):
            return resolved
        parts = resolved["Fn::Join"][1]
        return "".join(p if isinstance(p, str) else f"<{p['Ref']}>" if "Ref" in p
                       else f"<{'.'.join(p['Fn::GetAtt'])}>" for p in parts)

    def connect(self, fn: lambda_.Function) -> None:
        """Open HTTPS from `fn`'s security group to the domain or the collection endpoint."""
        # Ingress only: the functions' group already allows HTTPS out.
        if self.security_group is not None:
            for group in fn.connections.security_groups:
                self.security_group.add_ingress_rule(ec2.Peer.security_group_id(group.security_group_id),
                                                     ec2.Port.tcp(443), "HTTPS to search")

    def grant_query(self, fn: lambda_.Function) -> None:
        """Let the search API function query: IAM, network, and its role in the data policy."""
        self._grant(fn, write=False)
        self.connect(fn)
        fn.add_layers(self.layer)
        for key, value in self.query_environment.items():
            fn.add_environment(key, value)
        if self.collection is None:
            # Every query function's role is mapped to the read-only role (GET /search, the chatbot).
            self._reader_roles.append(fn.role.role_arn)
            self.indexer.add_environment(settings.SEARCH_READER_ROLE_ARN, ",".join(self._reader_roles))
