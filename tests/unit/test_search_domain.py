"""SearchDomain templates per profile and form (domain, serverless, existing): encryption,
logs, access policy, VPC placement, the indexer's stream source; and the props rules."""

import json

import pytest
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk.assertions import Template

from headless_commerce.constructs.commerce_table import CommerceTable
from headless_commerce.constructs.network import Network
from headless_commerce.constructs.python_functions import PythonFunctions
from headless_commerce.constructs.search_domain import SearchDomain
from headless_commerce.runtime import settings

from .helpers import POWERTOOLS_LAYER, commerce_base, resources_of


def _build(profile="dev", form="domain", existing=False, **props):
    base = commerce_base(profile)
    if existing:
        props["existing_domain"] = opensearch.Domain.from_domain_endpoint(
            base.stack, "Theirs", "https://search-theirs-abc.eu-west-1.es.amazonaws.com")
    search = SearchDomain(base.stack, "Search", profile=base.profile, table=base.table, functions=base.functions,
                          vpc=base.network.vpc, encryption_key=base.key, form=form, **props)
    query = base.functions.add("search", handler="headless_commerce.runtime.search.handler.handler",
                               memory_mb=256, timeout_s=10, environment={})
    search.grant_query(query)
    return base.stack, search, Template.from_stack(base.stack).to_json()


_of = resources_of


@pytest.fixture(scope="module")
def dev():
    return _build("dev")


@pytest.fixture(scope="module")
def prod():
    return _build("prod")


@pytest.fixture(scope="module")
def serverless():
    return _build("prod", "serverless")


def _domain(template):
    (domain,) = _of(template, "AWS::OpenSearchService::Domain").values()
    return domain["Properties"]


def test_dev_is_one_small_node_in_one_private_subnet(dev):
    _, _, template = dev
    props = _domain(template)
    assert props["ClusterConfig"]["InstanceCount"] == 1
    assert props["ClusterConfig"]["InstanceType"] == "t3.small.search"
    assert props["ClusterConfig"]["DedicatedMasterEnabled"] is False
    assert props["ClusterConfig"]["ZoneAwarenessEnabled"] is False
    subnets = props["VPCOptions"]["SubnetIds"]
    assert len(subnets) == 1 and "PrivateSubnet" in subnets[0]["Ref"]


def test_prod_spans_three_azs_with_dedicated_masters(prod):
    _, search, template = prod
    props = _domain(template)
    cluster = props["ClusterConfig"]
    assert cluster["InstanceCount"] == 3 and cluster["ZoneAwarenessEnabled"] is True
    assert cluster["ZoneAwarenessConfig"] == {"AvailabilityZoneCount": 3}
    assert cluster["DedicatedMasterEnabled"] is True and cluster["DedicatedMasterCount"] == 3
    assert len(props["VPCOptions"]["SubnetIds"]) == 3
    assert all("PrivateSubnet" in s["Ref"] for s in props["VPCOptions"]["SubnetIds"])
    assert search.query_environment[settings.SEARCH_REPLICAS] == "2"
    (domain,) = _of(template, "AWS::OpenSearchService::Domain").values()
    assert domain["DeletionPolicy"] == "RetainExceptOnCreate"  # retained, but not on a failed first create


