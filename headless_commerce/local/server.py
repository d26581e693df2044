"""Local mode, put together: bind the API port and serve (503 `starting` until ready), start
the embedded AWS, create resources (or restore them from --data-dir), seed the catalog, start
the event flow. `LocalCommerce.stop()` undoes it in reverse, saving the state to --data-dir."""

from __future__ import annotations

import ctypes
import hashlib
import html
import logging
import os
import re
import threading
import time
from dataclasses import dataclass

from headless_commerce.local import aws as embedded
from headless_commerce.local import aws_transport, demo_catalog, feeds, moto_patches, seed, state
from headless_commerce.local import chatbot as local_chatbot
from headless_commerce.local import location as local_location
from headless_commerce.local import recommendations as local_recommendations
from headless_commerce.local import search as local_search
from headless_commerce.local.api_docs import ApiDocs
from headless_commerce.local.auth import TokenVerifier
from headless_commerce.local.courier_simulator import SIMULATE_PATH, CourierSimulator
from headless_commerce.local.events import OmsPipe, QueuePoller, ScheduledInvoker, StreamRelay
from headless_commerce.local.http_adapter import (
    LocalApi,
    Response,
    Traffic,
    import_handler,
    make_server,
)
from headless_commerce.local.marketing import OUTBOX_PATH, AbandonedCartSchedule, LocalMarketing
from headless_commerce.local.storefront import LocalStorefront
from headless_commerce.local.subscriptions import (
    LOCAL_RULE_CONSUMERS,
    OMS_CONSUMER,
    RELAY_HANDLER,
)
from headless_commerce.runtime import routes, settings
from headless_commerce.runtime.marketing import names as marketing
from headless_commerce.runtime.openapi import openapi_document

log = logging.getLogger("headless_commerce.local")
WELL_KNOWN_PATH = "/.well-known/headless-commerce.json"
OPENAPI_PATH = "/openapi.json"
SWEEP_INTERVAL_S = 60.0
STREAM_READERS = ("outbox-relay", "search-indexer")
STOP_GRACE_S = 2.0          # what stop() waits for busy threads, all together
SAVE_INTERVAL_S = 30.0     # with --data-dir: at most this much is lost if the process is killed
LOOPBACK = "127.0.0.1"
_ASSET = re.compile(r"^/assets/products/([A-Za-z0-9][A-Za-z0-9._:-]{0,63})\.svg$")


def placeholder_image(path: str) -> Response | None:
    """A generated SVG for /assets/products/<id>.svg (CloudFront serves /assets/* from S3)."""
    found = _ASSET.match(path)
    if not found:
        return None
    name = found.group(1)
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 360
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600" viewBox="0 0 600 600">'
           f'<rect width="600" height="600" fill="hsl({hue},45%,82%)"/>'
           f'<text x="300" y="310" font-family="sans-serif" font-size="48" text-anchor="middle" '
           f'fill="hsl({hue},45%,25%)">{html.escape(name)}</text></svg>').encode()
    return 200, {"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=3600"}, svg


MALLOC_ARENAS = 2
_M_ARENA_MAX = -8           # glibc's mallopt parameter number (malloc.h)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (unless MALLOC_ARENA_MAX is set).

    glibc gives threads their own arenas, up to 8 per core, and the memory freed in one is
    not handed back to the others: with a thread per connection, the pollers and tantivy's
    threads, local mode's resident memory climbed by 100-200 MB to a plateau where two arenas
    stay flat. Malloc-heavy threads share an arena here at no measurable cost. False where
    the C library has no such setting (not glibc)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(_M_ARENA_MAX, arenas) == 1


@dataclass
class Started:
    api_url: str
    aws_endpoint_url: str
    region: str
    categories: int | None      # None: the catalog was kept in --data-dir, not seeded
    products: int | None
    storefront_url: str | None = None
    cache: str | None = None    # which cache the storefront uses, for the banner


