"""WebTier and the Web stack: a CloudFront-only load balancer, the Fargate storefront per
profile, the Valkey cache, session and flag tables, the read-only EFS mount, the invalidator."""

import json

import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events

from headless_commerce import model
from headless_commerce.app_builder import build
from headless_commerce.constructs.cloudfront_prefix_list import CLOUDFRONT_ORIGIN_FACING
from headless_commerce.constructs.encryption import EncryptionKey
from headless_commerce.constructs.network import Network
from headless_commerce.constructs.python_functions import PythonFunctions
from headless_commerce.constructs.shared_files import SharedFiles
from headless_commerce.constructs.web_cache import WebCache
from headless_commerce.constructs.web_origin import ORIGIN_VERIFY_HEADER
from headless_commerce.constructs.web_tier import WebTier
from headless_commerce.runtime import settings

from .helpers import new_stack, template


def _resources(tmpl: dict, type_: str) -> list[dict]:
    return [r for r in tmpl["Resources"].values() if r["Type"] == type_]


def _one(tmpl: dict, type_: str) -> dict:
    found = _resources(tmpl, type_)
    assert len(found) == 1, (type_, len(found))
    return found[0]["Properties"]


# --- the reference app's Web stack ---------------------------------------------------------------

def test_load_balancer_admits_only_cloudfront(any_app):
    web = any_app.template("Web")
    lookup = _one(web, "Custom::AWS")
    assert CLOUDFRONT_ORIGIN_FACING in json.dumps(lookup)
    group = next(r["Properties"] for r in _resources(web, "AWS::EC2::SecurityGroup")
                 if "CloudFront origin-facing" in r["Properties"]["GroupDescription"])
    assert "SecurityGroupIngress" not in group  # no inline 0.0.0.0/0 rule
    ingress = [r["Properties"] for r in _resources(web, "AWS::EC2::SecurityGroupIngress")
               if "SourcePrefixListId" in r["Properties"]]
    # A prefix-list rule weighs 55 against the 60-rule quota: exactly one per group.
    assert len(ingress) == 1
    # The id comes from the deploy-time lookup, never a literal (ids differ per region).
    assert ingress[0]["SourcePrefixListId"]["Fn::GetAtt"][1] == "PrefixLists.0.PrefixListId"
    assert not [r for r in _resources(web, "AWS::EC2::SecurityGroupIngress") if "CidrIp" in r["Properties"]]


