"""The commerce API's response cache (Valkey, TLS and a password) and the function that drops
cached catalog answers when products or stock change; `CacheInvalidation` is that function on
its own, which the storefront's cache (WebTier) uses too."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .. import model
from ..config import Profile
from ..runtime import routes, settings
from .event_bus import EventSubscription
from .python_functions import PythonFunctions
from .web_cache import WebCache

PACKAGE_DIR = Path(__file__).resolve().parent.parent
INVALIDATION_HANDLER = "headless_commerce.runtime.cache.invalidation.handler"
INVALIDATING_EVENTS = (model.EventName.PRODUCT_MODIFIED, model.EventName.INVENTORY_CHANGED)
# One redis-py pin for the storefront image and every function that talks to Valkey.
REDIS_PIN_FILE = PACKAGE_DIR / "runtime" / "storefront" / "requirements.txt"


def redis_requirements(path: Path = REDIS_PIN_FILE) -> list[str]:
    """The storefront container's own redis-py pin (pure Python, so the layer builds without Docker)."""
    pins = [line.strip() for line in path.read_text().splitlines() if line.strip().startswith("redis==")]
    if len(pins) != 1:
        raise ValueError(f"{path} must pin redis-py exactly once (redis==X.Y.Z), found {pins}")
    return pins


def cached_functions() -> tuple[str, ...]:
    """The API functions serving at least one route with a cache TTL."""
    return tuple(dict.fromkeys(r.function for r in routes.ROUTES if r.cache_ttl_s))


class CacheInvalidation(Construct):
    """`function` (subscribed to `ProductModified` and `InventoryChanged` on `bus`), `layer`
    (redis-py, reusable by other functions of the same factory) and `subscription`. It INCRs the
    generation counters (runtime/cache/keys.py) in `cache`, so a changed product's entries and
    every listing miss from then on.

    Parameters: `functions` (the PythonFunctions factory that builds the function, in the cache's
    VPC); `bus`; `cache` (WebCache); `encryption_key` (default None: AWS-managed keys for the
    subscription's queues).
    """

    def __init__(self, scope: Construct, id: str, *, functions: PythonFunctions, bus: events.IEventBus,
                 cache: WebCache, encryption_key: kms.IKey | None = None) -> None:
        super().__init__(scope, id)
        self.layer = functions.pip_layer(f"{id}RedisClient", requirements=redis_requirements(),
                                         description="redis-py for the Valkey response cache")
        self.function = functions.add(
            "cache_invalidation", handler=INVALIDATION_HANDLER, memory_mb=256, timeout_s=30,
            environment={settings.CACHE_URL: cache.url,
                         settings.CACHE_AUTH_SECRET_ARN: cache.auth_secret.secret_arn},
            extra_layers=[self.layer])
        cache.grant_auth(self.function)
        cache.connections.allow_default_port_from(self.function, "Cache invalidation to Valkey")
        self.subscription = EventSubscription(
            self, "Subscription", bus=bus, detail_types=list(INVALIDATING_EVENTS), consumer=self.function,
            encryption_key=encryption_key)


class ResponseCache(Construct):
    """`cache` (WebCache: Valkey Serverless or a node-based replication group, by profile),
    `invalidation` (CacheInvalidation). `connect(fn)` lets an API function use the cache: its
    CACHE_URL and password secret, the redis-py layer, and port access.

    The routes that are cached and for how long are declared in the route table (`cache_ttl_s`,
    public routes only); only anonymous 200 answers are stored (runtime/cache/responses.py).

    Parameters: `profile`; `vpc` (the functions' VPC: the cache lives in its isolated subnets);
    `functions` (the API's PythonFunctions factory); `bus` (where ProductModified and
    InventoryChanged are published); `encryption_key` (default None: AWS-managed keys);
    `node_type` and `cache_props` (see WebCache; default: the profile's node type).
    """

    def __init__(self, scope: Construct, id: str, *, profile: Profile, vpc: ec2.IVpc | None,
                 functions: PythonFunctions, bus: events.IEventBus, encryption_key: kms.IKey | None = None,
                 node_type: str | None = None, cache_props: dict | None = None) -> None:
        super().__init__(scope, id)
        if vpc is None:
            raise ValueError("ResponseCache: `vpc` is required: Valkey and the functions reaching it run in it")
        self.cache = WebCache(self, "Cache", profile=profile, vpc=vpc, encryption_key=encryption_key,
                              node_type=node_type, cache_props=cache_props, description="Commerce API response cache")
        self.invalidation = CacheInvalidation(self, "Invalidation", functions=functions, bus=bus, cache=self.cache,
                                              encryption_key=encryption_key)

    def connect(self, function: lambda_.Function) -> None:
        function.add_environment(settings.CACHE_URL, self.cache.url)
        function.add_environment(settings.CACHE_AUTH_SECRET_ARN, self.cache.auth_secret.secret_arn)
        function.add_layers(self.invalidation.layer)
        self.cache.grant_auth(function)
        self.cache.connections.allow_default_port_from(function, "API function to the response cache")
