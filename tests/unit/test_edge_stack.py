"""EdgeStack and EdgeDistribution: us-east-1, the CloudFront web ACL, OAC to the assets bucket,
TLS, security headers, cache policies per behaviour, logging, DNS; cross-region references."""

import json

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3

from headless_commerce.app_builder import build
from headless_commerce.config import PROFILES, ConfigError, from_context
from headless_commerce.constructs.cloudfront_waf import BOT_CONTROL
from headless_commerce.constructs.edge import DEFAULT_CONTENT_SECURITY_POLICY, EdgeDistribution
from headless_commerce.constructs.regional_waf import MANAGED_RULE_GROUPS
from headless_commerce.constructs.web_origin import ORIGIN_VERIFY_HEADER

from .helpers import template


def _resources(tmpl: dict, type_: str) -> list[dict]:
    return [r["Properties"] for r in tmpl["Resources"].values() if r["Type"] == type_]


def _distribution(tmpl: dict) -> dict:
    [dist] = _resources(tmpl, "AWS::CloudFront::Distribution")
    return dist["DistributionConfig"]


def _behaviours(config: dict) -> dict[str, dict]:
    return {"default": config["DefaultCacheBehavior"],
            **{b["PathPattern"]: b for b in config["CacheBehaviors"]}}


def _origin(config: dict, behaviour: dict) -> dict:
    return next(o for o in config["Origins"] if o["Id"] == behaviour["TargetOriginId"])


# --- the reference app's Edge stack --------------------------------------------------------------

def test_edge_stack_is_in_us_east_1_after_web(any_app):
    stacks = any_app.reference.stacks
    assert list(stacks)[-1] == "Edge"
    assert stacks["Edge"].region == "us-east-1"
    assert {stacks["Web"], stacks["Commerce"]} <= set(stacks["Edge"].dependencies)


def test_web_acl_rules_and_association(dev_app, prod_app):
    for app, bot in ((dev_app, False), (prod_app, True)):
        edge = app.template("Edge")
        [acl] = _resources(edge, "AWS::WAFv2::WebACL")
        assert acl["Scope"] == "CLOUDFRONT"
        groups = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in acl["Rules"]
                  if "ManagedRuleGroupStatement" in r["Statement"]}
        assert set(MANAGED_RULE_GROUPS) <= groups
        assert (BOT_CONTROL in groups) is bot
        assert any("RateBasedStatement" in r["Statement"] for r in acl["Rules"])
        [acl_id] = [k for k, r in edge["Resources"].items() if r["Type"] == "AWS::WAFv2::WebACL"]
        assert _distribution(edge)["WebACLId"] == {"Fn::GetAtt": [acl_id, "Arn"]}
        assert len(_resources(edge, "AWS::WAFv2::LoggingConfiguration")) == 1


def test_behaviours_route_to_alb_api_and_assets_through_oac(any_app):
    config = _distribution(any_app.template("Edge"))
    behaviours = _behaviours(config)
    assert set(behaviours) == {"default", "/api/*", "/assets/*"}
    for behaviour in behaviours.values():
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
        assert "ResponseHeadersPolicyId" in behaviour and "CachePolicyId" in behaviour
    storefront = _origin(config, behaviours["default"])
    [header] = storefront["OriginCustomHeaders"]
    assert header["HeaderName"] == ORIGIN_VERIFY_HEADER
    # The secret's name comes from the Web stack (it carries that stack's id); the value is
    # resolved at deploy time and never written into the template.
    value = json.dumps(header["HeaderValue"])
    assert "{{resolve:secretsmanager:" in value and "Fn::GetStackOutput" in value
    api = _origin(config, behaviours["/api/*"])
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert behaviours["/api/*"]["FunctionAssociations"][0]["EventType"] == "viewer-request"
    assets = _origin(config, behaviours["/assets/*"])
    assert "OriginAccessControlId" in assets and assets["S3OriginConfig"]["OriginAccessIdentity"] == ""
    [oac] = _resources(any_app.template("Edge"), "AWS::CloudFront::OriginAccessControl")
    assert oac["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert len({b["CachePolicyId"] if isinstance(b["CachePolicyId"], str) else json.dumps(b["CachePolicyId"])
                for b in behaviours.values()}) == 3


def _vpc_origin(tmpl: dict) -> tuple[dict, dict]:
    """The storefront origin of the distribution and the VPC origin it goes through."""
    config = _distribution(tmpl)
    origin = _origin(config, config["DefaultCacheBehavior"])
    assert "CustomOriginConfig" not in origin  # never over the internet
    [logical_id] = [k for k, r in tmpl["Resources"].items() if r["Type"] == "AWS::CloudFront::VpcOrigin"]
    assert origin["VpcOriginConfig"]["VpcOriginId"] == {"Fn::GetAtt": [logical_id, "Id"]}
    return origin, tmpl["Resources"][logical_id]["Properties"]["VpcOriginEndpointConfig"]


