"""AppTier templates: table per profile, DAX only when enabled, auth on every user route,
WAF associated, every function logged with retention."""

import json

import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Match

from headless_commerce import model
from headless_commerce.constructs.app_tier import AppTier
from headless_commerce.constructs.identity import Identity
from headless_commerce.constructs.network import Network
from headless_commerce.runtime.routes import FUNCTIONS, ORDER_SWEEPER, POST_CONFIRMATION

from .helpers import DEPLOYED_FUNCTIONS, DEPLOYED_ROUTES, new_stack, template


def _resources(app, type_):
    return {k: v for k, v in app.template("Commerce")["Resources"].items() if v["Type"] == type_}


def test_table_follows_profile(dev_app, prod_app):
    for app, pitr, protected, policy in (
        (dev_app, False, False, "Delete"),
        (prod_app, True, True, "RetainExceptOnCreate"),
    ):
        (table,) = [t for t in _resources(app, "AWS::DynamoDB::GlobalTable").values()
                    if "StreamSpecification" in t["Properties"]]
        props = table["Properties"]
        replica = props["Replicas"][0]
        assert replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is pitr
        assert replica.get("DeletionProtectionEnabled", False) is protected
        assert table["DeletionPolicy"] == policy
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert props["TimeToLiveSpecification"] == {"AttributeName": model.TTL_ATTRIBUTE, "Enabled": True}
        assert props["SSESpecification"]["SSEType"] == "KMS"
        assert "KMSMasterKeyId" in replica["SSESpecification"]
        assert {g["IndexName"] for g in props["GlobalSecondaryIndexes"]} == {g.name for g in model.GSIS}