def test_listener_forwards_only_with_the_origin_secret(any_app):
    web = any_app.template("Web")
    listener = _one(web, "AWS::ElasticLoadBalancingV2::Listener")
    assert listener["DefaultActions"][0]["Type"] == "fixed-response"
    assert listener["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
    rule = _one(web, "AWS::ElasticLoadBalancingV2::ListenerRule")
    [condition] = rule["Conditions"]
    assert condition["HttpHeaderConfig"]["HttpHeaderName"] == ORIGIN_VERIFY_HEADER
    # Resolved from Secrets Manager at deploy time: the value never appears in the template.
    assert "{{resolve:secretsmanager:" in json.dumps(condition["HttpHeaderConfig"]["Values"])
    assert rule["Actions"][0]["Type"] == "forward"


def test_load_balancer_logs_and_drops_invalid_headers(any_app):
    web = any_app.template("Web")
    alb = _one(web, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    # Internal, in the private subnets: CloudFront reaches it through a VPC origin (test_edge_stack).
    assert alb["Scheme"] == "internal"
    assert all("PrivateSubnet" in json.dumps(subnet) for subnet in alb["Subnets"])
    assert not _resources(web, "AWS::EC2::EIP")
    bucket = _one(web, "AWS::S3::Bucket")
    # ALB access logs accept only S3-managed encryption.
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}


def test_dev_listens_on_http_prod_on_https_with_a_tls12_policy(dev_app, prod_app):
    dev = _one(dev_app.template("Web"), "AWS::ElasticLoadBalancingV2::Listener")
    assert (dev["Protocol"], dev["Port"]) == ("HTTP", 80)
    prod_web = prod_app.template("Web")
    prod = _one(prod_web, "AWS::ElasticLoadBalancingV2::Listener")
    assert (prod["Protocol"], prod["Port"]) == ("HTTPS", 443)
    assert prod["SslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    certificate = _one(prod_web, "AWS::CertificateManager::Certificate")
    assert certificate["DomainName"] == "origin.shop.example.com"
    assert certificate["ValidationMethod"] == "DNS"
    record = _one(prod_web, "AWS::Route53::RecordSet")
    assert record["Name"] == "origin.shop.example.com."
    [ingress] = [r["Properties"] for r in _resources(prod_web, "AWS::EC2::SecurityGroupIngress")
                 if "SourcePrefixListId" in r["Properties"]]
    assert ingress["FromPort"] == ingress["ToPort"] == 443


@pytest.mark.parametrize("profile, cpu, exec_on, desired, max_tasks", [
    ("dev", "256", True, 1, 2), ("prod", "1024", False, 3, 12)])
def test_fargate_service_per_profile(request, profile, cpu, exec_on, desired, max_tasks):
    web = request.getfixturevalue(f"{profile}_app").template("Web")
    task = _one(web, "AWS::ECS::TaskDefinition")
    assert task["RuntimePlatform"] == {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}
    assert task["Cpu"] == cpu
    [container] = task["ContainerDefinitions"]
    assert container["PortMappings"][0]["ContainerPort"] == 8080
    assert container["ReadonlyRootFilesystem"] is True
    assert "/healthz" in " ".join(container["HealthCheck"]["Command"])
    env = {e["Name"] for e in container["Environment"]}
    assert env == set(settings.STOREFRONT_ENVIRONMENT)
    assert {"Name": settings.PORT, "Value": "8080"} in container["Environment"]
    mounts = {m["ContainerPath"]: m["ReadOnly"] for m in container["MountPoints"]}
    assert mounts[settings.SHARED_CONFIG_DEFAULT_DIR] is True
    [efs_volume] = [v for v in task["Volumes"] if "EFSVolumeConfiguration" in v]
    config = efs_volume["EFSVolumeConfiguration"]
    assert config["TransitEncryption"] == "ENABLED"
    assert config["AuthorizationConfig"]["IAM"] == "ENABLED"
    service = _one(web, "AWS::ECS::Service")
    assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert service["EnableExecuteCommand"] is exec_on
    assert service["DesiredCount"] == desired
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    target = _one(web, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (desired, max_tasks)
    metrics = {p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
        "PredefinedMetricType"] for p in _resources(web, "AWS::ApplicationAutoScaling::ScalingPolicy")}
    assert metrics == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
    group = _one(web, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert group["HealthCheckPath"] == "/healthz"


def test_unhealthy_tasks_and_server_errors_alarm_to_the_topic(dev_app):
    alarms = {a["Properties"].get("AlarmDescription"): a["Properties"]
              for a in _resources(dev_app.template("Web"), "AWS::CloudWatch::Alarm")}
    for description in ("Storefront tasks fail their /healthz check", "The storefront answered 5xx"):
        assert alarms[description]["AlarmActions"], description


def test_image_is_built_from_the_storefront_dockerfile(dev_app):
    assets = json.loads(next(dev_app.outdir.glob("HeadlessCommerce-Web.assets.json")).read_text())
    [image] = assets["dockerImages"].values()
    assert image["source"]["dockerFile"] == "runtime/storefront/Dockerfile"
    assert image["source"]["platform"] == "linux/arm64"  # the tasks run on Graviton


def test_execute_command_grants_only_in_dev(dev_app, prod_app):
    def task_actions(app):
        roles = {k for k, r in app.template("Web")["Resources"].items() if r["Type"] == "AWS::IAM::Role"
                 and "TaskRole" in k}
        return {a for p in _resources(app.template("Web"), "AWS::IAM::ManagedPolicy")
                if {r.get("Ref") for r in p["Properties"].get("Roles", [])} & roles
                for s in p["Properties"]["PolicyDocument"]["Statement"]
                for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "ssmmessages:OpenDataChannel" in task_actions(dev_app)
    prod = task_actions(prod_app)
    assert "ssmmessages:OpenDataChannel" not in prod
    assert "elasticfilesystem:ClientMount" in prod and "elasticfilesystem:ClientWrite" not in prod


def test_dev_storefront_shares_the_api_response_cache_with_a_user_of_its_own(dev_app):
    web, commerce = dev_app.template("Web"), dev_app.template("Commerce")
    assert not [r for r in web["Resources"].values() if r["Type"].startswith("AWS::ElastiCache::")]
    handlers = [f["Properties"].get("Handler", "") for f in _resources(web, "AWS::Lambda::Function")]
    assert not [h for h in handlers if "invalidation" in h]
    [cache] = _resources(commerce, "AWS::ElastiCache::ServerlessCache")
    users = {u["Properties"]["UserName"]: u["Properties"] for u in _resources(commerce, "AWS::ElastiCache::User")}
    assert set(users) == {"default", "storefront"}
    # Only its own entries and the generation counters the API's invalidation bumps.
    assert users["storefront"]["AccessString"] == "on ~sf:v1:* ~gen ~gen:* +@all -@admin -@dangerous -@scripting"
    assert users["storefront"]["AuthenticationMode"]["Type"] == "password"
    [group] = _resources(commerce, "AWS::ElastiCache::UserGroup")
    assert sorted(group["Properties"]["UserIds"]) == sorted(u["UserId"] for u in users.values())
    [task] = _resources(web, "AWS::ECS::TaskDefinition")
    env = {e["Name"]: e["Value"] for e in task["Properties"]["ContainerDefinitions"][0]["Environment"]}
    url = json.dumps(env[settings.CACHE_URL])
    assert "rediss://storefront@" in url and "ResponseCache" in url
    assert "ResponseCacheStorefrontAuthSecret" in json.dumps(env[settings.CACHE_AUTH_SECRET_ARN])
    # The rule admitting the storefront sits in this stack (Commerce cannot refer to Web).
    ingress = [r["Properties"] for r in _resources(web, "AWS::EC2::SecurityGroupIngress")
               if r["Properties"].get("Description") == "Storefront to Valkey"]
    assert [(i["FromPort"], "ResponseCacheSecurityGroup" in json.dumps(i["GroupId"])) for i in ingress] == [
        (6379, True)]
    assert cache["Properties"]["Engine"] == "valkey"


def test_prod_storefront_cache_is_its_own_multi_az_nodes(prod_app):
    prod = prod_app.template("Web")
    group = _one(prod, "AWS::ElastiCache::ReplicationGroup")
    assert group["Engine"] == "valkey"
    assert group["TransitEncryptionEnabled"] is True and group["TransitEncryptionMode"] == "required"
    assert group["AtRestEncryptionEnabled"] is True
    assert group["MultiAZEnabled"] is True and group["NumCacheClusters"] == 3
    assert _resources(prod, "AWS::ElastiCache::ServerlessCache") == []
    user = _one(prod, "AWS::ElastiCache::User")
    assert user["AuthenticationMode"]["Type"] == "password"
    assert "{{resolve:secretsmanager:" in json.dumps(user["AuthenticationMode"]["Passwords"])


def test_construct_own_cache_is_serverless_in_isolated_subnets(stub_image):
    stack, _ = _tier(stub_image)
    t = template(stack).to_json()
    cache = _one(t, "AWS::ElastiCache::ServerlessCache")
    assert cache["Engine"] == "valkey"
    assert "UserGroupId" in cache and "KmsKeyId" in cache
    assert len(cache["SubnetIds"]) == 2
    subnets = json.dumps(cache["SubnetIds"])
    assert "IsolatedSubnet" in subnets and "PrivateSubnet" not in subnets
    assert _resources(t, "AWS::ElastiCache::ReplicationGroup") == []


def test_session_and_flag_tables(any_app):
    tables = {json.dumps(t["Properties"]["KeySchema"]): t["Properties"]
              for t in _resources(any_app.template("Web"), "AWS::DynamoDB::GlobalTable")}
    session = tables[json.dumps([{"AttributeName": "session_id", "KeyType": "HASH"}])]
    flags = tables[json.dumps([{"AttributeName": "flag", "KeyType": "HASH"}])]
    assert session["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    for table in (session, flags):
        assert table["SSESpecification"]["SSEType"] == "KMS"
        pitr = table["Replicas"][0]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        assert pitr is any_app.reference.config.profile.point_in_time_recovery


def test_storefront_client_signs_in_with_password_and_refresh(any_app):
    client = _one(any_app.template("Web"), "AWS::Cognito::UserPoolClient")
    assert set(client["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert client["GenerateSecret"] is False


def test_invalidation_subscribes_to_catalog_changes_and_reaches_the_cache(prod_app):
    web = prod_app.template("Web")
    rule = _one(web, "AWS::Events::Rule")
    assert sorted(rule["EventPattern"]["detail-type"]) == ["InventoryChanged", "ProductModified"]
    functions = {f["Properties"]["Handler"]: f["Properties"] for f in _resources(web, "AWS::Lambda::Function")
                 if "Handler" in f["Properties"]}
    fn = functions["headless_commerce.runtime.cache.invalidation.handler"]
    assert fn["Architectures"] == ["arm64"] and "VpcConfig" in fn
    assert {settings.CACHE_URL, settings.CACHE_AUTH_SECRET_ARN} <= set(fn["Environment"]["Variables"])
    assert len(fn["Layers"]) == 2  # Powertools and redis-py
    cache_ports = {r["Properties"]["FromPort"] for r in _resources(web, "AWS::EC2::SecurityGroupIngress")
                   if r["Properties"].get("Description") == "Cache invalidation to Valkey"}
    assert cache_ports == {6380}  # the node-based group's port


def test_toggles_off_create_no_web_stack():
    reference = build({"web": "false", "edge": "false"}, compliance=False)
    assert "Web" not in reference.stacks and "Edge" not in reference.stacks
    assert not [c for c in reference.app.node.children if c.node.id.endswith(("-Web", "-Edge"))]


# --- the construct on its own ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def stub_image(tmp_path_factory):
    # A stand-in build context: synth only stages an image asset, it never builds it.
    context = tmp_path_factory.mktemp("image")
    (context / "Dockerfile").write_text("FROM scratch\n")
    return ecs.ContainerImage.from_asset(str(context))


def _tier(stub_image, profile="dev", shared_cache=False, **kwargs):
    stack, prof = new_stack(profile)
    key = EncryptionKey(stack, "Key", profile=prof).key
    network = Network(stack, "Network", profile=prof, interface_endpoints=[], encryption_key=key)
    files = SharedFiles(stack, "Files", profile=prof, vpc=network.vpc, encryption_key=key)
    functions = PythonFunctions(stack, "Functions", profile=prof, vpc=network.vpc, encryption_key=key,
                                powertools_layer_arn="arn:aws:lambda:eu-west-1:017000801446:layer:Powertools:1")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "eu-west-1_abc")
    bus = events.EventBus.from_event_bus_arn(stack, "Bus", "arn:aws:events:eu-west-1:111111111111:event-bus/b")
    if shared_cache:  # another client's cache, as the API's response cache in the dev profile
        shared = WebCache(stack, "Shared", profile=prof, vpc=network.vpc, description="Shared cache")
        kwargs = {"existing_cache": shared, "functions": None, **kwargs}
    tier = WebTier(stack, "Web", profile=prof, vpc=network.vpc, bus=bus, user_pool=pool,
                   api_url="https://api.example.com/v1/", file_system=files.file_system,
                   access_point=files.web_access_point, encryption_key=key, image=stub_image,
                   **{"functions": functions, **kwargs})
    return stack, tier


def test_construct_replicates_the_origin_secret_to_the_cloudfront_region(stub_image):
    stack, tier = _tier(stub_image)
    secret = next(
        r["Properties"]
        for r in template(stack).to_json()["Resources"].values()
        if r["Type"] == "AWS::SecretsManager::Secret" and ORIGIN_VERIFY_HEADER in r["Properties"]["Description"]
    )
    assert secret["ReplicaRegions"] == [{"Region": "us-east-1"}]
    assert tier.origin.origin_domain_name == tier.origin.load_balancer.load_balancer_dns_name


def test_construct_internet_facing_load_balancer_on_request(stub_image):
    stack, tier = _tier(stub_image, vpc_origin=False)
    assert tier.origin.vpc_origin is False
    alb = _one(template(stack).to_json(), "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert alb["Scheme"] == "internet-facing"
    assert all("PublicSubnet" in json.dumps(subnet) for subnet in alb["Subnets"])
    _stack, default = _tier(stub_image)
    assert default.origin.vpc_origin is True


def test_construct_shared_cache_gets_a_user_and_no_invalidation(stub_image):
    stack, tier = _tier(stub_image, shared_cache=True)
    shared = stack.node.find_child("Shared")
    assert tier.cache is shared and tier.invalidation is None
    assert tier.cache_user.url.startswith("rediss://storefront@")
    t = template(stack).to_json()
    assert len(_resources(t, "AWS::ElastiCache::ServerlessCache")) == 1
    assert {u["UserName"] for u in (r["Properties"] for r in _resources(t, "AWS::ElastiCache::User"))} == {
        "default", "storefront"}
    with pytest.raises(ValueError, match="a user name other than 'default'"):
        shared.add_user("Again", user_name="default", key_patterns=["x:*"])


@pytest.mark.parametrize("kwargs, message", [
    ({"shared_cache": True, "cache_node_type": "cache.t4g.micro"}, "existing_cache has its size"),
    ({"shared_cache": True, "cache_props": {}}, "existing_cache and cache_props"),
    ({"functions": None}, "`functions` is required"),
])
def test_construct_refuses_a_shared_cache_with_its_own_settings(stub_image, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _tier(stub_image, **kwargs)


def test_construct_existing_client_and_tables(stub_image):
    stack, prof = new_stack()
    session = dynamodb.TableV2.from_table_name(stack, "Sessions", "sessions")
    flags = dynamodb.TableV2.from_table_name(stack, "Flags", "flags")
    client = cognito.UserPoolClient.from_user_pool_client_id(stack, "Client", "abc123")
    stack, tier = _tier(stub_image, existing_user_pool_client=client)
    assert tier.user_pool_client is client
    template(stack).resource_count_is("AWS::Cognito::UserPoolClient", 0)
    _stack2, tier2 = _tier(stub_image)
    assert tier2.tables.session_table is not None
    from headless_commerce.constructs.web_tables import WebTables
    tables = WebTables(stack, "Imported", profile=prof, existing_session_table=session, existing_flags_table=flags)
    assert tables.session_table is session and tables.flags_table is flags


@pytest.mark.parametrize("kwargs, message", [
    ({"existing_user_pool_client": "x", "user_pool_client_props": {}}, "existing_user_pool_client and"),
    ({"task_definition_props": {"runtime_platform": None}}, "runtime_platform"),
    ({"session_table_props": {"partition_key": None}}, "partition_key"),
    ({"session_table_props": {"time_to_live_attribute": "ttl"}}, "time_to_live_attribute"),
    ({"origin_domain_name": "origin.example.com"}, "certificate and origin_domain_name go together"),
])
def test_construct_refuses_contradictions_and_locked_props(stub_image, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _tier(stub_image, **kwargs)


def test_node_based_cache_on_request(stub_image):
    stack, tier = _tier(stub_image, cache_node_type="cache.t4g.micro")
    t = template(stack)
    t.has_resource_properties("AWS::ElastiCache::ReplicationGroup", {
        "CacheNodeType": "cache.t4g.micro", "Port": 6380, "TransitEncryptionMode": "required"})
    t.resource_count_is("AWS::ElastiCache::ServerlessCache", 0)
    assert tier.cache.url.startswith("rediss://")


def test_session_table_key_matches_the_model():
    assert model.session_table_kwargs()["KeySchema"] == [{"AttributeName": "session_id", "KeyType": "HASH"}]
    assert model.flags_table_kwargs()["KeySchema"] == [{"AttributeName": "flag", "KeyType": "HASH"}]


def test_storefront_nat_addresses_skip_the_api_rate_limit(any_app):
    # Every shopper's API call leaves the VPC from the NAT addresses: a per-IP limit would
    # throttle the whole storefront; CloudFront's web ACL limits each shopper instead.
    commerce = any_app.template("Commerce")
    [ip_set] = [r["Properties"] for r in _resources(commerce, "AWS::WAFv2::IPSet")]
    nat_count = any_app.reference.config.profile.nat_gateways
    assert len(ip_set["Addresses"]) == nat_count
    assert all("EIP" in json.dumps(address) and address["Fn::Join"][1][-1] == "/32" for address in ip_set["Addresses"])
    [acl] = [r["Properties"] for r in _resources(commerce, "AWS::WAFv2::WebACL")]
    [rate] = [r for r in acl["Rules"] if r["Name"] == "RatePerIp"]
    scope_down = rate["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    assert "IPSetReferenceStatement" in scope_down["NotStatement"]["Statement"]


def test_regional_waf_without_exemptions_limits_every_ip():
    from headless_commerce.constructs.regional_waf import RegionalWaf

    stack, prof = new_stack()
    RegionalWaf(stack, "Waf", profile=prof)
    RegionalWaf(stack, "Exempt", profile=prof, rate_limit_exempt_cidrs=["198.51.100.7/32"])
    t = template(stack).to_json()
    ip_sets = [r["Properties"] for r in t["Resources"].values() if r["Type"] == "AWS::WAFv2::IPSet"]
    assert [s["Addresses"] for s in ip_sets] == [["198.51.100.7/32"]]
    rates = [next(r for r in acl["Properties"]["Rules"] if r["Name"] == "RatePerIp")["Statement"]["RateBasedStatement"]
             for acl in t["Resources"].values() if acl["Type"] == "AWS::WAFv2::WebACL"]
    assert sorted("ScopeDownStatement" in r for r in rates) == [False, True]


def test_invalidation_layer_pins_the_containers_redis(tmp_path):
    from headless_commerce.constructs.response_cache import REDIS_PIN_FILE as CONTAINER_REQUIREMENTS
    from headless_commerce.constructs.response_cache import redis_requirements

    [pin] = redis_requirements()
    assert pin in CONTAINER_REQUIREMENTS.read_text().splitlines()
    unpinned = tmp_path / "requirements.txt"
    unpinned.write_text("starlette==1.0\nredis>=8\n")
    with pytest.raises(ValueError, match="pin redis-py exactly once"):
        redis_requirements(unpinned)


def test_storefront_role_has_exactly_the_table_actions_it_uses(prod_app):
    web = prod_app.template("Web")
    tables = {k for k, r in web["Resources"].items() if r["Type"] == "AWS::DynamoDB::GlobalTable"}
    actions = set()
    for policy in _resources(web, "AWS::IAM::ManagedPolicy"):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if tables & set(json.dumps(statement.get("Resource")).replace('"', " ").split()):
                found = statement["Action"]
                actions |= {found} if isinstance(found, str) else set(found)
    assert {a for a in actions if a.startswith("dynamodb:")} == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"}
