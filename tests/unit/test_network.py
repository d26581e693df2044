import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match

from headless_commerce.constructs.encryption import EncryptionKey
from headless_commerce.constructs.network import Network

from .helpers import new_stack, template


# Dev reaches AWS APIs through its one NAT gateway: an interface endpoint would cost $7.30 per AZ-month.
@pytest.mark.parametrize("profile,azs,nats,endpoints", [("dev", 2, 1, 0), ("prod", 3, 3, 3)])
def test_new_vpc_follows_profile(profile, azs, nats, endpoints):
    stack, prof = new_stack(profile)
    key = EncryptionKey(stack, "Key", profile=prof)
    network = Network(stack, "Network", profile=prof, encryption_key=key.key)
    t = template(stack)
    t.resource_count_is("AWS::EC2::VPC", 1)
    t.resource_count_is("AWS::EC2::Subnet", 3 * azs)  # public, private, isolated per AZ
    t.resource_count_is("AWS::EC2::NatGateway", nats)
    t.resource_count_is("AWS::EC2::FlowLog", 1)
    t.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL", "ResourceType": "VPC"})
    t.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": Match.any_value()})
    gateway = t.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Gateway"}})
    interface = t.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}})
    assert len(gateway) == 2 and len(interface) == endpoints
    assert len(network.interface_endpoints) == endpoints
    # No subnet hands out public IPs: only NAT gateways and load balancers live in public ones.
    for subnet in t.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"].get("MapPublicIpOnLaunch") in (False, None)


def test_endpoint_security_group_allows_https_from_vpc_only():
    stack, prof = new_stack()
    Network(stack, "Network", profile=prof, cidr="10.20.0.0/16", interface_endpoints=["SECRETS_MANAGER"])
    template(stack).has_resource_properties("AWS::EC2::SecurityGroup", {
        "SecurityGroupIngress": [Match.object_like({"CidrIp": "10.20.0.0/16", "FromPort": 443, "ToPort": 443})],
    })


def test_interface_endpoints_are_overridable_and_validated():
    stack, prof = new_stack("prod")
    Network(stack, "Network", profile=prof, interface_endpoints=[])
    assert not template(stack).find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}})
    stack, prof = new_stack("dev")
    network = Network(stack, "Network", profile=prof, interface_endpoints=["SQS"])
    assert list(network.interface_endpoints) == ["SQS"]
    stack, prof = new_stack()
    with pytest.raises(ValueError, match="unknown interface endpoint service 'NOPE'"):
        Network(stack, "Network", profile=prof, interface_endpoints=["NOPE"])


def test_vpc_props_override_defaults():
    stack, prof = new_stack()
    Network(stack, "Network", profile=prof, vpc_props={"nat_gateways": 0})
    template(stack).resource_count_is("AWS::EC2::NatGateway", 0)


def test_existing_vpc_creates_nothing():
    stack, prof = new_stack()
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Imported", vpc_id="vpc-123", availability_zones=["a", "b"],
                                      private_subnet_ids=["s-1", "s-2"])
    network = Network(stack, "Network", profile=prof, existing_vpc=vpc)
    assert network.vpc is vpc and network.flow_log_group is None
    t = template(stack)
    t.resource_count_is("AWS::EC2::VPC", 0)
    t.resource_count_is("AWS::EC2::VPCEndpoint", 0)


def test_existing_and_props_conflict():
    stack, prof = new_stack()
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Imported", vpc_id="vpc-123", availability_zones=["a"])
    with pytest.raises(ValueError, match="existing_vpc and vpc_props"):
        Network(stack, "Network", profile=prof, existing_vpc=vpc, vpc_props={"nat_gateways": 0})
