import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Match

from headless_commerce.constructs.identity import Identity

from .helpers import new_stack, template


def test_new_pool_has_strong_defaults():
    stack, prof = new_stack("dev")
    Identity(stack, "Identity", profile=prof)
    t = template(stack)
    t.resource_count_is("AWS::Cognito::UserPool", 1)
    t.has_resource_properties("AWS::Cognito::UserPool", {
        "UsernameAttributes": ["email"],
        "AutoVerifiedAttributes": ["email"],
        "MfaConfiguration": "OPTIONAL",
        "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
        "Policies": {"PasswordPolicy": Match.object_like({
            "MinimumLength": 12, "RequireLowercase": True, "RequireUppercase": True,
            "RequireNumbers": True, "RequireSymbols": True})},
        "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
    })
    t.resource_count_is("AWS::Cognito::UserPoolClient", 2)
    for client in t.find_resources("AWS::Cognito::UserPoolClient").values():
        props = client["Properties"]
        assert props["GenerateSecret"] is False
        assert sorted(props["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
        assert props["PreventUserExistenceErrors"] == "ENABLED"
    groups = {g["Properties"]["GroupName"] for g in t.find_resources("AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"customers", "admins"}
    t.has_resource("AWS::Cognito::UserPool", {"DeletionPolicy": "Delete"})


def test_prod_requires_totp_and_enforces_threat_protection():
    stack, prof = new_stack("prod")
    Identity(stack, "Identity", profile=prof)
    t = template(stack)
    t.has_resource_properties("AWS::Cognito::UserPool", {
        "MfaConfiguration": "ON",
        "DeletionProtection": "ACTIVE",
        "UserPoolTier": "PLUS",
        "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"},
    })
    t.has_resource("AWS::Cognito::UserPool", {"DeletionPolicy": "RetainExceptOnCreate"})


def test_authorizer_helper_targets_the_pool():
    stack, prof = new_stack()
    identity = Identity(stack, "Identity", profile=prof)
    api = apigw.RestApi(stack, "Api")
    authorizer = identity.authorizer(stack, "Authorizer")
    api.root.add_method("GET", authorization_type=apigw.AuthorizationType.COGNITO, authorizer=authorizer)
    template(stack).has_resource_properties("AWS::ApiGateway::Authorizer", {
        "Type": "COGNITO_USER_POOLS", "IdentitySource": "method.request.header.Authorization",
    })


def test_existing_pool_gets_clients_but_no_pool_or_groups():
    stack, prof = new_stack()
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "eu-west-1_abc")
    identity = Identity(stack, "Identity", profile=prof, existing_user_pool=pool)
    t = template(stack)
    t.resource_count_is("AWS::Cognito::UserPool", 0)
    t.resource_count_is("AWS::Cognito::UserPoolGroup", 0)
    t.resource_count_is("AWS::Cognito::UserPoolClient", 2)
    t.has_resource_properties("AWS::Cognito::UserPoolClient", {"UserPoolId": "eu-west-1_abc"})
    assert identity.user_pool is pool


def test_existing_and_props_conflict():
    stack, prof = new_stack()
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "eu-west-1_abc")
    with pytest.raises(ValueError, match="existing_user_pool and user_pool_props"):
        Identity(stack, "Identity", profile=prof, existing_user_pool=pool, user_pool_props={"mfa": cognito.Mfa.OFF})


def test_client_props_override_defaults():
    stack, prof = new_stack()
    Identity(stack, "Identity", profile=prof, web_client_props={"generate_secret": True})
    secrets = [
        c["Properties"]["GenerateSecret"]
        for c in template(stack).find_resources("AWS::Cognito::UserPoolClient").values()
    ]
    assert sorted(secrets) == [False, True]
