"""AppTier's compute choice: a function on Fargate behind an internal NLB and a VPC link, with
exactly the permissions its Lambda would have had."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Template

from headless_commerce.constructs.app_tier import AppTier
from headless_commerce.constructs.encryption import EncryptionKey
from headless_commerce.constructs.fargate_functions import Compute
from headless_commerce.constructs.network import Network
from headless_commerce.runtime import routes, settings

from .helpers import POWERTOOLS_LAYER, new_stack, resources_of

CHECKOUT = routes.FUNCTIONS["checkout"].handler
WEBHOOK = routes.FUNCTIONS["payments_webhook"].handler
# What a grant may touch: the table, its key, the payment secret, DAX. Lambda-only statements
# (logs, X-Ray, ENIs) and ECS-only ones are not part of the parity.
GRANTED_SERVICES = ("dynamodb:", "dax:", "secretsmanager:", "kms:")


def _handlers(tmpl: dict) -> set[str]:
    return {f["Properties"].get("Handler") for f in resources_of(tmpl, "AWS::Lambda::Function").values()}


def test_prod_serves_checkout_and_the_webhook_from_fargate_through_a_vpc_link(prod_app):
    commerce = prod_app.template("Commerce")
    assert CHECKOUT not in _handlers(commerce) and WEBHOOK not in _handlers(commerce)
    assert routes.FUNCTIONS["catalog"].handler in _handlers(commerce)
    (link,) = resources_of(commerce, "AWS::ApiGateway::VpcLink").values()
    (nlb,) = resources_of(commerce, "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    assert nlb["Properties"]["Scheme"] == "internal" and nlb["Properties"]["Type"] == "network"
    services = {s["Properties"]["TaskDefinition"]["Ref"]: s["Properties"]
                for s in resources_of(commerce, "AWS::ECS::Service").values()}
    assert len(services) == 2
    for service in services.values():
        config = service["DeploymentConfiguration"]
        assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
        assert config["MinimumHealthyPercent"] == 100
        assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
        assert service["DesiredCount"] >= 2
    tasks = resources_of(commerce, "AWS::ECS::TaskDefinition")
    served = set()
    for task in tasks.values():
        (container,) = task["Properties"]["ContainerDefinitions"]
        env = {e["Name"]: e["Value"] for e in container["Environment"]}
        served.add(env[settings.SERVED_FUNCTION])
        assert container["ReadonlyRootFilesystem"] is True and "HealthCheck" in container
        assert task["Properties"]["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
        assert {settings.TABLE_NAME, settings.USER_POOL_ID, settings.PAYMENT_SECRET_ARN} <= set(env)
    assert served == {"checkout", "payments_webhook"}
    methods = [m["Properties"] for m in resources_of(commerce, "AWS::ApiGateway::Method").values()
               if m["Properties"]["HttpMethod"] == "POST"]
    proxied = [m for m in methods if m["Integration"]["Type"] == "HTTP_PROXY"]
    assert len(proxied) == 2
    for method in proxied:
        assert method["Integration"]["ConnectionType"] == "VPC_LINK"
        assert method["Integration"]["ConnectionId"] == {"Ref": next(iter(resources_of(commerce,
                                                                                  "AWS::ApiGateway::VpcLink")))}
    assert link["Properties"]["TargetArns"]
    # Replaced tasks finish their requests: deregistration outlasts the slowest one.
    for group in resources_of(commerce, "AWS::ElasticLoadBalancingV2::TargetGroup").values():
        attributes = {a["Key"]: a["Value"] for a in group["Properties"]["TargetGroupAttributes"]}
        assert int(attributes["deregistration_delay.timeout_seconds"]) > routes.FUNCTIONS["checkout"].timeout_s - 14


def test_dev_keeps_every_function_on_lambda(dev_app):
    commerce = dev_app.template("Commerce")
    assert {CHECKOUT, WEBHOOK} <= _handlers(commerce)
    assert not resources_of(commerce, "AWS::ECS::Service") and not resources_of(commerce, "AWS::ApiGateway::VpcLink")


def _app_tier(compute: dict) -> dict:
    stack, profile = new_stack("prod")
    key = EncryptionKey(stack, "Key", profile=profile).key
    network = Network(stack, "Net", profile=profile, encryption_key=key)
    pool = cognito.UserPool(stack, "Pool")
    AppTier(stack, "App", profile=profile, user_pool=pool, vpc=network.vpc, encryption_key=key,
            powertools_layer_arn=POWERTOOLS_LAYER, compute=compute, dax_enabled=True)
    return Template.from_stack(stack).to_json()


def _granted(tmpl: dict, role_logical_id: str) -> list[str]:
    statements = []
    policies = {**resources_of(tmpl, "AWS::IAM::Policy"), **resources_of(tmpl, "AWS::IAM::ManagedPolicy")}
    for policy in policies.values():
        if {"Ref": role_logical_id} not in policy["Properties"].get("Roles", []):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            kept = sorted(a for a in actions if a.startswith(GRANTED_SERVICES))
            if kept:
                statements.append(json.dumps({**statement, "Action": kept}, sort_keys=True))
    return sorted(statements)


@pytest.mark.parametrize("function", ["checkout", "catalog"])
def test_a_function_on_fargate_gets_exactly_the_grants_of_its_lambda(function):
    on_lambda = _app_tier({})
    on_fargate = _app_tier({function: Compute.FARGATE})
    handler = routes.FUNCTIONS[function].handler
    (lambda_role,) = [f["Properties"]["Role"]["Fn::GetAtt"][0]
                      for f in resources_of(on_lambda, "AWS::Lambda::Function").values()
                      if f["Properties"].get("Handler") == handler]
    (task,) = [t["Properties"] for t in resources_of(on_fargate, "AWS::ECS::TaskDefinition").values()]
    task_role = task["TaskRoleArn"]["Fn::GetAtt"][0]
    assert handler not in _handlers(on_fargate)
    lambda_grants, task_grants = _granted(on_lambda, lambda_role), _granted(on_fargate, task_role)
    assert lambda_grants and task_grants == lambda_grants


def test_compute_names_must_be_functions():
    with pytest.raises(ValueError, match="compute names unknown functions nope"):
        _app_tier({"nope": Compute.FARGATE})