def test_dax_only_when_enabled(dev_app, prod_app):
    assert _resources(dev_app, "AWS::DAX::Cluster") == {}
    (cluster,) = _resources(prod_app, "AWS::DAX::Cluster").values()
    assert cluster["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert cluster["Properties"]["ClusterEndpointEncryptionType"] == "TLS"
    assert cluster["Properties"]["ReplicationFactor"] == 3
    functions = _resources(prod_app, "AWS::Lambda::Function")
    with_dax = [f for f in functions.values() if "DAX_ENDPOINT" in f["Properties"]["Environment"]["Variables"]]
    assert len(with_dax) == 1 and with_dax[0]["Properties"]["Handler"] == FUNCTIONS["catalog"].handler


def test_authorizer_on_every_user_route_and_none_elsewhere(any_app):
    methods = [m["Properties"] for m in _resources(any_app, "AWS::ApiGateway::Method").values()
               if m["Properties"]["HttpMethod"] != "OPTIONS"]
    by_operation = {m["OperationName"]: m for m in methods}
    assert set(by_operation) == {r.operation_id for r in DEPLOYED_ROUTES}
    for route in DEPLOYED_ROUTES:
        method = by_operation[route.operation_id]
        if route.auth == "user":
            assert method["AuthorizationType"] == "COGNITO_USER_POOLS", route.operation_id
            assert "AuthorizerId" in method
        else:
            assert method["AuthorizationType"] == "NONE", route.operation_id


def test_request_models_and_required_headers_come_from_routes(dev_app):
    methods = {m["Properties"]["OperationName"]: m["Properties"]
               for m in _resources(dev_app, "AWS::ApiGateway::Method").values()
               if m["Properties"]["HttpMethod"] != "OPTIONS"}
    models = _resources(dev_app, "AWS::ApiGateway::Model")
    assert len(models) == sum(1 for r in DEPLOYED_ROUTES if r.request_schema)
    checkout = methods["checkout"]
    assert checkout["RequestParameters"]["method.request.header.Idempotency-Key"] is True
    assert "application/json" in checkout["RequestModels"] and "RequestValidatorId" in checkout
    for model_ in models.values():
        assert model_["Properties"]["Schema"]["$schema"].startswith("http://json-schema.org/draft-04/")


def test_waf_associated_with_the_stage(any_app):
    (acl,) = _resources(any_app, "AWS::WAFv2::WebACL").values()
    names = {r["Name"] for r in acl["Properties"]["Rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAmazonIpReputationList", "RatePerIp"} <= names
    (association,) = _resources(any_app, "AWS::WAFv2::WebACLAssociation").values()
    assert "DeploymentStage" in json.dumps(association["Properties"]["ResourceArn"])
    assert len(_resources(any_app, "AWS::WAFv2::LoggingConfiguration")) == 1


def test_every_function_is_arm_py314_traced_with_retained_logs(any_app):
    functions = _resources(any_app, "AWS::Lambda::Function")
    ours = {k: f for k, f in functions.items() if f["Properties"].get("Handler", "").startswith("headless_commerce.")}
    handlers = [f["Properties"]["Handler"] for f in ours.values()]
    assert len(handlers) == len(set(handlers))
    on_fargate = any_app.reference.config.profile.fargate_functions
    assert {s.handler for s in DEPLOYED_FUNCTIONS.values() if s.name not in on_fargate} | {POST_CONFIRMATION.handler} \
        <= set(handlers)
    log_groups = _resources(any_app, "AWS::Logs::LogGroup")
    retention = {"dev": 30, "prod": 365}[any_app.reference.config.profile.name]
    for fn in ours.values():
        props = fn["Properties"]
        assert props["Runtime"] == "python3.14" and props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["VpcConfig"]["SubnetIds"]
        assert "KmsKeyArn" in props
        group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert log_groups[group_id]["Properties"]["RetentionInDays"] == retention
        assert "KmsKeyId" in log_groups[group_id]["Properties"]


def test_only_payment_functions_read_the_payment_secret(dev_app):
    functions = _resources(dev_app, "AWS::Lambda::Function")
    with_secret = {f["Properties"]["Handler"] for f in functions.values()
                   if "PAYMENT_SECRET_ARN" in f["Properties"].get("Environment", {}).get("Variables", {})}
    from headless_commerce.constructs.order_sweeper import SWEEPER_HANDLER
    from headless_commerce.runtime.routes import FRAUD_REVIEW

    # The fraud review function pays the held orders it releases.
    assert with_secret == {s.handler for s in FUNCTIONS.values() if s.needs_payment_secret} | {
        SWEEPER_HANDLER, FRAUD_REVIEW.handler}


def test_post_confirmation_trigger_attached(dev_app):
    (pool,) = _resources(dev_app, "AWS::Cognito::UserPool").values()
    assert "PostConfirmation" in pool["Properties"]["LambdaConfig"]


def test_existing_table_path_and_conflict():
    stack, prof = new_stack()
    network = Network(stack, "Network", profile=prof, interface_endpoints=[])
    identity = Identity(stack, "Identity", profile=prof)
    table = dynamodb.TableV2.from_table_name(stack, "Existing", "shop-table")
    tier = AppTier(stack, "App", profile=prof, user_pool=identity.user_pool, vpc=network.vpc, existing_table=table,
                   powertools_layer_arn="arn:aws:lambda:eu-west-1:017000801446:layer:Powertools:1")
    t = template(stack)
    t.resource_count_is("AWS::DynamoDB::GlobalTable", 0)
    t.has_resource_properties(
        "AWS::Lambda::Function", {"Environment": {"Variables": Match.object_like({"TABLE_NAME": "shop-table"})}}
    )
    assert tier.table is table
    with pytest.raises(ValueError, match="existing_table and table_props"):
        AppTier(stack, "App2", profile=prof, user_pool=identity.user_pool, existing_table=table, table_props={})


def test_unknown_payment_provider_is_refused():
    stack, prof = new_stack()
    identity = Identity(stack, "Identity", profile=prof)
    with pytest.raises(ValueError, match="payment_provider must be one of sandbox, stripe"):
        AppTier(stack, "App", profile=prof, user_pool=identity.user_pool, payment_provider="paypal")


def test_catalog_gets_the_dax_client_layer_only_in_prod(dev_app, prod_app):
    def catalog(app):
        return next(f["Properties"] for f in _resources(app, "AWS::Lambda::Function").values()
                    if f["Properties"].get("Handler") == FUNCTIONS["catalog"].handler)

    def dax_layers(app):  # the search indexer's opensearch-py layer is another LayerVersion
        return {k: v for k, v in _resources(app, "AWS::Lambda::LayerVersion").items() if "DaxClient" in k}

    # Powertools, and redis-py for the response cache.
    assert len(catalog(dev_app)["Layers"]) == 2
    assert dax_layers(dev_app) == {}
    (layer_id,) = dax_layers(prod_app)
    assert {"Ref": layer_id} in catalog(prod_app)["Layers"] and len(catalog(prod_app)["Layers"]) == 3
    layer = _resources(prod_app, "AWS::Lambda::LayerVersion")[layer_id]["Properties"]
    assert layer["CompatibleRuntimes"] == ["python3.14"] and layer["CompatibleArchitectures"] == ["arm64"]
    # The bundled asset really holds the client, importable as Lambda lays layers out.
    asset = prod_app.outdir / f"asset.{layer['Content']['S3Key'].split('.')[0]}"
    assert (asset / "python" / "amazondax" / "__init__.py").exists()


def test_reserved_concurrency_is_prod_only_and_spares_fargate_services(dev_app, prod_app):
    def reserved(app):
        return {f["Properties"]["Handler"]: f["Properties"].get("ReservedConcurrentExecutions")
                for f in _resources(app, "AWS::Lambda::Function").values()
                if f["Properties"].get("Handler", "").startswith("headless_commerce.")}

    assert set(reserved(dev_app).values()) == {None}
    prod = reserved(prod_app)
    # Prod serves checkout and the webhook from Fargate: their cap is the service's task maximum.
    assert FUNCTIONS["checkout"].handler not in prod and FUNCTIONS["payments_webhook"].handler not in prod
    assert prod[ORDER_SWEEPER.handler] == 1
    assert prod[FUNCTIONS["catalog"].handler] is None


def test_pending_order_sweeper_runs_on_a_schedule_with_a_dlq(dev_app, prod_app):
    from headless_commerce.constructs.order_sweeper import SWEEPER_HANDLER

    for app, reserved in ((dev_app, None), (prod_app, 1)):
        functions = _resources(app, "AWS::Lambda::Function")
        ((logical_id, sweeper),) = [
            (k, f) for k, f in functions.items() if f["Properties"].get("Handler") == SWEEPER_HANDLER
        ]
        props = sweeper["Properties"]
        assert props["Environment"]["Variables"]["PENDING_ORDER_TIMEOUT_MINUTES"] == "15"
        assert "PAYMENT_SECRET_ARN" in props["Environment"]["Variables"]
        assert "TargetArn" in props["DeadLetterConfig"]
        assert props.get("ReservedConcurrentExecutions") == reserved
        schedules = [r["Properties"] for r in _resources(app, "AWS::Events::Rule").values()
                     if "ScheduleExpression" in r["Properties"]]
        (schedule,) = [r for r in schedules if r["Targets"][0]["Arn"] == {"Fn::GetAtt": [logical_id, "Arn"]}]
        assert schedule["ScheduleExpression"] == "rate(5 minutes)"
        assert "Arn" in schedule["Targets"][0]["DeadLetterConfig"]


def test_stripe_provider_ships_its_sdk_to_payment_functions_only(tmp_path):
    from aws_cdk import App, Environment, Stack

    from headless_commerce.config import PROFILES

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Shop", env=Environment(account="111111111111", region="eu-west-1"))
    identity = Identity(stack, "Identity", profile=PROFILES["dev"])
    tier = AppTier(stack, "App", profile=PROFILES["dev"], user_pool=identity.user_pool, payment_provider="stripe",
                   powertools_layer_arn="arn:aws:lambda:eu-west-1:017000801446:layer:Powertools:1")
    (_layer,) = tier.payment_layers
    t = template(stack)
    functions = t.find_resources("AWS::Lambda::Function")
    layered = {f["Properties"]["Handler"] for f in functions.values() if len(f["Properties"]["Layers"]) == 2}
    assert layered == {s.handler for s in FUNCTIONS.values() if s.needs_payment_secret}
    assert t.find_resources("AWS::Lambda::Function", {"Properties": {"Environment": {"Variables": {
        "PAYMENT_PROVIDER": "stripe"}}}})
    # The bundled SDK carries wheels compiled for Lambda (arm64, CPython 3.14).
    assembly = app.synth()
    compiled = list((tmp_path).glob("asset.*/python/charset_normalizer/*.so"))
    assert compiled and all("cpython-314-aarch64" in p.name for p in compiled), assembly.directory
    assert list(tmp_path.glob("asset.*/python/stripe/__init__.py"))
