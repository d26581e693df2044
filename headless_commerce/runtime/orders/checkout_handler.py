"""Lambda entry point for POST /checkout."""

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.common.idempotency import parse_key
from headless_commerce.runtime.orders import checkout


def _checkout(request):
    user = request.user()
    return checkout.checkout(user.sub, user.email, parse_key(request.headers), request.body)


handler = api_handler("checkout", {"checkout": _checkout})
