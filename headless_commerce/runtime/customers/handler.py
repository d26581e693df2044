"""Lambda entry point for /me."""

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.customers import service

handler = api_handler("customers", {
    "getProfile": lambda r: service.get_profile(r.user().sub, r.user().email),
    "updateProfile": lambda r: service.update_profile(r.user().sub, r.user().email, r.body),
    "putConsents": lambda r: service.put_consents(r.user().sub, r.user().email, r.body),
})
