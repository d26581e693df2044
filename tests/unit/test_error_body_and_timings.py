"""One error body for every answerer (handlers, API Gateway, local mode), and business timings
that Lambda sizing follows."""

from __future__ import annotations

import json

from headless_commerce import model
from headless_commerce.constructs.commerce_api import _GATEWAY_ERRORS, _error_template
from headless_commerce.local import http_adapter
from headless_commerce.runtime import routes
from headless_commerce.runtime.common.errors import error_body

API_GATEWAY_MESSAGE = '"Invalid request body"'   # what $context.error.messageString renders to


def test_gateway_responses_render_the_handlers_error_body():
    for _status, code, message in _GATEWAY_ERRORS.values():
        rendered = _error_template(code, message).replace(
            "$context.error.messageString", API_GATEWAY_MESSAGE)
        assert json.loads(rendered) == error_body(code, json.loads(
            message if message.startswith('"') else API_GATEWAY_MESSAGE))


def test_local_adapter_errors_are_the_handlers_error_body():
    status, headers, body = http_adapter.error(405, "method_not_allowed", "No")
    assert status == 405 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == error_body("method_not_allowed", "No")


def test_checkout_function_times_out_before_a_retry_may_resume_its_order():
    # A retry resumes a pending order only once its first invocation must be over.
    assert routes.FUNCTIONS["checkout"].timeout_s < model.CHECKOUT_RESUME_AFTER_S