def test_storefront_origin_is_the_internal_load_balancer_through_a_vpc_origin(dev_app, prod_app):
    for app in (dev_app, prod_app):
        origin, endpoint = _vpc_origin(app.template("Edge"))
        web = app.reference.stacks["Web"]
        alb_id = web.get_logical_id(web.web.origin.load_balancer.node.default_child)
        # The load balancer's ARN, published by the Web stack (which may be in another region).
        assert alb_id in endpoint["Arn"]["Fn::GetStackOutput"]["OutputName"]
        assert endpoint["OriginSSLProtocols"] == ["TLSv1.2"]
        assert origin["VpcOriginConfig"]["OriginReadTimeout"] == 30


def test_storefront_origin_is_http_without_a_domain_https_with_one(dev_app, prod_app):
    dev = _distribution(dev_app.template("Edge"))
    assert _vpc_origin(dev_app.template("Edge"))[1]["OriginProtocolPolicy"] == "http-only"
    assert "ViewerCertificate" not in dev or "AcmCertificateArn" not in dev.get("ViewerCertificate", {})
    prod = _distribution(prod_app.template("Edge"))
    origin, endpoint = _vpc_origin(prod_app.template("Edge"))
    assert endpoint["OriginProtocolPolicy"] == "https-only"
    # The name the load balancer's certificate covers: what CloudFront checks over TLS.
    assert origin["DomainName"] == "origin.shop.example.com"
    assert prod["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert prod["ViewerCertificate"]["SslSupportMethod"] == "sni-only"
    assert prod["Aliases"] == ["shop.example.com"]
    edge = prod_app.template("Edge")
    assert {r["Type"] for r in _resources(edge, "AWS::Route53::RecordSet")} == {"A", "AAAA"}
    [certificate] = _resources(edge, "AWS::CertificateManager::Certificate")
    assert certificate["DomainName"] == "shop.example.com"


def test_http2_and_3_ipv6_and_standard_logging(any_app):
    config = _distribution(any_app.template("Edge"))
    assert config["HttpVersion"] == "http2and3"
    assert config["IPV6Enabled"] is True
    assert config["Logging"]["Prefix"] == "cloudfront/"
    buckets = _resources(any_app.template("Edge"), "AWS::S3::Bucket")
    log_bucket = next(b for b in buckets if "ObjectOwnership" in json.dumps(b) and
                      b["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerPreferred")
    # CloudFront standard logging delivers with ACLs and only into SSE-S3 buckets.
    assert log_bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_assets_bucket_is_private_versioned_tls_only_and_logged(any_app):
    edge = any_app.template("Edge")
    assets = next(b for b in _resources(edge, "AWS::S3::Bucket") if "LoggingConfiguration" in b)
    assert assets["VersioningConfiguration"] == {"Status": "Enabled"}
    assert assets["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    assert assets["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    policies = json.dumps(_resources(edge, "AWS::S3::BucketPolicy"))
    assert '"aws:SecureTransport": "false"' in policies
    assert "cloudfront.amazonaws.com" in policies and "AWS:SourceArn" in policies


def test_security_headers_policy(any_app):
    [policy] = _resources(any_app.template("Edge"), "AWS::CloudFront::ResponseHeadersPolicy")
    headers = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["ContentSecurityPolicy"]["ContentSecurityPolicy"] == DEFAULT_CONTENT_SECURITY_POLICY
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ContentTypeOptions"]["Override"] is True


def test_api_cache_key_holds_the_callers_token(any_app):
    policies = _resources(any_app.template("Edge"), "AWS::CloudFront::CachePolicy")
    api = next(p["CachePolicyConfig"] for p in policies if "API" in p["CachePolicyConfig"]["Comment"])
    key = api["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Authorization"]}
    assert api["DefaultTTL"] == 0
    pages = next(p["CachePolicyConfig"] for p in policies if "pages" in p["CachePolicyConfig"]["Comment"])
    assert pages["ParametersInCacheKeyAndForwardedToOrigin"]["CookiesConfig"]["CookieBehavior"] == "none"


def test_cross_region_app_reads_origins_from_its_region_and_replicates_the_secret(tmp_path):
    reference = build({"region": "eu-west-1", "account": "123456789012"}, outdir=str(tmp_path))
    reference.app.synth()  # with the compliance gate: no finding in either region
    edge = json.loads((tmp_path / "HeadlessCommerce-Edge.template.json").read_text())
    web = json.loads((tmp_path / "HeadlessCommerce-Web.template.json").read_text())
    assert reference.stacks["Edge"].region == "us-east-1" and reference.stacks["Web"].region == "eu-west-1"
    config = _distribution(edge)
    storefront = _origin(config, config["DefaultCacheBehavior"])
    assert storefront["DomainName"]["Fn::GetStackOutput"]["Region"] == "eu-west-1"
    [secret] = [s for s in _resources(web, "AWS::SecretsManager::Secret") if "ReplicaRegions" in s]
    assert secret["ReplicaRegions"] == [{"Region": "us-east-1"}]
    assert ".execute-api.eu-west-1." in json.dumps(_origin(config, _behaviours(config)["/api/*"])["DomainName"])


def test_same_region_app_needs_no_replica(dev_app):
    web = dev_app.template("Web")
    assert not [s for s in _resources(web, "AWS::SecretsManager::Secret") if "ReplicaRegions" in s]


def test_existing_web_acl_replaces_the_created_one(tmp_path):
    arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop/11111111-2222-3333-4444-555555555555"
    reference = build({"existing_web_acl_arn": arn}, outdir=str(tmp_path), compliance=False)
    reference.app.synth()
    edge = json.loads((tmp_path / "HeadlessCommerce-Edge.template.json").read_text())
    assert _resources(edge, "AWS::WAFv2::WebACL") == []
    assert _distribution(edge)["WebACLId"] == arn


def test_edge_toggle_off_creates_no_edge_stack():
    reference = build({"edge": "false"}, compliance=False)
    assert "Edge" not in reference.stacks and "Web" in reference.stacks
    # web=false alone removes the edge too: its default origin would be missing.
    reference = build({"web": "false"}, compliance=False)
    assert "Edge" not in reference.stacks and "Web" not in reference.stacks


# --- context validation -----------------------------------------------------------------------

@pytest.mark.parametrize("context, message", [
    ({"domain_name": "shop.example.com"}, "domain_name and hosted_zone_id go together"),
    ({"domain_name": "Shop Example", "hosted_zone_id": "Z123"}, "domain_name 'Shop Example' must be a DNS name"),
    ({"hosted_zone_id": "zone-1", "domain_name": "shop.example.com"}, "hosted_zone_id 'zone-1'"),
    ({"existing_web_acl_arn": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/"
                              "11111111-2222-3333-4444-555555555555"}, "CLOUDFRONT-scope web ACL"),
    ({"bot_control": "maybe"}, "'bot_control' must be true or false"),
    ({"bot_control": "true", "existing_web_acl_arn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/"
                                                     "11111111-2222-3333-4444-555555555555"},
     "add it to your own web ACL"),
    ({"web": "false", "edge": "true"}, "edge needs web"),
])
def test_edge_context_is_validated(context, message):
    with pytest.raises(ConfigError, match=message):
        from_context(context)


def test_domain_context_is_read():
    config = from_context({"domain_name": "shop.example.com", "hosted_zone_id": "Z0123456789ABC",
                           "bot_control": "yes"})
    assert config.web_domain.name == "shop.example.com"
    assert config.web_domain.origin_name == "origin.shop.example.com"
    assert config.bot_control is True


# --- the construct on its own ---------------------------------------------------------------------

def _edge_stack(region="us-east-1"):
    app = App()
    return Stack(app, "Edge", env=Environment(account="111111111111", region=region)), PROFILES["dev"]


def _distribution_construct(stack, profile, **kwargs):
    return EdgeDistribution(stack, "Edge", profile=profile, storefront_origin_domain="alb.example.com",
                            origin_secret_name="origin-secret", api_domain="api.example.com", **kwargs)


@pytest.mark.parametrize("region, kwargs, message", [
    ("eu-west-1", {}, "live in us-east-1"),
    ("us-east-1", {"domain_name": "shop.example.com"}, "domain_name and hosted_zone go together"),
    ("us-east-1", {"existing_web_acl_arn": "arn:x", "web_acl_props": {}}, "existing_web_acl_arn and web_acl_props"),
    ("us-east-1", {"existing_web_acl_arn": "arn:x", "bot_control": True}, "bot_control"),
])
def test_construct_refuses_other_regions_and_contradictions(region, kwargs, message):
    stack, profile = _edge_stack(region)
    with pytest.raises(ValueError, match=message):
        _distribution_construct(stack, profile, **kwargs)


def test_construct_existing_assets_bucket_and_custom_csp():
    stack, profile = _edge_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Existing", "my-assets")
    zone = route53.HostedZone.from_hosted_zone_attributes(stack, "Zone", hosted_zone_id="Z1", zone_name="example.com")
    edge = _distribution_construct(
        stack,
        profile,
        existing_assets_bucket=bucket,
        content_security_policy="default-src 'self'",
        domain_name="shop.example.com",
        hosted_zone=zone,
    )
    assert edge.assets_bucket is bucket
    t = template(stack).to_json()
    assert len(_resources(t, "AWS::S3::Bucket")) == 1  # only the log bucket
    [policy] = _resources(t, "AWS::CloudFront::ResponseHeadersPolicy")
    assert policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"][
        "ContentSecurityPolicy"] == "default-src 'self'"
    assert len(edge.records) == 2


def test_construct_without_a_load_balancer_reaches_a_public_origin_by_name():
    """An internet-facing load balancer (CloudFrontOnlyLoadBalancer with vpc_origin=False)."""
    stack, profile = _edge_stack()
    _distribution_construct(stack, profile)
    t = template(stack).to_json()
    assert not _resources(t, "AWS::CloudFront::VpcOrigin")
    config = _distribution(t)
    origin = _origin(config, config["DefaultCacheBehavior"])
    assert origin["DomainName"] == "alb.example.com"
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "http-only"
    assert origin["OriginCustomHeaders"][0]["HeaderName"] == ORIGIN_VERIFY_HEADER
