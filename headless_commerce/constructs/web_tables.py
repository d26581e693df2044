"""The storefront's own tables: shopper sessions (expiring through TTL) and feature flags."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .. import model
from ..config import Profile
from ._iam import grant_table_actions
from ._props import check_exclusive
from ._tables import secure_table

# Exactly what the storefront does with each table (runtime/storefront/sessions.py, flags.py):
# sessions are read, written whole and deleted; the few flags are read in one scan.
SESSION_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")
FLAG_ACTIONS = ("dynamodb:Scan",)

LOCKED = {
    "partition_key": "the storefront reads sessions by `session_id` and flags by `flag`",
    "time_to_live_attribute": f"sessions expire through `{model.SESSION_TTL_ATTRIBUTE}`",
}


class WebTables(Construct):
    """`session_table` (partition key `session_id`, TTL `expires_at`) and `flags_table`
    (partition key `flag`): on demand, CMK-encrypted, PITR and deletion protection per profile.

    Parameters: `profile`; `encryption_key` (default None: AWS-managed table keys);
    `existing_session_table` / `existing_flags_table` (default None: new tables; typed
    dynamodb.ITableV2, they must have the keys above) or `session_table_props` /
    `flags_table_props` (overrides; the keys and the TTL attribute are locked).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, encryption_key: kms.IKey | None = None,
                 existing_session_table: dynamodb.ITableV2 | None = None, session_table_props: dict | None = None,
                 existing_flags_table: dynamodb.ITableV2 | None = None,
                 flags_table_props: dict | None = None) -> None:
        super().__init__(scope, id)
        check_exclusive(type(self).__name__, existing_session_table=existing_session_table,
                        session_table_props=session_table_props, existing_flags_table=existing_flags_table,
                        flags_table_props=flags_table_props)
        refused = sorted(set(session_table_props or {}) | set(flags_table_props or {}))
        refused = [name for name in refused if name in LOCKED or name == "sort_key"]
        if refused:
            raise ValueError(f"WebTables: table props cannot change {', '.join(refused)}: the storefront depends "
                             f"on them ({'; '.join(LOCKED.get(n, 'tables have no sort key') for n in refused)})")
        self.session_table: dynamodb.ITableV2 = existing_session_table or secure_table(
            self, "SessionTable", definition=model.session_table_kwargs(), profile=profile,
            encryption_key=encryption_key, time_to_live_attribute=model.SESSION_TTL_ATTRIBUTE,
            **(session_table_props or {}))
        self.flags_table: dynamodb.ITableV2 = existing_flags_table or secure_table(
            self, "FlagsTable", definition=model.flags_table_kwargs(), profile=profile,
            encryption_key=encryption_key, **(flags_table_props or {}))

    def grant_storefront(self, grantee: iam.IGrantable) -> None:
        """Sessions read and written; flags read only (operators set them)."""
        grant_table_actions(self.session_table, grantee, SESSION_ACTIONS)
        grant_table_actions(self.flags_table, grantee, FLAG_ACTIONS)
