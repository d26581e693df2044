"""What an auditor reads in the templates: per-function table actions, no unused KMS or scan
rights, service roles bound to this account, queues open to one rule each, HTTPS-only egress,
pipes logged and alarmed, the bus dead-lettered, the Powertools layer pinned, EFS locked down."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_iam as iam

from headless_commerce.constructs import python_functions
from headless_commerce.constructs.python_functions import POWERTOOLS_PARAMETER, POWERTOOLS_VERSION, PythonFunctions
from headless_commerce.runtime import routes
from headless_commerce.runtime.events.subscriptions import MARKETING_AUDIENCE, OMS_CONSUMER, ORDER_STATUS
from headless_commerce.runtime.table_permissions import CUSTOMER_KEY_PREFIX, actions_for

from .helpers import DEPLOYED_FUNCTIONS, new_stack, template

HANDLERS = {spec.handler: spec.name for spec in (*DEPLOYED_FUNCTIONS.values(), routes.POST_CONFIRMATION,
                                                 routes.ORDER_SWEEPER)}
HANDLERS |= {c.handler: c.name for c in (OMS_CONSUMER, ORDER_STATUS, MARKETING_AUDIENCE)}
HANDLERS |= {"headless_commerce.runtime.search.indexer.handler": "search_indexer"}


def _resources(app, stack: str, type_: str) -> dict:
    return {k: v for k, v in app.template(stack)["Resources"].items() if v["Type"] == type_}


def _all(app, type_: str) -> dict:
    return {**_resources(app, "Foundation", type_), **_resources(app, "Commerce", type_)}


def _statements(policy: dict) -> list[dict]:
    return policy["Properties"]["PolicyDocument"]["Statement"]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _role_statements(app, stack: str, role_id: str) -> list[dict]:
    found = []
    for policy in (*_resources(app, stack, "AWS::IAM::ManagedPolicy").values(),
                   *_resources(app, stack, "AWS::IAM::Policy").values()):
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            found += _statements(policy)
    return found


def _table_id(app) -> str:
    (table_id,) = [k for k, t in _resources(app, "Commerce", "AWS::DynamoDB::GlobalTable").items()
                   if "StreamSpecification" in t["Properties"]]
    return table_id


def test_no_policy_grants_reencrypt_or_scan(any_app):
    for policy in (*_all(any_app, "AWS::IAM::ManagedPolicy").values(), *_all(any_app, "AWS::IAM::Policy").values()):
        for statement in _statements(policy):
            actions = _as_list(statement["Action"])
            assert not any(a.startswith("kms:ReEncrypt") for a in actions), statement
            assert "dynamodb:Scan" not in actions, statement


def test_each_function_gets_exactly_its_declared_table_actions(any_app):
    table_arn = {"Fn::GetAtt": [_table_id(any_app), "Arn"]}
    functions = _resources(any_app, "Commerce", "AWS::Lambda::Function")
    checked = set()
    for fn in functions.values():
        name = HANDLERS.get(fn["Properties"].get("Handler"))
        if name is None:
            continue
        role_id = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        on_table = [s for s in _role_statements(any_app, "Commerce", role_id)
                    if table_arn in _as_list(s["Resource"])]
        granted = {a for s in on_table for a in _as_list(s["Action"])}
        assert granted == set(actions_for(name)), name
        if name == "post_confirmation":
            (statement,) = on_table
            assert statement["Condition"] == {
                "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{CUSTOMER_KEY_PREFIX}*"]}}
        checked.add(name)
    # Functions served from Fargate get the same grants on their task role (test_fargate_functions.py).
    assert checked == set(HANDLERS.values()) - set(any_app.reference.config.profile.fargate_functions)


def test_dax_role_is_read_only_and_bound_to_this_account(prod_app):
    roles = _resources(prod_app, "Commerce", "AWS::IAM::Role")
    (role_id,) = [
        k
        for k, r in roles.items()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "dax.amazonaws.com"}
    ]
    actions = {a for s in _role_statements(prod_app, "Commerce", role_id) for a in _as_list(s["Action"])}
    assert actions == {"dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                       "kms:Decrypt"}


def test_service_roles_are_bound_to_this_account(prod_app):
    # Lambda documents no confused-deputy keys for execution roles, and API Gateway's account
    # logging role is CDK's own: every other service role carries both conditions.
    exempt = {"lambda.amazonaws.com", "apigateway.amazonaws.com"}
    services = set()
    for role in _all(prod_app, "AWS::IAM::Role").values():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            service = statement["Principal"].get("Service")
            if service is None or service in exempt:
                continue
            services.add(service)
            assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}, service
            assert "aws:SourceArn" in statement["Condition"]["ArnLike"], service
    assert {"pipes.amazonaws.com", "dax.amazonaws.com", "vpc-flow-logs.amazonaws.com",
            "events.amazonaws.com"} <= services


def test_queues_admit_eventbridge_only_for_their_rule_or_bus(any_app):
    allowed = 0
    for policy in _all(any_app, "AWS::SQS::QueuePolicy").values():
        for statement in _statements(policy):
            if statement["Effect"] == "Allow" and statement["Principal"] == {"Service": "events.amazonaws.com"}:
                source = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
                assert source["Fn::GetAtt"][1] == "Arn", statement
                allowed += 1
    assert allowed >= 8


def test_function_egress_is_https_dax_and_the_cache_only(dev_app, prod_app):
    for app in (dev_app, prod_app):
        (group,) = [g for g in _resources(app, "Commerce", "AWS::EC2::SecurityGroup").values()
                    if g["Properties"]["GroupDescription"].startswith("Commerce functions")]
        assert [(r["FromPort"], r["ToPort"], r["IpProtocol"]) for r in group["Properties"]["SecurityGroupEgress"]] \
            == [(443, 443, "tcp")]
    # Beyond HTTPS, only to named security groups: DAX (prod) and the response cache's Valkey.
    # Prod: also the internal NLB to its Fargate tasks (8080).
    for app, ports in ((prod_app, {9111, 6380, 8080}), (dev_app, {6379})):
        egress = [e["Properties"] for e in _resources(app, "Commerce", "AWS::EC2::SecurityGroupEgress").values()]
        assert {e["FromPort"] for e in egress} == ports
        assert all("DestinationSecurityGroupId" in e for e in egress)


def test_pipes_log_errors_to_encrypted_groups_and_alarm(any_app):
    groups = _all(any_app, "AWS::Logs::LogGroup")
    alarms = _all(any_app, "AWS::CloudWatch::Alarm")
    pipes = _all(any_app, "AWS::Pipes::Pipe")
    assert len(pipes) == 2
    for pipe_id, pipe in pipes.items():
        config = pipe["Properties"]["LogConfiguration"]
        assert config["Level"] == "ERROR" and "IncludeExecutionData" not in config
        group_id = config["CloudwatchLogsLogDestination"]["LogGroupArn"]["Fn::GetAtt"][0]
        assert "KmsKeyId" in groups[group_id]["Properties"]
        watching = [a for a in alarms.values()
                    if json.dumps({"Ref": pipe_id}) in json.dumps(a["Properties"].get("Metrics", []))]
        assert watching, pipe_id


def test_bus_dead_letters_undeliverable_events_with_an_alarm(any_app):
    (bus,) = _resources(any_app, "Foundation", "AWS::Events::EventBus").values()
    dlq_id = bus["Properties"]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    alarms = _resources(any_app, "Foundation", "AWS::CloudWatch::Alarm").values()
    assert any(a["Properties"].get("Dimensions", [{}])[0].get("Value") == {"Fn::GetAtt": [dlq_id, "QueueName"]}
               for a in alarms)


def test_powertools_layer_is_the_tested_version(any_app):
    import aws_lambda_powertools.shared.version as installed

    assert POWERTOOLS_VERSION == installed.VERSION
    parameters = any_app.template("Commerce")["Parameters"]
    layer_parameters = [p for p in parameters.values() if "powertools" in str(p.get("Default", ""))]
    assert [p["Default"] for p in layer_parameters] == [
        f"/aws/service/powertools/python/arm64/python3.14/{POWERTOOLS_VERSION}"]
    assert not POWERTOOLS_PARAMETER.endswith("/latest")


def test_powertools_layer_needs_an_override_outside_published_regions():
    app = App()
    stack = Stack(app, "Far", env=Environment(account="111111111111", region="xx-nowhere-1"))
    prof = new_stack()[1]
    with pytest.raises(ValueError, match="powertools_layer_arn"):
        PythonFunctions(stack, "Fns", profile=prof, vpc=None)
    arn = "arn:aws:lambda:xx-nowhere-1:111111111111:layer:Powertools:7"
    fns = PythonFunctions(stack, "Fns2", profile=prof, vpc=None, powertools_layer_arn=arn)
    assert fns.powertools_layer.layer_version_arn == arn
    assert "us-east-1" in python_functions.POWERTOOLS_REGIONS


def test_reference_app_takes_the_powertools_override(tmp_path):
    from headless_commerce.app_builder import build

    arn = "arn:aws:lambda:us-east-1:111111111111:layer:MyPowertools:3"
    reference = build({"powertools_layer_arn": arn}, outdir=str(tmp_path), compliance=False)
    t = template(reference.stacks["Commerce"]).to_json()
    assert arn in json.dumps(t) and POWERTOOLS_PARAMETER not in json.dumps(t)


def test_efs_policy_denies_plain_nfs_and_root_and_grants_nothing(prod_app):
    (fs,) = _resources(prod_app, "Foundation", "AWS::EFS::FileSystem").values()
    statements = fs["Properties"]["FileSystemPolicy"]["Statement"]
    assert all(s["Effect"] == "Deny" for s in statements)
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements if "Condition" in s)
    assert any(s["Action"] == "elasticfilesystem:ClientRootAccess" for s in statements)
    (group,) = [g for g in _resources(prod_app, "Foundation", "AWS::EC2::SecurityGroup").values()
                if g["Properties"]["GroupDescription"].startswith("EFS mount targets")]
    assert group["Properties"]["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"  # no egress


def test_read_only_mount_grants_no_write():
    from headless_commerce.constructs.network import Network
    from headless_commerce.constructs.shared_files import SharedFiles

    stack, prof = new_stack()
    files = SharedFiles(stack, "Files", profile=prof, vpc=Network(stack, "Net", profile=prof).vpc)
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    writer = iam.Role(stack, "Writer", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    files.grant_mount(reader, files.web_access_point)
    files.grant_mount(writer, files.app_access_point, write=True)
    policies = template(stack).find_resources("AWS::IAM::Policy")

    def actions(role: str) -> set:
        return {a for p in policies.values() if any(r["Ref"].startswith(role) for r in p["Properties"]["Roles"])
                for s in _statements(p) for a in _as_list(s["Action"])}

    assert actions("Reader") == {"elasticfilesystem:ClientMount"}
    assert actions("Writer") == {"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"}


def test_prod_keeps_only_interface_endpoints_something_calls(prod_app):
    endpoints = [
        e["Properties"]["ServiceName"]
        for e in _resources(prod_app, "Foundation", "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    ]
    assert sorted(s.rsplit(".", 1)[-1] for s in endpoints) == ["events", "secretsmanager", "sqs"]


def test_waf_metric_names_carry_the_stage(prod_app, dev_app):
    for app, stage in ((prod_app, "prod"), (dev_app, None)):
        (acl,) = _resources(app, "Commerce", "AWS::WAFv2::WebACL").values()
        stack_name = app.reference.stacks["Commerce"].stack_name
        names = [acl["Properties"]["VisibilityConfig"]["MetricName"],
                 *(r["VisibilityConfig"]["MetricName"] for r in acl["Properties"]["Rules"])]
        assert all(n.startswith(f"{stack_name}-") for n in names), names
        if stage:
            assert all(f"-{stage}-" in n for n in names)
