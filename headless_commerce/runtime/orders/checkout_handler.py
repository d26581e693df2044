"""Lambda entry point for POST /checkout."""

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.common.idempotency import parse_key
from headless_commerce.runtime.fraud import scorer
from headless_commerce.runtime.orders import checkout

# At cold start: a bad FRAUD_* setting fails the function's init with the variable's name,
# not the first shopper's checkout.
scorer.from_environment()


def _checkout(request):
    user = request.user()
    return checkout.checkout(user.sub, user.email, parse_key(request.headers), request.body,
                             source_ip=request.source_ip)


handler = api_handler("checkout", {"checkout": _checkout})
