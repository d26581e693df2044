"""Commerce: identity and the commerce services. Depends on Foundation."""

from __future__ import annotations

from aws_cdk import CfnOutput
from aws_cdk import aws_kms as kms
from constructs import Construct

from ..constructs.app_tier import AppTier
from ..constructs.identity import Identity
from ._base import CommerceStackBase
from .foundation_stack import FoundationStack


class CommerceStack(CommerceStackBase):
    def __init__(self, scope: Construct, id: str, *, foundation: FoundationStack,
                 dax_enabled: bool | None = None, allowed_origins: tuple[str, ...] = ("*",),
                 payment_provider: str = "sandbox", **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.add_stack_dependency(foundation, reason="Commerce runs in Foundation's VPC and uses its key")
        self.identity = Identity(self, "Identity", profile=self.profile)
        # Imported by ARN: grants then go to this stack's role policies (the key policy already
        # delegates to IAM), instead of editing Foundation's key policy and pointing back up.
        key = kms.Key.from_key_arn(self, "SharedKey", foundation.encryption.key.key_arn)
        self.app_tier = AppTier(self, "AppTier", profile=self.profile, identity=self.identity,
                                vpc=foundation.network.vpc, encryption_key=key,
                                dax_enabled=dax_enabled, allowed_origins=allowed_origins,
                                payment_provider=payment_provider)
        CfnOutput(self, "ApiUrl", value=self.app_tier.api.url)
        CfnOutput(self, "UserPoolId", value=self.identity.user_pool.user_pool_id)
        CfnOutput(self, "WebClientId", value=self.identity.web_client.user_pool_client_id)
        CfnOutput(self, "MobileClientId", value=self.identity.mobile_client.user_pool_client_id)
