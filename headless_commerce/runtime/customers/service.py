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


def ensure_profile(sub: str, email: str | None) -> dict:
    """The profile; created here if the sign-up trigger has not run (or failed) for this user."""
    profile = customers.get_profile(sub)
    if profile is None:
        customers.create_profile(sub, email)
        profile = customers.get_profile(sub)
    return profile


def get_profile(sub: str, email: str | None) -> dict:
    return profile_view(ensure_profile(sub, email))


def update_profile(sub: str, email: str | None, changes: dict) -> dict:
    """Change profile fields and record CustomerProfileChanged (naming the fields, never their
    values) with them."""
    previous = ensure_profile(sub, email)
    fields = {f: changes[f] for f in EDITABLE_FIELDS if f in changes}
    if not fields:
        return profile_view(previous)
    now = now_iso()
    event = {"customer_id": sub, "fields": sorted(fields), "changed_at": now}
    if not customers.record_profile_change(sub, fields, event, now):
        raise NotFound("Profile")
    return profile_view({**previous, **fields, "updated_at": now})


def put_consents(sub: str, email: str | None, consents: dict[str, bool]) -> dict:
    """Record consents and the CustomerConsentChanged event together."""
    return _record_consents(ensure_profile(sub, email), {c: bool(consents[c]) for c in model.CONSENT_CHANNELS})


def withdraw_consent(sub: str, channel: str) -> dict:
    """One channel's consent off (an unsubscribe link); nothing is written when it already is."""
    profile = customers.get_profile(sub)
    if profile is None:
        raise NotFound("Profile")
    current = {c: bool((profile.get("consents") or {}).get(c)) for c in model.CONSENT_CHANNELS}
    if not current[channel]:
        return profile_view(profile)
    return _record_consents(profile, {**current, channel: False})


def _record_consents(previous: dict, values: dict[str, bool]) -> dict:
    sub = previous["customer_id"]
    now = now_iso()
    event = {"customer_id": sub, "consents": values,
             "previous": previous.get("consents", {}), "changed_at": now}
    if not customers.set_consents(sub, values, event, now):
        raise NotFound("Profile")
    return profile_view({**previous, "consents": values, "updated_at": now})