@pytest.mark.parametrize("build", ["dev", "prod"])
def test_domain_encryption_tls_and_fine_grained_access(build, request):
    _, _, template = request.getfixturevalue(build)
    props = _domain(template)
    assert props["EncryptionAtRestOptions"]["Enabled"] is True
    assert props["EncryptionAtRestOptions"]["KmsKeyId"] == {"Fn::GetAtt": ["Key9BCD29C7", "Arn"]}
    assert props["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert props["DomainEndpointOptions"]["EnforceHTTPS"] is True
    assert props["DomainEndpointOptions"]["TLSSecurityPolicy"].startswith("Policy-Min-TLS-1-2")
    security = props["AdvancedSecurityOptions"]
    assert security["Enabled"] is True and security["InternalUserDatabaseEnabled"] is False
    indexer_role = next(k for k in _of(template, "AWS::IAM::Role") if k.startswith("FnssearchindexerRole"))
    assert security["MasterUserOptions"]["MasterUserARN"] == {"Fn::GetAtt": [indexer_role, "Arn"]}


def test_access_policy_names_roles_and_never_a_wildcard_principal(dev):
    _, _, template = dev
    (statement,) = _domain(template)["AccessPolicies"]["Statement"]
    principals = statement["Principal"]["AWS"]
    roles = {p["Fn::GetAtt"][0] for p in principals}
    assert roles == {
        k for k in _of(template, "AWS::IAM::Role") if k.startswith(("FnssearchindexerRole", "FnssearchRole"))
    }
    assert "*" not in json.dumps(statement["Principal"])


def test_slow_error_and_audit_logs_go_to_cmk_log_groups(dev):
    _, _search, template = dev
    publishing = _domain(template)["LogPublishingOptions"]
    assert set(publishing) == {"SEARCH_SLOW_LOGS", "INDEX_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS"}
    groups = _of(template, "AWS::Logs::LogGroup")
    for option in publishing.values():
        assert option["Enabled"] is True
        group = groups[option["CloudWatchLogsLogGroupArn"]["Fn::GetAtt"][0]]["Properties"]
        assert "KmsKeyId" in group and group["RetentionInDays"] == 30
    (policy,) = _of(template, "AWS::Logs::ResourcePolicy").values()
    document = json.dumps(policy["Properties"]["PolicyDocument"])
    assert "es.amazonaws.com" in document and "aws:SourceAccount" in document


def test_domain_security_group_admits_https_only_from_the_functions(dev):
    _, _, template = dev
    (group,) = [g["Properties"] for k, g in _of(template, "AWS::EC2::SecurityGroup").items()
                if k.startswith("SearchSecurityGroup")]
    ingress = group["SecurityGroupIngress"]
    assert ingress and all(i["FromPort"] == 443 and i["ToPort"] == 443 and "SourceSecurityGroupId" in i
                           for i in ingress)
    assert group["SecurityGroupEgress"][0]["Description"] == "Disallow all traffic"


def test_indexer_consumes_the_stream_filtered_with_failure_destination_and_alarm(dev):
    _, _search, template = dev
    (mapping,) = _of(template, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["EventSourceArn"]["Fn::GetAtt"][1] == "StreamArn"
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True and props["MaximumRetryAttempts"] == 10
    patterns = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert {json.dumps(p, sort_keys=True) for p in patterns} == {
        json.dumps({"dynamodb": {image: {"entity": {"S": ["PRODUCT", "INVENTORY"]}}}}, sort_keys=True)
        for image in ("NewImage", "OldImage")}
    destination = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert _of(template, "AWS::SQS::Queue")[destination]["Properties"]["KmsMasterKeyId"]
    alarms = [a["Properties"] for a in _of(template, "AWS::CloudWatch::Alarm").values()]
    assert any(a["Dimensions"][0]["Value"] == {"Fn::GetAtt": [destination, "QueueName"]} for a in alarms)
    indexer = next(f for f in _of(template, "AWS::Lambda::Function").values()
                   if f["Properties"]["Handler"].endswith("search.indexer.handler"))
    env = indexer["Properties"]["Environment"]["Variables"]
    assert env[settings.SEARCH_SIGNING_SERVICE] == "es" and env[settings.SEARCH_READER_ROLE_ARN]
    assert len(indexer["Properties"]["Layers"]) == 2  # Powertools + opensearch-py


def test_serverless_collection_with_encryption_network_and_data_policies(serverless):
    _, search, template = serverless
    assert _of(template, "AWS::OpenSearchService::Domain") == {}
    (collection,) = _of(template, "AWS::OpenSearchServerless::Collection").values()
    assert collection["Properties"]["Type"] == "SEARCH"
    assert collection["Properties"]["StandbyReplicas"] == "ENABLED"
    policies = {p["Properties"]["Type"]: json.dumps(p["Properties"]["Policy"])
                for p in _of(template, "AWS::OpenSearchServerless::SecurityPolicy").values()}
    assert '\\"AWSOwnedKey\\":false' in policies["encryption"] and "Key9BCD29C7" in policies["encryption"]
    assert '\\"AllowFromPublic\\":false' in policies["network"] and "SourceVPCEs" in policies["network"]
    (endpoint,) = _of(template, "AWS::OpenSearchServerless::VpcEndpoint").values()
    assert all("PrivateSubnet" in s["Ref"] for s in endpoint["Properties"]["SubnetIds"])
    (access,) = _of(template, "AWS::OpenSearchServerless::AccessPolicy").values()
    data = json.dumps(access["Properties"]["Policy"])
    assert "FnssearchindexerRole" in data and "FnssearchRole" in data and '"*"' not in data
    assert search.signing_service == "aoss" and search.domain is None
    assert set(collection["DependsOn"]) >= set(_of(template, "AWS::OpenSearchServerless::SecurityPolicy"))


def test_existing_domain_creates_no_domain_and_grants_on_it():
    _, search, template = _build("dev", existing=True)
    assert _of(template, "AWS::OpenSearchService::Domain") == {}
    assert _of(template, "AWS::OpenSearchServerless::Collection") == {}
    assert search.endpoint == search.domain.domain_endpoint
    policies = json.dumps([p["Properties"] for p in _of(template, "AWS::IAM::Policy").values()])
    assert "domain/search-theirs" in policies
    assert len(_of(template, "AWS::Lambda::EventSourceMapping")) == 1


def test_two_stages_get_different_domain_names():
    names = set()
    for stage in ("A", "B"):
        from aws_cdk import App, Environment, Stack

        stack = Stack(App(), f"Stage{stage}", env=Environment(account="111111111111", region="eu-west-1"))
        from headless_commerce.config import PROFILES

        prof = PROFILES["dev"]
        network = Network(stack, "Net", profile=prof)
        table = CommerceTable(stack, "Data", profile=prof, dax_enabled=False).table
        functions = PythonFunctions(stack, "Fns", profile=prof, vpc=network.vpc, powertools_layer_arn=POWERTOOLS_LAYER)
        SearchDomain(stack, "Search", profile=prof, table=table, functions=functions, vpc=network.vpc)
        names.add(_domain(Template.from_stack(stack).to_json())["DomainName"])
    assert len(names) == 2


@pytest.mark.parametrize("props, message", [
    ({"existing": True, "domain_props": {"ebs": None}}, "existing_domain and domain_props"),
    ({"domain_props": {"enforce_https": False, "node_to_node_encryption": False}},
     "domain_props cannot change enforce_https, node_to_node_encryption"),
    ({"form": "kubernetes"}, "form must be one of domain, serverless"),
    ({"form": "serverless", "existing": True}, "existing_domain and form='serverless'"),
    ({"collection_props": {"description": "x"}}, "collection_props without form='serverless'"),
])
def test_contradictory_props_raise_one_error_naming_them(props, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        _build("dev", **props)


def test_reference_app_has_one_search_domain_and_its_indexer(dev_app):
    template = dev_app.template("Commerce")
    assert len(_of(template, "AWS::OpenSearchService::Domain")) == 1
    functions = {
        f["Properties"].get("Handler"): f["Properties"] for f in _of(template, "AWS::Lambda::Function").values()
    }
    assert "headless_commerce.runtime.search.indexer.handler" in functions
    query = functions["headless_commerce.runtime.search.handler.handler"]
    assert query["Environment"]["Variables"][settings.SEARCH_PROVIDER] == "opensearch"
    assert "Fn::GetAtt" in json.dumps(query["Environment"]["Variables"][settings.SEARCH_ENDPOINT])
    assert len(query["Layers"]) == 3  # Powertools, opensearch-py, redis-py (the response cache)
    paths = {r["Properties"]["PathPart"] for r in _of(template, "AWS::ApiGateway::Resource").values()}
    assert {"search", "suggest"} <= paths


def test_search_toggle_off_creates_nothing_of_search():
    from headless_commerce.app_builder import build

    reference = build({"search": "false"}, compliance=False)
    template = Template.from_stack(reference.stacks["Commerce"]).to_json()
    text = json.dumps(template)
    assert "AWS::OpenSearchService" not in text and "AWS::OpenSearchServerless" not in text
    assert "search.indexer" not in text and "opensearch-py" not in text.lower()
    assert "runtime.search.handler" not in text
    paths = {r["Properties"]["PathPart"] for r in _of(template, "AWS::ApiGateway::Resource").values()}
    assert "search" not in paths and "products" in paths
    assert reference.stacks["Commerce"].search is None
