"""Search in local mode: the tantivy provider behind /search, loaded from the table at start,
and the indexer fed from the table's stream as Lambda's event source mapping would feed it.

The index lives in memory and is rebuilt from the table at every start, so it always matches
what the table holds (including a table restored from a data directory).
"""

from __future__ import annotations

import logging
import threading

from headless_commerce.local import moto_patches
from headless_commerce.local.events import _Poller, pipe_record, table_of_stream
from headless_commerce.local.subscriptions import matches
from headless_commerce.runtime.search import indexer, service
from headless_commerce.runtime.search import provider as search_provider
from headless_commerce.runtime.search.local_provider import TantivyProvider

log = logging.getLogger("headless_commerce.local")
# Local mode's admin path for `headless-commerce search reindex --local URL` (not in the API).
REINDEX_PATH = "/_local/search/reindex"


def install(seeded_catalog: dict | None) -> TantivyProvider:
    """Make the handlers search with tantivy and load it: from the catalog just seeded (the
    same items the table holds; reading 10,000 products back from moto would take a minute),
    or, when nothing was seeded (a kept table), from the table."""
    engine = TantivyProvider()
    search_provider.set_provider(engine)
    if seeded_catalog is not None:
        engine.rebuild(service.seeded_actions(seeded_catalog["products"]))
    else:
        result = service.reindex()
        log.info("search index loaded: %s documents in %.2f s", result["documents"], result["seconds"])
    return engine


def reindex() -> dict:
    """A full rebuild from the table, swapped in when loaded (searches keep answering)."""
    return service.reindex()


def selected(record: dict) -> bool:
    """The deployed event source mapping's filter criteria, applied to one record."""
    return any(matches(pattern, record) for pattern in indexer.STREAM_FILTERS)


class SearchIndexerPoller(_Poller):
    """The indexer's stream event source: filtered batches from the table stream, the indexer
    handler, and on reported failures a retry from the first failed record (as Lambda does).

    Like the outbox relay it keeps only the last sequence number handled per shard and takes
    a fresh iterator after it on every poll (see StreamRelay for why)."""

    def __init__(self, *, streams, table_stream_arn: str, region: str, stop: threading.Event,
                 interval: float) -> None:
        super().__init__("search-indexer", stop, interval)
        self._streams, self._arn, self._region = streams, table_stream_arn, region
        self.positions: dict[str, str | None] = {
            shard["ShardId"]: None
            for shard in streams.describe_stream(StreamArn=table_stream_arn)["StreamDescription"]["Shards"]}
        self.indexed = 0
        self.listen(moto_patches.stream_activity(table_of_stream(table_stream_arn)))

    def _iterator(self, shard_id: str, position: str | None) -> str:
        kwargs = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
                  if position else {"ShardIteratorType": "TRIM_HORIZON"})
        return self._streams.get_shard_iterator(StreamArn=self._arn, ShardId=shard_id,
                                                **kwargs)["ShardIterator"]

    def poll(self) -> bool:
        busy = False
        for shard_id, position in list(self.positions.items()):
            records = self._streams.get_records(ShardIterator=self._iterator(shard_id, position),
                                                Limit=100)["Records"]
            if not records:
                continue
            batch = [pipe_record(r, self._arn, self._region) for r in records]
            chosen = [r for r in batch if selected(r)]
            failed = set()
            if chosen:
                result = indexer.handler({"Records": chosen})
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            done = batch
            if failed:
                first = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed)
                done = batch[:first]
                log.warning("search indexer: %d records failed; retrying from %s", len(failed),
                            batch[first]["dynamodb"]["SequenceNumber"])
            if done:
                self.positions[shard_id] = done[-1]["dynamodb"]["SequenceNumber"]
                self.indexed += sum(1 for r in done if selected(r))
                busy = not failed
        return busy
