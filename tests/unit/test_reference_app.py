"""The whole reference app: stacks, deploy order, no hard-coded physical names."""

import json
import re

import pytest

from headless_commerce.config import ConfigError

# Properties that give a resource a physical name; set literally they clash between stages.
NAME_PROPERTIES = re.compile(
    r"^(Name|AliasName|GroupName|RoleName|PolicyName|ManagedPolicyName|UserPoolName|FunctionName|"
    r"TableName|BucketName|QueueName|TopicName|LogGroupName|EventBusName|ClusterName|DomainName|"
    r"FileSystemName|SecretName|ApiName|StateMachineName|RuleName|ArchiveName|RegistryName|"
    r"ReplicationGroupId|CacheClusterId|ServiceName)$"
)
# Names that are scoped inside a parent the stage already makes unique.
SCOPED = {("AWS::Cognito::UserPoolGroup", "GroupName"), ("AWS::EC2::VPCEndpoint", "ServiceName"),
          ("AWS::ApiGateway::Authorizer", "Name"),
          # The operator names the API's custom domain per stage (-c api_domain_name=...).
          ("AWS::ApiGateway::DomainName", "DomainName"),
          # Kafka topic names live inside their cluster, whose name carries the stage.
          ("AWS::MSK::Topic", "TopicName"),
          # Likewise the shop's own name (-c domain_name=...): its certificates and alias records.
          ("AWS::CertificateManager::Certificate", "DomainName"), ("AWS::Route53::RecordSet", "Name")}
# At most 28 characters, too few for the stack name: SearchDomain derives the name from the
# hash of its stage-prefixed construct path (two stages differ: tests/unit/test_search_domain.py).
PATH_HASHED = {("AWS::OpenSearchService::Domain", "DomainName")}


def _literal_names(template: dict) -> set[tuple[str, str, str]]:
    found = set()
    for resource in template["Resources"].values():
        for key, value in resource.get("Properties", {}).items():
            # A rule on the account's default bus (where SES and other AWS services publish)
            # names AWS's own bus, not one of ours.
            if (resource["Type"], key, value) == ("AWS::Events::Rule", "EventBusName", "default"):
                continue
            if NAME_PROPERTIES.match(key) and isinstance(value, str) and (resource["Type"], key) not in SCOPED:
                found.add((resource["Type"], key, value))
    return found


def test_stacks_exist_in_deploy_order(dev_app):
    stacks = dev_app.reference.stacks
    assert list(stacks) == ["Foundation", "Commerce", "Integration", "Web", "Edge"]
    assert {stacks["Foundation"], stacks["Commerce"]} <= set(stacks["Web"].dependencies)
    assert stacks["Foundation"] in stacks["Commerce"].dependencies
    assert stacks["Commerce"] in stacks["Integration"].dependencies
    manifest = json.loads((dev_app.outdir / "manifest.json").read_text())
    commerce = manifest["artifacts"]["HeadlessCommerce-Commerce"]
    assert "HeadlessCommerce-Foundation" in commerce["dependencies"]


def test_foundation_holds_network_key_and_files(dev_app):
    types = {r["Type"] for r in dev_app.template("Foundation")["Resources"].values()}
    assert {"AWS::EC2::VPC", "AWS::KMS::Key", "AWS::EFS::FileSystem", "AWS::EFS::AccessPoint"} <= types
    key = next(r for r in dev_app.template("Foundation")["Resources"].values() if r["Type"] == "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True


def test_commerce_holds_identity(dev_app):
    types = {r["Type"] for r in dev_app.template("Commerce")["Resources"].values()}
    assert "AWS::Cognito::UserPool" in types


def test_prod_spans_the_three_named_azs_without_lookups(prod_app):
    subnets = [r for r in prod_app.template("Foundation")["Resources"].values() if r["Type"] == "AWS::EC2::Subnet"]
    zones = {s["Properties"]["AvailabilityZone"] for s in subnets}
    assert zones == {"us-east-1a", "us-east-1b", "us-east-1c"}
    for stack in prod_app.reference.stacks:
        assert "Fn::GetAZs" not in json.dumps(prod_app.template(stack))
    context = json.loads((prod_app.outdir / "manifest.json").read_text()).get("missing", [])
    assert context == []  # nothing to look up in an AWS account


def test_literal_names_derive_from_the_stack_name(any_app):
    # A literal name is acceptable only when CDK derived it from the (stage-prefixed) stack.
    for stack_key, stack in any_app.reference.stacks.items():
        prefixes = (stack.stack_name, stack.stack_name.replace("-", ""))
        for type_, key, value in _literal_names(any_app.template(stack_key)):
            if (type_, key) in PATH_HASHED:
                assert value == stack.search.domain_name, (type_, key, value)
                continue
            assert any(p in value for p in prefixes), (type_, key, value)


def test_two_stages_side_by_side(dev_app, prod_app):
    dev_names = {s.stack_name for s in dev_app.reference.stacks.values()}
    prod_names = {s.stack_name for s in prod_app.reference.stacks.values()}
    assert dev_names.isdisjoint(prod_names)
    assert all(name.startswith("HeadlessCommerce-prod-") for name in prod_names)
    dev_literals = {n for s in dev_app.reference.stacks for n in _literal_names(dev_app.template(s))}
    prod_literals = {n for s in prod_app.reference.stacks for n in _literal_names(prod_app.template(s))}
    assert dev_literals and dev_literals.isdisjoint(prod_literals)
    # Exports are account-wide: two stages must not export the same name.
    def exports(app):
        return {json.dumps(o.get("Export", {}).get("Name")) for s in app.reference.stacks
                for o in app.template(s).get("Outputs", {}).values() if "Export" in o}
    assert exports(dev_app).isdisjoint(exports(prod_app))


def test_bad_context_is_a_clear_error():
    from headless_commerce.app_builder import build

    with pytest.raises(ConfigError, match="valid profiles: dev, prod"):
        build({"profile": "qa"})


def test_openapi_written_from_the_route_table(tmp_path):
    from openapi_spec_validator import validate

    from headless_commerce.app_builder import write_openapi
    from headless_commerce.runtime.routes import ROUTES

    document = json.loads(write_openapi(tmp_path / "openapi.json").read_text())
    validate(document)
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert operations == {r.operation_id for r in ROUTES}


def test_every_template_fits_cloudformation_limits(any_app):
    """500 resources, a 1 MB template (read from S3), 200 parameters and 200 outputs per template,
    nested stacks' included: past any of them the deploy fails, however clean the synth.
    Dashboards and alarms count too."""
    files = 0
    for stack in any_app.reference.stacks:
        for name, template in any_app.template_files(stack).items():
            files += 1
            assert len(template["Resources"]) <= 500, (name, len(template["Resources"]))
            assert (any_app.outdir / name).stat().st_size <= 1_000_000, name
            assert len(template.get("Parameters", {})) <= 200, (name, len(template.get("Parameters", {})))
            assert len(template.get("Outputs", {})) <= 200, name
    assert files > len(any_app.reference.stacks), "Commerce's monitoring is a nested stack of its own"
