"""boto3 calls from the local-mode process to its own embedded AWS, without the socket.

The handlers run in the same process as moto. Over HTTP every call paid for a TCP connection
(moto's werkzeug server closes each one), a thread, and werkzeug/Flask request handling on
top of moto's own work; here a botocore `before-send` hook hands the signed request straight
to the moto response class the server would have dispatched it to, and returns its answer as
the HTTP response botocore expects. Same moto code, same patches, same request lock, same
answers; clients outside the process (a developer's boto3, the tests) still use the endpoint.

moto's mock_aws does the same through its botocore stubber, but only for *.amazonaws.com URLs
and together with resetting and patching the whole process; this routes only requests for
the embedded endpoint, by the botocore service of the client.

botocore then parses each answer by walking its output shape, value by value: for DynamoDB
item responses (every attribute a small tagged object) that was as much CPU time as moto's
own work. Where moto_patches marked an answer as plain JSON (no binary values, no timestamps:
the parse would return exactly what json.loads does), the parse is json.loads.

Requests to the embedded endpoint are not signed: moto never checks a signature, and working
one out (a canonical request, a hash of the body, four HMACs) was a fifth of the CPU time of
a small call. They carry the headers signing sets and an Authorization header naming the
access key, date, region and service (what moto reads) with a signature of zeros. Requests
to any other endpoint are signed as always.
"""

from __future__ import annotations

import json
import threading

from headless_commerce.local.moto_patches import PLAIN_JSON_HEADER

_lock = threading.Lock()
_endpoints: set[str] = set()
_installed = False


def _dispatchers() -> dict:
    """botocore service id (as in event names) -> moto's dispatch for its JSON endpoint."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.events.responses import EventsHandler
    from moto.secretsmanager.responses import SecretsManagerResponse
    from moto.sqs.responses import SQSResponse

    return {"dynamodb": DynamoHandler.dispatch,
            "dynamodb-streams": DynamoDBStreamsHandler.dispatch,
            "eventbridge": EventsHandler.dispatch,
            "secrets-manager": SecretsManagerResponse.dispatch,
            "sqs": SQSResponse.dispatch}


def install(endpoint_url: str) -> None:
    """Route this process's boto3 calls to `endpoint_url` in-process (clients made from now
    on; services without a dispatcher here keep using HTTP)."""
    global _installed
    from botocore.handlers import BUILTIN_HANDLERS

    with _lock:
        _endpoints.add(endpoint_url.rstrip("/") + "/")
        if not _installed:
            dispatchers = _dispatchers()
            BUILTIN_HANDLERS.append(("before-send", _Hook(dispatchers)))
            _parse_plain_json()
            _sign_locally()
            _installed = True


def _parse_plain_json() -> None:
    from botocore.parsers import JSONParser

    original = JSONParser._do_parse

    def do_parse(self, response, shape):
        if (response["headers"].get(PLAIN_JSON_HEADER) == "1" and shape is not None
                and not shape.event_stream_name):
            parsed = json.loads(response["body"])
            self._inject_response_metadata(parsed, response["headers"])
            return parsed
        return original(self, response, shape)

    JSONParser._do_parse = do_parse


def _embedded(url: str) -> bool:
    return any(url.startswith(prefix) for prefix in _endpoints)


UNCHECKED_SIGNATURE = "0" * 64


def _sign_locally() -> None:
    from botocore import auth

    original = auth.SigV4Auth.add_auth

    def add_auth(self, request):
        if type(self) is not auth.SigV4Auth or self.credentials is None or not _embedded(request.url):
            return original(self, request)
        # As SigV4Auth.add_auth, without the signature.
        request.context["timestamp"] = auth.get_current_datetime().strftime(auth.SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.scope(request)}, SignedHeaders=host;x-amz-date, "
            f"Signature={UNCHECKED_SIGNATURE}")

    auth.SigV4Auth.add_auth = add_auth


class _Hook:
    def __init__(self, dispatchers: dict) -> None:
        self._dispatchers = dispatchers

    def __call__(self, request, event_name: str = "", **kwargs):
        url = request.url
        if not _embedded(url):
            return None
        dispatch = self._dispatchers.get(event_name.split(".")[1] if "." in event_name else "")
        if dispatch is None:
            return None
        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse
        from moto.core.exceptions import HTTPException
        from moto.core.request import normalize_request

        normalized = normalize_request(request)
        normalized.from_botocore = True       # moto_patches: parsed as botocore serialized it
        try:
            status, headers, body = dispatch(normalized, normalized.raw_url, normalized.headers)
        except HTTPException as problem:      # as moto's server and stubber answer it
            status, headers, body = problem.code, problem.get_headers(), problem.get_body()
        return AWSResponse(url, status, dict(headers), MockRawResponse(body))
