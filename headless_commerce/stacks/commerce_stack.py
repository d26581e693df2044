"""Commerce: identity and the commerce services. Depends on Foundation."""

from __future__ import annotations

from constructs import Construct

from ..constructs.identity import Identity
from ._base import CommerceStackBase
from .foundation_stack import FoundationStack


class CommerceStack(CommerceStackBase):
    def __init__(self, scope: Construct, id: str, *, foundation: FoundationStack, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.add_stack_dependency(foundation, reason="Commerce runs in Foundation's VPC and uses its key")
        self.identity = Identity(self, "Identity", profile=self.profile)
