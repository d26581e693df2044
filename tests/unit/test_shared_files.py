import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match

from headless_commerce.constructs.encryption import EncryptionKey
from headless_commerce.constructs.network import Network
from headless_commerce.constructs.shared_files import SharedFiles

from .helpers import new_stack, template


def _build(profile="dev", **kwargs):
    stack, prof = new_stack(profile)
    key = EncryptionKey(stack, "Key", profile=prof)
    network = Network(stack, "Network", profile=prof, interface_endpoints=[])
    files = SharedFiles(stack, "Files", profile=prof, vpc=network.vpc, encryption_key=key.key, **kwargs)
    return stack, files


def test_encrypted_backed_up_with_lifecycle_and_two_access_points():
    stack, _files = _build("prod")
    t = template(stack)
    t.has_resource_properties("AWS::EFS::FileSystem", {
        "Encrypted": True,
        "KmsKeyId": Match.any_value(),
        "BackupPolicy": {"Status": "ENABLED"},
        "LifecyclePolicies": Match.array_with([{"TransitionToIA": "AFTER_30_DAYS"}]),
    })
    t.resource_count_is("AWS::EFS::MountTarget", 3)
    paths = sorted(
        ap["Properties"]["RootDirectory"]["Path"] for ap in t.find_resources("AWS::EFS::AccessPoint").values()
    )
    assert paths == ["/app", "/web"]
    t.has_resource("AWS::EFS::FileSystem", {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"})


def test_mount_grant_is_scoped_to_one_access_point():
    stack, files = _build()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    files.grant_mount(role, files.web_access_point)
    t = template(stack)
    t.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Action": "elasticfilesystem:ClientMount",
                           "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": Match.any_value()}}}),
    ])}})


def test_existing_file_system_and_conflict():
    stack, prof = new_stack()
    vpc = ec2.Vpc.from_vpc_attributes(stack, "Vpc", vpc_id="vpc-1", availability_zones=["a"])
    fs = efs.FileSystem.from_file_system_attributes(
        stack, "Fs", file_system_id="fs-123",
        security_group=ec2.SecurityGroup.from_security_group_id(stack, "Sg", "sg-1"))
    files = SharedFiles(stack, "Files", profile=prof, vpc=vpc, existing_file_system=fs)
    t = template(stack)
    t.resource_count_is("AWS::EFS::FileSystem", 0)
    t.resource_count_is("AWS::EFS::AccessPoint", 2)
    assert files.file_system is fs
    with pytest.raises(ValueError, match="existing_file_system and file_system_props"):
        SharedFiles(stack, "Files2", profile=prof, vpc=vpc, existing_file_system=fs, file_system_props={})
