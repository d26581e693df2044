"""What every stack of the reference app shares: profile, AZ choice, tags."""

from __future__ import annotations

from aws_cdk import Aspects, Fn, Stack, Tags
from constructs import Construct

from ..config import Profile
from ..constructs._checkov import CdkProviderCheckovSkips
from ..constructs._depends_on import DropRedundantDependsOn
from ..constructs._iam import ManagedGrantPolicies


class CommerceStackBase(Stack):
    """A stack that picks its AZs without a context lookup.

    CDK's default looks AZs up (an AWS call) when account and region are known, and caps an
    environment-agnostic stack at two. Selecting from `Fn::GetAZs` at deploy time gives the
    profile's count everywhere with no call at synth; explicit names win when given, and the
    prod profile requires them.
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile,
                 availability_zones: tuple[str, ...] | None = None, **kwargs) -> None:
        self._profile = profile
        self._zones = availability_zones
        super().__init__(scope, id, **kwargs)
        Tags.of(self).add("app", "headless-commerce")
        Tags.of(self).add("profile", profile.name)
        Aspects.of(self).add(ManagedGrantPolicies())
        Aspects.of(self).add(CdkProviderCheckovSkips())
        Aspects.of(self).add(DropRedundantDependsOn())

    @property
    def profile(self) -> Profile:
        return self._profile

    @property
    def availability_zones(self) -> list[str]:
        if self._zones:
            return list(self._zones[: self._profile.az_count])
        if self._profile.is_production:
            # GetAZs lists only zones with a default subnet and may reorder them: an out-of-range
            # select fails the stack, a reorder replaces subnets. Fine for a trial, not for a shop.
            raise ValueError(f"{self.node.id}: the {self._profile.name} profile needs availability_zones "
                             f"(explicit names, e.g. us-east-1a,us-east-1b,us-east-1c)")
        return [Fn.select(i, Fn.get_azs()) for i in range(self._profile.az_count)]
