"""The embedded AWS: moto's server in this process, and the resources local mode needs,
created from the shared definitions (model.py, routes.py, runtime/events/subscriptions.py).

moto's DynamoDB is patched once (local/moto_patches.py): atomic requests, transactions that roll
back in place, expiring stream iterators, queries that read one partition.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import threading
import urllib.request
from dataclasses import dataclass, field

from headless_commerce import model
from headless_commerce.local import moto_patches, state
from headless_commerce.local.subscriptions import (
    LOCAL_RULE_CONSUMERS,
    OMS_HANDOFF,
    event_pattern,
)
from headless_commerce.runtime import settings
from headless_commerce.runtime.events.subscriptions import MAX_RECEIVE_COUNT

DEFAULT_REGION = "us-east-1"
PREFIX = "hc-local"
LOCAL_ACCESS_KEY = "local"  # dummy credentials: moto accepts anything
QUEUE_VISIBILITY_TIMEOUT_S = 30


class EmbeddedAws:
    """moto's WSGI app on a werkzeug threaded server bound to loopback (port 0 = free)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args, **kwargs) -> None:  # one line per AWS call is noise
                pass

        moto_patches.apply()
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-aws",
                                        daemon=True)

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{port}"

    def start(self) -> EmbeddedAws:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class QueuePair:
    url: str
    arn: str
    dead_letter_url: str
    dead_letter_arn: str


@dataclass
class Resources:
    region: str
    endpoint_url: str
    table_name: str
    ledger_table_name: str
    audience_table_name: str
    bus_name: str
    user_pool_id: str
    user_pool_client_id: str
    payment_secret_arn: str
    jwks: dict
    oms_buffer: QueuePair
    oms_queue: QueuePair
    consumer_queues: dict[str, QueuePair] = field(default_factory=dict)
    marketing_table_name: str = ""
    marketing_jobs: QueuePair | None = None

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    def handler_environment(self) -> dict[str, str]:
        """What the functions read (runtime/settings.py names them).
        DEAD_LETTER_QUEUE_URL differs per consumer: the poller sets it around each call."""
        return {
            settings.TABLE_NAME: self.table_name,
            settings.PAYMENT_PROVIDER: "sandbox",
            settings.PAYMENT_SECRET_ARN: self.payment_secret_arn,
            settings.EVENT_BUS_NAME: self.bus_name,
            settings.CONSENT_LEDGER_TABLE_NAME: self.ledger_table_name,
            settings.AUDIENCE_TABLE_NAME: self.audience_table_name,
            settings.MARKETING_TABLE_NAME: self.marketing_table_name,
        }


def aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """Process environment pointing every boto3 client (handlers included) at the embedded AWS."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": LOCAL_ACCESS_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@functools.cache
def _session():
    # One session for local mode's own clients: each new session parses botocore's service
    # models again (seconds of start-up). Clients are made at start-up, on one thread.
    import boto3

    return boto3.session.Session()


def _client(service: str, endpoint_url: str, region: str):
    return _session().client(
        service, endpoint_url=endpoint_url, region_name=region,
        aws_access_key_id=LOCAL_ACCESS_KEY, aws_secret_access_key=LOCAL_ACCESS_KEY)


def _queue_pair(sqs, name: str, *, fifo: bool = False) -> QueuePair:
    suffix = ".fifo" if fifo else ""
    fifo_attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "false"} if fifo else {}
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq{suffix}", Attributes=fifo_attrs)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=f"{name}{suffix}", Attributes={
        **fifo_attrs,
        "VisibilityTimeout": str(QUEUE_VISIBILITY_TIMEOUT_S),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                     "maxReceiveCount": MAX_RECEIVE_COUNT}),
    })["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return QueuePair(url, arn, dlq_url, dlq_arn)


def _rule(events, bus: str, name: str, pattern: dict, queue: QueuePair) -> None:
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue.arn}])


def enable_stream(resources: Resources) -> str:
    """Switch on the commerce table's stream as model.table_definition_kwargs() defines it
    (unless a kept table has it already); returns the stream ARN."""
    dynamodb = _client("dynamodb", resources.endpoint_url, resources.region)
    existing = dynamodb.describe_table(TableName=resources.table_name)["Table"]
    if existing.get("LatestStreamArn"):
        return existing["LatestStreamArn"]
    spec = model.table_definition_kwargs()["StreamSpecification"]
    table = dynamodb.update_table(TableName=resources.table_name, StreamSpecification=spec)
    return table["TableDescription"]["LatestStreamArn"]


def fetch_jwks(endpoint_url: str, user_pool_id: str) -> dict:
    with urllib.request.urlopen(f"{endpoint_url}/{user_pool_id}/.well-known/jwks.json",
                                timeout=10) as response:
        return json.loads(response.read())


def create_resources(endpoint_url: str, region: str = DEFAULT_REGION,
                     prefix: str = PREFIX, kept: state.Kept | None = None) -> Resources:
    """Everything local mode uses. With `kept` (a --data-dir restart) the tables, user pool and
    secret are already there (local/state.restore); queues, bus and rules are made anew."""
    if kept is None:
        table_name, ledger, audience = _create_tables(endpoint_url, region, prefix)
        pool_id, client_id = _create_user_pool(endpoint_url, region, prefix)
        secret_arn = _client("secretsmanager", endpoint_url, region).create_secret(
            Name=f"{prefix}/payment-provider",
            SecretString=json.dumps({"api_key": "", "webhook_secret": secrets.token_hex(32)}),
        )["ARN"]
    else:
        table_name, ledger, audience = (kept.table_name, kept.ledger_table_name,
                                        kept.audience_table_name)
        pool_id, client_id = kept.user_pool_id, kept.user_pool_client_id
        secret_arn = kept.payment_secret_arn

    sqs = _client("sqs", endpoint_url, region)
    events = _client("events", endpoint_url, region)
    bus = f"{prefix}-bus"
    events.create_event_bus(Name=bus)
    oms_buffer = _queue_pair(sqs, f"{prefix}-oms-buffer")
    oms_queue = _queue_pair(sqs, f"{prefix}-oms", fifo=True)
    _rule(events, bus, f"{prefix}-oms-order-placed", OMS_HANDOFF.event_pattern(), oms_buffer)
    consumer_queues = {}
    for consumer in LOCAL_RULE_CONSUMERS:
        queue = _queue_pair(sqs, f"{prefix}-{consumer.name.replace('_', '-')}")
        _rule(events, bus, f"{prefix}-{consumer.name}", event_pattern(consumer), queue)
        consumer_queues[consumer.name] = queue

    marketing_table = _marketing_table(endpoint_url, region, prefix)
    marketing_jobs = _queue_pair(sqs, f"{prefix}-marketing-jobs")
    return Resources(
        marketing_table_name=marketing_table, marketing_jobs=marketing_jobs,
        region=region, endpoint_url=endpoint_url, table_name=table_name,
        ledger_table_name=ledger, audience_table_name=audience, bus_name=bus,
        user_pool_id=pool_id, user_pool_client_id=client_id, payment_secret_arn=secret_arn,
        jwks=fetch_jwks(endpoint_url, pool_id), oms_buffer=oms_buffer, oms_queue=oms_queue,
        consumer_queues=consumer_queues)


def _create_tables(endpoint_url: str, region: str, prefix: str) -> tuple[str, str, str]:
    dynamodb = _client("dynamodb", endpoint_url, region)
    table_name = f"{prefix}-commerce"
    # The stream is switched on after seeding (enable_stream): the deployed pipe starts at
    # TRIM_HORIZON, and thousands of seed records would only be read to be filtered out.
    definition = model.table_definition_kwargs()
    definition.pop("StreamSpecification")
    dynamodb.create_table(TableName=table_name, **definition)
    ledger, audience = f"{prefix}-consent-ledger", f"{prefix}-audience"
    dynamodb.create_table(TableName=ledger, **model.consent_ledger_table_kwargs())
    dynamodb.create_table(TableName=audience, **model.audience_table_kwargs())
    return table_name, ledger, audience


def _marketing_table(endpoint_url: str, region: str, prefix: str) -> str:
    """The Marketing construct's table; a --data-dir kept from before marketing gets it now."""
    dynamodb = _client("dynamodb", endpoint_url, region)
    name = f"{prefix}-marketing"
    if name not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(TableName=name, **model.marketing_table_kwargs())
    return name


def _create_user_pool(endpoint_url: str, region: str, prefix: str) -> tuple[str, str]:
    cognito = _client("cognito-idp", endpoint_url, region)
    pool_id = cognito.create_user_pool(
        PoolName=f"{prefix}-users", UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireUppercase": True,
                                     "RequireLowercase": True, "RequireNumbers": True,
                                     "RequireSymbols": True}},
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName=f"{prefix}-web", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH",
                           "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def kept_ids(resources: Resources, relay_positions: dict[str, str | None]) -> state.Kept:
    """What a --data-dir restart reuses."""
    r = resources
    return state.Kept(region=r.region, table_name=r.table_name,
                      ledger_table_name=r.ledger_table_name,
                      audience_table_name=r.audience_table_name, user_pool_id=r.user_pool_id,
                      user_pool_client_id=r.user_pool_client_id,
                      payment_secret_arn=r.payment_secret_arn, relay_positions=relay_positions)


def apply_environment(resources: Resources, *, allowed_origin: str = "*") -> None:
    """Point this process's handlers at the embedded AWS and the local resources."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", settings.DAX_ENDPOINT, "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(aws_environment(resources.endpoint_url, resources.region))
    os.environ.update(resources.handler_environment())
    os.environ.setdefault(settings.ALLOWED_ORIGIN, allowed_origin)
    os.environ.setdefault(settings.POWERTOOLS_SERVICE_NAME, "headless-commerce-local")
    from headless_commerce.runtime.catalog import repository as catalog_repository
    from headless_commerce.runtime.common import aws

    aws.reset_clients()
    catalog_repository.catalog_reader.cache_clear()


def create_storefront_tables(endpoint_url: str, region: str, prefix: str = PREFIX) -> tuple[str, str]:
    """The storefront's session and feature-flag tables (kept ones are reused as they are)."""
    dynamodb = _client("dynamodb", endpoint_url, region)
    sessions, flags = f"{prefix}-storefront-sessions", f"{prefix}-storefront-flags"
    existing = set(dynamodb.list_tables()["TableNames"])
    if sessions not in existing:
        dynamodb.create_table(TableName=sessions, **model.session_table_kwargs())
        dynamodb.update_time_to_live(TableName=sessions, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": model.SESSION_TTL_ATTRIBUTE})
    if flags not in existing:
        dynamodb.create_table(TableName=flags, **model.flags_table_kwargs())
    return sessions, flags
