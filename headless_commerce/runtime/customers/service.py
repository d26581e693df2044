"""Customer profile and marketing consents (the caller's own only)."""

from __future__ import annotations

from headless_commerce import model
from headless_commerce.runtime.common.clock import now_iso
from headless_commerce.runtime.common.domain_errors import NotFound
from headless_commerce.runtime.customers import repository as customers

# What PATCH /me may change; the schema enforces the same list. Email belongs to Cognito.
EDITABLE_FIELDS = ("given_name", "family_name", "phone", "locale", "default_address")


def profile_view(profile: dict) -> dict:
    view = {"customer_id": profile["customer_id"], "email": profile.get("email"),
            "consents": profile.get("consents", {}), "created_at": profile["created_at"],
            "updated_at": profile["updated_at"]}
    view.update({f: profile[f] for f in EDITABLE_FIELDS if profile.get(f) is not None})
    return view


def _profile(sub: str, email: str | None) -> dict:
    """The profile; created here if the sign-up trigger has not run (or failed) for this user."""
    profile = customers.get_profile(sub)
    if profile is None:
        customers.create_profile(sub, email)
        profile = customers.get_profile(sub)
    return profile


def get_profile(sub: str, email: str | None) -> dict:
    return profile_view(_profile(sub, email))


def update_profile(sub: str, email: str | None, changes: dict) -> dict:
    _profile(sub, email)
    return profile_view(customers.update_profile(
        sub, {f: changes[f] for f in EDITABLE_FIELDS if f in changes}))


def put_consents(sub: str, email: str | None, consents: dict[str, bool]) -> dict:
    """Record consents and the CustomerConsentChanged event together."""
    previous = _profile(sub, email)
    now = now_iso()
    values = {c: bool(consents[c]) for c in model.CONSENT_CHANNELS}
    event = {"customer_id": sub, "consents": values,
             "previous": previous.get("consents", {}), "changed_at": now}
    if not customers.set_consents(sub, values, event, now):
        raise NotFound("Profile")
    return profile_view({**previous, "consents": values, "updated_at": now})
