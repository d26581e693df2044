"""The shared EFS file system: page templates and config for the web tier, message templates
and shared config for the app tier."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..config import Profile
from . import _defaults as defaults
from ._props import check_exclusive, merge

# POSIX identities the access points force, so the two tiers cannot write each other's tree.
WEB_UID = 1001
APP_UID = 1002


def _access_point(fs: efs.IFileSystem, scope: Construct, id: str, path: str, uid: int) -> efs.AccessPoint:
    return efs.AccessPoint(
        scope, id, file_system=fs, path=path,
        create_acl=efs.Acl(owner_uid=str(uid), owner_gid=str(uid), permissions="750"),
        posix_user=efs.PosixUser(uid=str(uid), gid=str(uid)),
    )


def file_system_policy() -> iam.PolicyDocument:
    """Deny what no client may do; grant nothing.

    With a policy present, EFS authorizes each NFS client by IAM: a client without an identity
    policy (anonymous) gets nothing, and a client gets write access only from a `grant_mount(...,
    write=True)` on its access point. Root access is denied to everyone: the access points pin
    each tier to its own POSIX user.
    """
    return iam.PolicyDocument(statements=[
        iam.PolicyStatement(sid="DenyUnencryptedTransport", effect=iam.Effect.DENY,
                            principals=[iam.AnyPrincipal()], actions=["*"],
                            conditions={"Bool": {"aws:SecureTransport": "false"}}),
        iam.PolicyStatement(sid="DenyRootAccess", effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
                            actions=["elasticfilesystem:ClientRootAccess"]),
    ])


class SharedFiles(Construct):
    """Encrypted EFS with automatic backups, lifecycle to IA, mount targets in private subnets,
    and one access point per tier (`/web`, `/app`).

    Mount with `grant_mount(grantee, access_point, write=...)` plus `allow_from(connectable)`
    (clients mount with TLS and IAM, e.g. ECS `transit_encryption` and `iam` authorization).
    The file system policy (`file_system_policy()`) denies unencrypted transport and root
    access and grants nothing, so a mount without `write=True` is read-only.

    Parameters: `profile` (lifecycle, removal); `vpc` (mount targets in its private subnets);
    `encryption_key` (default None: the AWS-managed EFS key); `existing_file_system` (default
    None: a new one; its owner decides on its policy) or `file_system_props` (override defaults).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, vpc: ec2.IVpc,
                 encryption_key: kms.IKey | None = None,
                 existing_file_system: efs.IFileSystem | None = None,
                 file_system_props: dict | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_file_system=existing_file_system,
                        file_system_props=file_system_props)
        self.file_system: efs.IFileSystem = existing_file_system or efs.FileSystem(self, "FileSystem", **merge({
            **defaults.file_system(profile, vpc, encryption_key),
            "file_system_policy": file_system_policy(),
            # CDK's "deny anonymous" switch adds a blanket ClientWrite + ClientRootAccess allow
            # for any client reaching a mount target; the policy above already refuses
            # anonymous clients (it allows nothing), so that statement stays out.
            "allow_anonymous_access": True,
            # Mount targets answer NFS; they never open connections.
            "security_group": ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
                                                description="EFS mount targets: NFS from mounting tiers only"),
        }, file_system_props))
        self.web_access_point = _access_point(self.file_system, self, "WebAccessPoint", "/web", WEB_UID)
        self.app_access_point = _access_point(self.file_system, self, "AppAccessPoint", "/app", APP_UID)

    def allow_from(self, peer: ec2.IConnectable) -> None:
        self.file_system.connections.allow_default_port_from(peer, "NFS from a tier that mounts shared files")

    def grant_mount(self, grantee: iam.IGrantable, access_point: efs.IAccessPoint, *, write: bool = False) -> iam.Grant:
        return grant_mount(self.file_system, grantee, access_point, write=write)


def grant_mount(file_system: efs.IFileSystem, grantee: iam.IGrantable, access_point: efs.IAccessPoint, *,
                write: bool = False) -> iam.Grant:
    """Mount through one access point only (IAM condition on the access point ARN); for callers
    that hold the file system as an interface (ours or an imported one)."""
    actions = ["elasticfilesystem:ClientMount"] + (["elasticfilesystem:ClientWrite"] if write else [])
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=actions, resource_arns=[file_system.file_system_arn],
        conditions={"StringEquals": {"elasticfilesystem:AccessPointArn": access_point.access_point_arn}},
    )

