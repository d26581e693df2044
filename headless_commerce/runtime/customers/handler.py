"""Lambda entry point for /me (profile, consents, push device)."""

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.customers import service
from headless_commerce.runtime.marketing import devices

handler = api_handler("customers", {
    "getProfile": lambda r: service.get_profile(r.user().sub, r.user().email),
    "updateProfile": lambda r: service.update_profile(r.user().sub, r.user().email, r.body),
    "putConsents": lambda r: service.put_consents(r.user().sub, r.user().email, r.body),
    "putPushDevice": lambda r: devices.register(r.user().sub, r.user().email, r.body["platform"], r.body["token"]),
    "deletePushDevice": lambda r: devices.unregister(r.user().sub, r.user().email),
})