class LocalCommerce:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, catalog: dict | None = None,
                 region: str = embedded.DEFAULT_REGION, poll_interval: float = 0.2,
                 data_dir: str | None = None, storefront_port: int | None = 0) -> None:
        limit_malloc_arenas()     # before this process starts its threads
        # A data directory that cannot be used fails first (state.StateError), then a busy
        # port (OSError), before anything else starts.
        self.data_dir = data_dir
        self.saved = state.load(data_dir) if data_dir else None
        if self.saved is not None and self.saved.kept.region != region:
            raise state.StateError(f"{data_dir} holds a store in region {self.saved.kept.region}"
                                   f", not {region}: pass --region {self.saved.kept.region}")
        self.http = make_server(host, port)
        self.http.keep_alive = True
        # storefront_port None: API only (the API's own tests need no storefront).
        try:
            self.storefront = (LocalStorefront(host, storefront_port)
                               if storefront_port is not None else None)
        except OSError as error:
            self.http.server_close()
            error.storefront = True     # the CLI names the port that is busy
            raise
        self.host, self.region = host, region
        self.catalog = catalog if catalog is not None else demo_catalog.generate()
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.aws: embedded.EmbeddedAws | None = None
        self.resources: embedded.Resources | None = None
        self.pollers: dict[str, threading.Thread] = {}
        self._serving = False
        self.marketing: LocalMarketing | None = None

    @property
    def api_url(self) -> str:
        return self.http.url

    def well_known(self) -> dict:
        r = self.resources
        return {"api_url": self.api_url,
                "storefront_url": self.storefront.url if self.storefront is not None else None,
                "aws_endpoint_url": r.endpoint_url, "region": r.region,
                "user_pool_id": r.user_pool_id, "user_pool_client_id": r.user_pool_client_id}

    def openapi(self) -> dict:
        document = openapi_document()
        document["servers"] = [{"url": self.api_url, "description": "local mode"}]
        return document

    def start(self) -> Started:
        # Serving at once: a request during start-up gets 503 `starting` with Retry-After.
        server = threading.Thread(target=self.http.serve_forever, name="local-api", daemon=True)
        server.start()
        self._serving = True
        self._threads.append(server)
        # The embedded AWS accepts any credentials: it listens on loopback whatever --host is.
        self.aws = embedded.EmbeddedAws(LOOPBACK).start()
        aws_transport.install(self.aws.endpoint_url)    # this process's own calls skip HTTP
        kept = self.saved.kept if self.saved else None
        if self.saved is not None:
            state.restore(self.saved)
            self.saved = None         # the backends own it now
        self.resources = r = embedded.create_resources(self.aws.endpoint_url, self.region,
                                                       kept=kept)
        embedded.apply_environment(r)
        local_recommendations.install(embedded._client("dynamodb", r.endpoint_url, r.region), embedded.PREFIX)
        local_chatbot.install()
        self.location = local_location.install(embedded._client("dynamodb", r.endpoint_url, r.region),
                                               embedded.PREFIX)
        self.marketing = LocalMarketing(self.data_dir)
        os.environ.update(self.marketing.environment(api_url=self.api_url, table_name=r.marketing_table_name,
                                                     jobs_queue_url=r.marketing_jobs.url,
                                                     sns=embedded._client("sns", r.endpoint_url, r.region)))
        categories, products = seed.seed(self.catalog, r.table_name, r.region) if kept is None else (None, None)
        # Search loads what was just seeded, or reads a kept table back.
        self.search = local_search.install(self.catalog if kept is None else None)
        self._start_event_flow(r, kept.relay_positions if kept else None)
        if self.data_dir:
            self.save()    # the ids of a new store are on disk at once
            saver = threading.Thread(target=self._autosave, name="state-saver", daemon=True)
            saver.start()
            self._threads.append(saver)
        self.http.api = LocalApi(
            verifier=TokenVerifier(r.jwks, issuer=r.issuer, client_id=r.user_pool_client_id),
            documents={WELL_KNOWN_PATH: self.well_known, OPENAPI_PATH: self.openapi,
                       OUTBOX_PATH: self.marketing.listing},
            actions={local_search.REINDEX_PATH: local_search.reindex,
                     SIMULATE_PATH: CourierSimulator(self._stop).simulate},
            assets=placeholder_image, pages=ApiDocs(self.openapi),
            allowed_origin=os.environ.get(settings.ALLOWED_ORIGIN, "*"),
            user_pool_id=r.user_pool_id, region=r.region)
        cache = None
        if self.storefront is not None:
            sessions, flags = embedded.create_storefront_tables(r.endpoint_url, r.region)
            cache = self.storefront.start(api_url=self.api_url, session_table=sessions,
                                          flags_table=flags,
                                          user_pool_client_id=r.user_pool_client_id)
        return Started(self.api_url, r.endpoint_url, r.region, categories, products,
                       self.storefront.url if self.storefront is not None else None, cache)

    def save(self) -> None:
        relay = self.pollers.get("outbox-relay")
        positions = relay.positions if relay is not None else {}
        state.save(self.data_dir, embedded.kept_ids(self.resources, positions))

    def _fingerprint(self) -> tuple:
        from moto.cognitoidp.models import cognitoidp_backends
        from moto.core import DEFAULT_ACCOUNT_ID

        pools = cognitoidp_backends[DEFAULT_ACCOUNT_ID][self.region].user_pools
        return (moto_patches.write_version(), sum(len(p.users) for p in list(pools.values())),
                tuple(sorted(self.pollers["outbox-relay"].positions.items())))

    def _autosave(self) -> None:
        last = self._fingerprint()
        while not self._stop.wait(SAVE_INTERVAL_S):
            current = self._fingerprint()
            if current != last:
                try:
                    self.save()
                    last = current
                except Exception:        # e.g. the disk is full: keep serving, retry later
                    log.exception("saving the state to %s failed", self.data_dir)

    def _trim_stream(self, stream_arn: str, relayed: str) -> None:
        """Drop the stream records every reader of the stream (the outbox relay, the search
        indexer) has passed: moto would keep them, with their item images, forever."""
        read = [relayed]
        for name in STREAM_READERS:
            poller = self.pollers.get(name)
            if poller is not None:
                read += list(poller.positions.values())
        if None not in read:
            moto_patches.trim_stream(stream_arn, min(read, key=int))

    def _start_event_flow(self, r: embedded.Resources,
                          relay_positions: dict[str, str | None] | None) -> None:
        client = embedded._client
        streams = client("dynamodbstreams", r.endpoint_url, r.region)
        stream_arn = embedded.enable_stream(r)   # after seeding: see create_resources
        common = {"stop": self._stop, "interval": self.poll_interval}
        self.pollers["outbox-relay"] = StreamRelay(
            streams=streams, events=client("events", r.endpoint_url, r.region),
            table_stream_arn=stream_arn, bus_name=r.bus_name, region=r.region,
            relay=import_handler(RELAY_HANDLER), positions=relay_positions,
            trim=self._trim_stream, **common)
        self.pollers["search-indexer"] = local_search.SearchIndexerPoller(
            streams=streams, table_stream_arn=stream_arn, region=r.region, **common)
        self.pollers["oms-pipe"] = OmsPipe(sqs=client("sqs", r.endpoint_url, r.region),
                                           buffer_url=r.oms_buffer.url, fifo_url=r.oms_queue.url,
                                           **common)
        consumers = [(OMS_CONSUMER.name, OMS_CONSUMER.handler, r.oms_queue),
                     (marketing.JOBS_FUNCTION, marketing.JOBS_HANDLER, r.marketing_jobs)] + [
            (c.name, c.handler, r.consumer_queues[c.name]) for c in LOCAL_RULE_CONSUMERS]
        for name, handler, queue in consumers:
            self.pollers[name] = QueuePoller(
                name, sqs=client("sqs", r.endpoint_url, r.region), queue_url=queue.url,
                queue_arn=queue.arn, region=r.region, handler=import_handler(handler),
                environment={settings.DEAD_LETTER_QUEUE_URL: queue.dead_letter_url}, **common)
        # MSK's stand-in: `feed publish --local` -> inbox -> MSK-shaped batches -> the consumers.
        self.pollers.update(feeds.pollers(client("sqs", r.endpoint_url, r.region), r.region,
                                          import_handler=import_handler, **common))
        self.pollers["marketing-schedule"] = AbandonedCartSchedule(
            sqs=client("sqs", r.endpoint_url, r.region), queue_url=r.marketing_jobs.url, stop=self._stop)
        # The deployed sweeper runs every 5 minutes; locally once a minute keeps demos snappy.
        sweeper = routes.ORDER_SWEEPER
        self.pollers[sweeper.name] = ScheduledInvoker(
            sweeper.name, handler=import_handler(sweeper.handler), region=r.region,
            stop=self._stop, interval=SWEEP_INTERVAL_S)
        self.http.traffic = Traffic()
        for poller in self.pollers.values():
            poller.traffic = self.http.traffic
            poller.start()
            self._threads.append(poller)

    def stop(self) -> None:
        self._stop.set()
        for poller in self.pollers.values():
            poller.wake()       # one asleep until new messages sees the stop at once
        if self.storefront is not None:
            self.storefront.stop()
        if self._serving:
            self.http.shutdown()
        self.http.server_close()
        # One grace period for all: a poller in the middle of a batch is left to the process's
        # exit (its threads are daemons; what it had not marked done is redelivered, as the
        # deployed event sources do), so a busy event flow cannot hold a stop for long.
        deadline = time.monotonic() + STOP_GRACE_S
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if self.data_dir and self.resources is not None and "outbox-relay" in self.pollers:
            self.save()
        if self.aws is not None:
            self.aws.stop()
        if self.marketing is not None:
            self.marketing.close()
