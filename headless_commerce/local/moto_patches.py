"""The one patch local mode (and the runtime tests) apply to moto's DynamoDB, for the moto
version requirements.txt pins (it reaches into moto's internals, which change between minors).

What real DynamoDB does and moto does not, bridged here:

1. Atomic requests. moto handles requests in threads without locking a table, so two
   conditional writes could both pass `stock >= :qty` before either writes: every DynamoDB and
   DynamoDB Streams request is serialised. (Clients still run concurrently.)
2. All-or-nothing transactions without copying tables. moto's TransactWriteItems deep-copies
   every table it touches, once per item, and on cancellation swaps the live table for the copy:
   checkout time grows with the table, and anything still holding the old table (a stream
   iterator) keeps a whole copy alive, which leaked megabytes per cancelled checkout. Here the
   transaction snapshots only the items it names and, when cancelled, puts them back in place
   and drops the stream records its writes appended, so no reader can ever see an event of a
   rolled-back write (the table and its shard stay the same objects).
3. Shard iterators expire. moto keeps every iterator it hands out, forever (a poller makes
   several a second); DynamoDB expires them after 15 minutes. Here they expire then, and at
   most MAX_SHARD_ITERATORS are kept (the oldest go first), so memory stays flat.
4. Queries read one partition. moto answers every Query by sorting the whole table and
   filtering it, so a product read costs O(table) in Python. Here a base-table query looks at
   its partition only, and an index query at the items whose index partition key matches:
   grouped once, then kept grouped by moving the items each write request names (a checkout
   wrote a few items, and the next index query re-grouped and re-sorted the whole table:
   a tenth of a checkout's CPU time with 1,000 products). moto's own key
   condition, filter, sort and paging still run on those candidates, so answers are unchanged.
   Comparing and sorting string keys uses the strings themselves (moto converts every value
   through a chain of type checks per comparison; for strings the result is the same).
5. Item responses are plain JSON. moto builds every response by walking botocore's output
   shape for each attribute value, which was most of the time of a product read; the answers
   of the item actions (GetItem, Query, ...) are already DynamoDB JSON, so they are written
   with json.dumps (anything not plain JSON, such as binary values, still goes through moto),
   and marked when botocore's parse of them would equal json.loads (see aws_transport.py).
   The same holds for DynamoDB Streams' GetRecords (the records carry item images): walking
   them was 40% of the event flow's CPU time per order; their one timestamp is written as
   moto's serializer writes it (epoch seconds, milliseconds as the fraction).
   moto also walks every result into a new copy of itself (dynamo_to_dict: its model objects
   to DynamoDB JSON, binary values decoded) before any serializer sees it: 30% of a product
   listing's CPU time, for results that are DynamoDB JSON already. A result is converted when
   something reads it; the JSON writer first tries the result as the action returned it, and
   only what json.dumps cannot write (model objects, bytes, datetimes) is converted first.
6. Stream records can be trimmed. DynamoDB drops a stream's records after 24 hours; moto keeps
   every record, with its item images, forever (megabytes per hundred orders). `trim_stream`
   drops the records up to a sequence number (local mode: what its relay has read); the
   shard keeps its id, its StartingSequenceNumber and the numbering of the records after
   them, and an iterator into the trimmed part gets TrimmedDataAccessException, as in DynamoDB.
7. Model objects are not tracked. moto appends every model object it ever makes (each item
   written, each copy of an item a read returns, each queue message) to a class-level list
   for its dashboard, so a long-running server keeps them all: hundreds of megabytes over
   ten thousand requests. Local mode has no dashboard; objects are kept only while in use.
8. Event targets' input paths are parsed once. moto's EventBridge parses the JSONPath of every
   input path of every target for every event it delivers (a PLY parser that re-reads its
   tables each time: 7% of the event flow's CPU time); the parsed paths are kept per string.
9. Writes are announced. Local mode's pollers stand in for event source mappings and pipes;
   polling 16 queues and a stream five times a second cost 90 ms of CPU per second with the
   store idle (and took the interpreter's lock from requests under load). `on_activity`
   registers an Event that is set when a message is added to a queue or a record to a table's
   stream, so a poller sleeps until there is something to read.
10. Query results are not copied, item sizes not recomputed. moto deep-copies every item a
   Query returns and walks each item's attributes twice for its size (the 1 MB page limit):
   a third of a product listing's time in moto. The results are only read (projections build
   new items) and are serialized before the request lock is released, so no write can change
   them meanwhile; the copy is skipped. An item's size is kept with the table version it was
   computed at (every request that may write moves the version, before and after it runs).
11. Per-request bookkeeping is done once. For every request moto lists its handler class's
   methods with inspect.getmembers and converts the action name with regular expressions, and
   SQS's retention check builds every attribute of the queue (counting its messages) for each
   message a receive looks at. The method lists and names are kept per class and string (both
   fixed), and the retention check reads the one attribute it needs. SQS reads the clock
   for every message of a queue each time it counts them (a send counts them three times):
   moto builds two datetimes for each reading; here it is time.time(), the same clock.
12. Items are sized once when built. moto's item dict checks the 400 KB limit on every
   attribute it sets by summing the sizes of all the attributes already set, so building an
   item of n attributes sizes O(n^2) values (a third of the CPU time of seeding a catalog).
   Here an item is built and then sized once: its size only grows while it is built, so the
   whole item is over the limit exactly when one of moto's intermediate checks would fail.
   `put_items` loads many items at start-up (a catalog) without a request per 25 items: the
   puts BatchWriteItem makes, under the request lock, without botocore's serializing and
   validation and moto's parsing of each request (most of a 10,000-product seed's time).
13. Update expressions are parsed once per string. moto parses an UpdateExpression twice per
   update (the request's checks, then the update) and its validator deep-copies the parsed
   tree with copy's generic reduce protocol before replacing names and values in the copy:
   a quarter of the CPU time of an update or a checkout's transaction. The parsed trees are
   kept per expression string (every user of one only reads it or copies it first), and a
   tree node copies itself as copy.deepcopy would (a new object of its class, its attributes
   deep-copied with the same memo), without the reduce protocol's detour.
14. Requests from botocore are read with json.loads. moto parses a DynamoDB request by
   walking botocore's input shape over the JSON it received, value by value: what comes back
   differs from json.loads only in binary values (base64-decoded), timestamps and members
   that are null or not in the shape, and botocore's serializer writes neither nulls nor
   unmodelled members. So an item request that local/aws_transport.py hands over
   from botocore, with no binary attribute value in it (the inputs of these actions have no
   timestamps), is parsed with json.loads (DynamoDB Streams' requests are read as JSON by
   moto already). Each response's request id (52 random letters and
   digits) is drawn with one choices() call instead of 52 choice() calls.
"""

from __future__ import annotations

import bisect
import calendar
import contextlib
import copy
import functools
import inspect
import json
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime

SHARD_ITERATOR_LIFETIME_S = 15 * 60      # DynamoDB Streams: an iterator expires after 15 min
MAX_SHARD_ITERATORS = 1000
_READ_ACTIONS = ("Get", "BatchGet", "Query", "Scan", "TransactGet", "Describe", "List")
_ITEM_ACTIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems",
                           "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
                           "TransactWriteItems"})
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
# On an item response whose body botocore would parse into exactly what json.loads returns (no
# binary values, no timestamps): local/aws_transport.py lets in-process clients skip the parse.
PLAIN_JSON_HEADER = "x-headless-commerce-plain-json"
FAST_ITEM_RESPONSES = True     # tests switch it off to compare with moto's own serializer
QUERY_WINDOW = True            # tests switch it off to compare with moto's whole-partition loop

_patch_lock = threading.Lock()
_applied = False
_request_lock = threading.RLock()
_local = threading.local()     # .in_transaction, .candidates (per thread, set around a call)
_version = [0]                 # bumped by every DynamoDB request that may write
_epoch = [0]                   # bumped by every write whose keys are not known (see _touch)
_KEYED_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
                           "TransactWriteItems"})
MAX_TOUCHED = 4096             # keys kept per table for its index groups before a rebuild


def apply() -> None:
    """Apply every fix above once per process (idempotent)."""
    global _applied
    with _patch_lock:
        if _applied:
            return
        _serialise_requests()
        _transactions_roll_back_in_place()
        _expire_shard_iterators()
        _queries_read_one_partition()
        _item_responses_as_json()
        _trimmable_streams()
        _untracked_models()
        _event_paths_parsed_once()
        _writes_announced()
        _query_results_shared()
        _bookkeeping_once()
        _items_sized_once()
        _update_expressions_parsed_once()
        _botocore_requests_read_as_json()
        _applied = True


def write_version() -> int:
    """How many DynamoDB requests that may write have run (a cheap "anything changed?")."""
    return _version[0]


@contextlib.contextmanager
def dynamodb_paused() -> Iterator[None]:
    """No DynamoDB or Streams request runs inside this block (a consistent snapshot)."""
    with _request_lock:
        yield


# ---- 1. atomic requests -----------------------------------------------------------------------

def _serialise_requests() -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    original_dynamodb = DynamoHandler.call_action

    def dynamodb_call(self):
        with _request_lock:
            action = self._get_action()
            writes = not action.startswith(_READ_ACTIONS)
            if writes:
                _version[0] += 1
                _touch(self, action)
            try:
                return original_dynamodb(self)
            finally:
                if writes:       # what was cached while it wrote is stale too
                    _version[0] += 1

    original_streams = DynamoDBStreamsHandler.call_action

    def streams_call(self):
        with _request_lock:
            return original_streams(self)

    DynamoHandler.call_action = dynamodb_call
    DynamoDBStreamsHandler.call_action = streams_call


def _touch(handler, action: str) -> None:
    """Note the keys a write request names on their tables, for the index groups (4): the
    next index query moves those items only. Any other write starts a new `_epoch`."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        if action not in _KEYED_WRITES:
            raise KeyError(action)
        tables = handler.dynamodb_backend.tables
        for name, attrs in _written_keys(action, handler.params):
            table = tables[name]
            if not table.__dict__.get("_hc_index_groups"):
                continue
            touched = table.__dict__.setdefault("_hc_touched", [])
            if len(touched) >= MAX_TOUCHED:     # rebuilt at the next index query
                table._hc_index_groups, table._hc_touched = {}, []
                continue
            touched.append((DynamoType(attrs[table.hash_key_attr]),
                            DynamoType(attrs[table.range_key_attr]) if table.range_key_attr
                            else None))
    except Exception:       # keys not known (an ARN for a name, a malformed request...)
        _epoch[0] += 1


def _written_keys(action: str, params: dict) -> list[tuple[str, dict]]:
    """(table name, attributes holding the key) of each item a keyed write request names."""
    if action == "PutItem":
        return [(params["TableName"], params["Item"])]
    if action in ("UpdateItem", "DeleteItem"):
        return [(params["TableName"], params["Key"])]
    if action == "BatchWriteItem":
        return [(name, request["PutRequest"]["Item"] if "PutRequest" in request
                 else request["DeleteRequest"]["Key"])
                for name, requests in params["RequestItems"].items() for request in requests]
    written = []
    for entry in params["TransactItems"]:
        (op_type, op), = entry.items()
        if op_type != "ConditionCheck":
            written.append((op["TableName"], op["Item"] if op_type == "Put" else op["Key"]))
    return written


# ---- 2. transactions --------------------------------------------------------------------------

class _Snapshot:
    """The items a TransactWriteItems names, as they were, and each stream's length."""

    def __init__(self, backend, transact_items: list[dict]) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        self.items: list[tuple[object, object, object, object]] = []
        self.streams: dict[int, tuple[object, int]] = {}
        for entry in transact_items:
            try:
                (op_type, op), = entry.items()
                table = backend.tables[op["TableName"]]
                attrs = op["Item"] if op_type == "Put" else op["Key"]
                hash_key = DynamoType(attrs[table.hash_key_attr])
                range_key = (DynamoType(attrs[table.range_key_attr])
                             if table.range_key_attr else None)
                current = table.get_item(hash_key, range_key)
            except Exception:
                continue
            self.items.append((table, hash_key, range_key, copy.deepcopy(current)))
            shard = table.stream_shard
            if shard is not None and id(shard) not in self.streams:
                self.streams[id(shard)] = (shard, len(shard.items))

    def restore(self) -> None:
        for table, hash_key, range_key, item in reversed(self.items):
            if range_key is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
                continue
            partition = table.items[hash_key]
            if item is None:
                partition.pop(range_key, None)
                if not partition:
                    del table.items[hash_key]
            else:
                partition[range_key] = item
        for shard, length in self.streams.values():
            del shard.items[length:]


def _transactions_roll_back_in_place() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        snapshot = _Snapshot(self, transact_items)
        _local.in_transaction = True
        try:
            return original_transact(self, transact_items)
        except Exception:
            # moto "restored" each table from its copy, which is the table itself (below).
            snapshot.restore()
            raise
        finally:
            _local.in_transaction = False

    def table_deepcopy(self, memo):
        if getattr(_local, "in_transaction", False):
            return self          # moto's backup of a whole table: the snapshot does it instead
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        clone.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return clone

    DynamoDBBackend.transact_write_items = transact_write_items
    Table.__deepcopy__ = table_deepcopy


# ---- 3. shard iterators -----------------------------------------------------------------------

def _expire_shard_iterators() -> None:
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    original_init = DynamoDBStreamsBackend.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.shard_iterators = _ExpiringIterators()

    DynamoDBStreamsBackend.__init__ = init


class _ExpiringIterators(OrderedDict):
    """moto's iterator registry (arn -> ShardIterator), oldest first, pruned on every insert."""

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, (time.monotonic(), value))
        expired = time.monotonic() - SHARD_ITERATOR_LIFETIME_S
        while self and (len(self) > MAX_SHARD_ITERATORS
                        or next(iter(OrderedDict.values(self)))[0] < expired):
            self.popitem(last=False)

    def __getitem__(self, key):
        from moto.core.exceptions import JsonRESTError

        found = super().get(key)
        if found is None or found[0] < time.monotonic() - SHARD_ITERATOR_LIFETIME_S:
            # DynamoDB Streams' answer to an iterator past its lifetime (moto: a KeyError, 500)
            raise JsonRESTError("ExpiredIteratorException", "Iterator expired")
        return found[1]


# ---- 4. queries -------------------------------------------------------------------------------

def _queries_read_one_partition() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original_query = Table.query
    original_all_items = Table.all_items
    signature = inspect.signature(original_query)

    def query(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs).arguments
        candidates = _candidates(self, bound)
        if QUERY_WINDOW and candidates is not None:
            candidates = _page_window(self, bound, candidates)
        _local.candidates = candidates
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _local.candidates = None

    def all_items(self):
        candidates = getattr(_local, "candidates", None)
        if candidates is not None:
            _local.candidates = None      # one query reads all_items once
            return candidates
        version, items = getattr(self, "_hc_all_items", (None, None))
        if version != _version[0]:
            items = original_all_items(self)
            self._hc_all_items = (_version[0], items)
        return list(items)

    def getstate(self):
        # The caches hold a process's version numbers: never pickled (local/state.py).
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_hc_")}

    original_sorted_items = Table.sorted_items

    def sorted_items(self, hash_key_attrs, range_key_attrs, items):
        # The same items sorted the same way at the same table version: the last order again
        # (a product listing sorts the whole catalog partition on every page).
        attrs = tuple(self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs))
        identity = tuple(map(id, items))
        cache = self.__dict__.setdefault("_hc_sorted", {})
        version, known, order = cache.get(attrs, (None, None, None))
        if version == _version[0] and known == identity:
            items[:] = order
            return items
        if all(a in item.attrs and item.attrs[a].type == "S" for item in items for a in attrs):
            items.sort(key=lambda item: tuple(item.attrs[a].value for a in attrs))
        else:
            original_sorted_items(self, hash_key_attrs, range_key_attrs, items)
        cache[attrs] = (_version[0], identity, list(items))
        return items

    original_cast_value = DynamoType.cast_value

    def cast_value(self):
        return self.value if self.type == "S" else original_cast_value.fget(self)

    Table.query = query
    Table.all_items = all_items
    Table.sorted_items = sorted_items
    Table.__getstate__ = getstate
    DynamoType.cast_value = property(cast_value)


def _candidates(table, bound: dict) -> list | None:
    """The items a query can match (a superset, in all_items order), or None to read all."""
    hash_key = bound.get("hash_key")
    index_name = bound.get("index_name")
    if not index_name:
        if hash_key is None:
            return None
        partition = table.items.get(hash_key)
        if partition is None:
            return []
        return list(partition.values()) if table.range_key_attr else [partition]
    try:
        index = table.get_index(index_name)
    except KeyError:
        return None                   # moto raises its own validation error
    attribute = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
    wanted = dict(bound.get("hash_key_conditions") or {}).get(attribute, hash_key)
    if wanted is None:
        return None
    cache = table.__dict__.setdefault("_hc_index_groups", {})
    groups = cache.get(index_name)
    try:
        if groups is None or groups.epoch != _epoch[0]:
            groups = cache[index_name] = _IndexGroups(table, attribute)
        else:
            groups.catch_up(table)
        return list(groups.groups.get(wanted, ()))
    except TypeError:                 # an unhashable value cannot be a key: let moto decide
        cache.pop(index_name, None)
        return None


def _table_key(item) -> tuple:
    """An item's position in moto's all_items order (by hash key, then range key; key
    attributes have one type per table, so their values compare as moto's DynamoTypes do)."""
    return (item.hash_key.cast_value,
            item.range_key.cast_value if item.range_key is not None else None)


class _IndexGroups:
    """An index's items by the value of its partition key attribute, each group in all_items
    order. Built from the whole table once, then kept up to date with the keys that write
    requests name (`_touch`): a query after a write looks at what the write changed, not at
    the whole table again. Anything else that may change a table (a request whose keys are
    not known, a bulk load) moves `_epoch`, and the groups are built again."""

    def __init__(self, table, attribute: str) -> None:
        self.epoch, self.attribute = _epoch[0], attribute
        self.groups: dict = {}
        self.values: dict = {}        # (hash key, range key) -> the group it is in
        self.read = len(table.__dict__.setdefault("_hc_touched", []))
        for item in sorted(table.all_items(), key=_table_key):
            value = item.attrs.get(attribute)
            if value is not None:
                self.groups.setdefault(value, []).append(item)
                self.values[(item.hash_key, item.range_key)] = value

    def catch_up(self, table) -> None:
        touched = table.__dict__.get("_hc_touched", ())
        for hash_key, range_key in touched[self.read:]:
            self._move(table, hash_key, range_key)
        self.read = len(touched)

    def _move(self, table, hash_key, range_key) -> None:
        old = self.values.pop((hash_key, range_key), None)
        if old is not None:
            group = self.groups[old]
            position = bisect.bisect_left(
                group, (hash_key.cast_value, range_key.cast_value if range_key is not None
                        else None), key=_table_key)
            del group[position]
            if not group:
                del self.groups[old]
        partition = table.items.get(hash_key)
        item = (partition.get(range_key) if table.range_key_attr else partition
                ) if partition is not None else None
        value = item.attrs.get(self.attribute) if item is not None else None
        if value is not None:
            bisect.insort(self.groups.setdefault(value, []), item, key=_table_key)
            self.values[(hash_key, range_key)] = value


def _page_window(table, bound: dict, candidates: list) -> list:
    """Of an index query's candidates, the ones its page can reach: the `limit + 1` items after
    its ExclusiveStartKey in the query's order (moto's loop stops at the item past the limit).
    Only where moto takes every candidate in order until the limit: an index with one hash and
    at most one range attribute, no range key condition, no legacy QueryFilter. The ordered
    partition is kept per table version; the start is found by bisection with moto's own
    comparison, which is monotonic over items that all carry the sort attributes."""
    index_name, limit = bound.get("index_name"), bound.get("limit")
    if (not index_name or not isinstance(limit, int) or limit < 1
            or bound.get("range_comparison") or bound.get("range_key_conditions")
            or bound.get("filter_kwargs")):
        return candidates
    index = table.get_index(index_name)
    hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    if len(hashes) != 1 or len(ranges) > 1:
        return candidates
    # moto's sort attributes for such an index (Table.query): index keys, then the table's.
    hash_attrs = [hashes[0], table.hash_key_attr]
    if ranges:
        range_attrs = [ranges[0], table.range_key_attr]
    elif table.range_key_attr:
        range_attrs = [table.range_key_attr, table.range_key_attr]
    else:
        range_attrs = [table.hash_key_attr, table.range_key_attr]
    sort_attrs = [a for a in table._generate_attr_to_sort_by(hash_attrs, range_attrs) if a]
    forward = bound.get("scan_index_forward") is not False
    version, cache = table.__dict__.get("_hc_ordered", (None, None))
    if version != _version[0]:
        cache = {}
        table._hc_ordered = (_version[0], cache)
    key = (index_name, forward, tuple(map(id, candidates)))
    ordered = cache.get(key)
    if ordered is None:
        indexed = [item for item in candidates
                   if all(a in item.attrs for a in sort_attrs)
                   and all(item.attrs.get(a) for a in ranges)]
        if len(indexed) != len(candidates):
            return candidates      # items outside the index: moto's own loop sorts them out
        ordered = table.sorted_items(hash_attrs, range_attrs, indexed)
        if not forward:
            ordered.reverse()
        cache[key] = ordered
    start = 0
    start_key = bound.get("exclusive_start_key")
    if start_key is not None:
        start = bisect.bisect_left(ordered, True, key=lambda item: not table._item_comes_before_dct(
            item, start_key, hash_attrs, range_attrs, forward))
    return ordered[start:start + limit + 1]


# ---- 5. responses -----------------------------------------------------------------------------

def _item_responses_as_json() -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    def fast(handler_class, actions: frozenset[str], default=None, plain: bool = False) -> None:
        original_serialized = handler_class.serialized

        def dump(result: object) -> str | None:
            if not isinstance(result, dict):
                return None
            try:
                return json.dumps(_without_none(result), separators=(",", ":"),
                                  allow_nan=False, default=default)
            except (TypeError, ValueError):          # bytes, datetimes...: moto knows how
                return None

        def serialized(self, action_result):
            if not (FAST_ITEM_RESPONSES and self._get_action() in actions):
                return original_serialized(self, action_result)
            state = action_result.__dict__
            # A DynamoResult that is plain JSON as the action returned it, else as
            # moto converts it.
            body = dump(state["_hc_raw"]) if "_hc_raw" in state and "_result" not in state else None
            if body is None:
                body = dump(action_result.result)
            if body is not None:
                headers = {"Content-Type": JSON_CONTENT_TYPE}
                headers.update(self.response_headers)
                if plain and '"B":' not in body and '"BS":' not in body:
                    headers[PLAIN_JSON_HEADER] = "1"
                return 200, headers, body
            return original_serialized(self, action_result)

        handler_class.serialized = serialized

    fast(DynamoHandler, _ITEM_ACTIONS, plain=True)
    fast(DynamoDBStreamsHandler, frozenset({"GetRecords"}), default=_epoch_seconds)
    _results_converted_when_read()


def _results_converted_when_read() -> None:
    from moto.dynamodb.models.utilities import dynamo_to_dict
    from moto.dynamodb.responses import DynamoResult

    def init(self, result: object) -> None:
        self._hc_raw = result

    def converted(self) -> object:
        if "_result" not in self.__dict__:
            self._result = dynamo_to_dict(self._hc_raw)
        return self._result

    DynamoResult.__init__ = init
    DynamoResult.result = property(converted)


def _epoch_seconds(value: object) -> float | int:
    """A datetime as moto's JSON serializer writes a timestamp (its `unixtimestamp` format)."""
    if not isinstance(value, datetime):
        raise TypeError(type(value).__name__)
    seconds = calendar.timegm(value.timetuple())
    return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds


def _without_none(result: dict) -> dict:
    """moto's serializer leaves out members whose value is None. Only top-level members can
    be None here: attribute values are DynamoDB JSON, where null is {"NULL": true}."""
    return {k: v for k, v in result.items() if v is not None}


# ---- 6. stream trimming -----------------------------------------------------------------------

def _trimmable_streams() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models.table import StreamShard

    original_get = StreamShard.get
    original_to_json = StreamShard.to_json

    def get(self, start: int, quantity: int):
        if start < self.starting_sequence_number:
            raise JsonRESTError("TrimmedDataAccessException",
                                "The records at this position have been trimmed")
        return original_get(self, start, quantity)

    def to_json(self):
        described = original_to_json(self)
        first = self.__dict__.get("_hc_first_sequence")
        if first is not None:      # the shard's range starts where it started, trimmed or not
            described["SequenceNumberRange"]["StartingSequenceNumber"] = str(first)
        return described

    StreamShard.get = get
    StreamShard.to_json = to_json


def trim_stream(stream_arn: str, through_sequence: str) -> int:
    """Drop the records of the table stream `stream_arn` up to and including the sequence
    number `through_sequence`; returns how many went (0 for an unknown stream)."""
    from moto.dynamodb.models import dynamodb_backends

    # arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL
    _, _, _, region, account, resource = stream_arn.split(":", 5)
    with _request_lock:
        table = dynamodb_backends[account][region].tables.get(resource.split("/")[1])
        return trim_shard(getattr(table, "stream_shard", None), through_sequence)


def trim_shard(shard, through_sequence: str | None) -> int:
    """trim_stream for a shard object (the caller holds the tables still: dynamodb_paused)."""
    if shard is None or through_sequence is None:
        return 0
    count = min(int(through_sequence) - shard.starting_sequence_number + 1, len(shard.items))
    if count <= 0:
        return 0
    shard.__dict__.setdefault("_hc_first_sequence", shard.starting_sequence_number)
    # moto numbers a record len(items) + starting_sequence_number: both move together.
    del shard.items[:count]
    shard.starting_sequence_number += count
    return count


# ---- 7. model instances -----------------------------------------------------------------------

def _untracked_models() -> None:
    from moto.core.common_models import BaseModel
    from moto.core.model_instances import reset_model_data

    def new(cls, *args, **kwargs):
        return super(BaseModel, cls).__new__(cls)     # moto's own, without the append

    BaseModel.__new__ = staticmethod(new)
    reset_model_data()        # and what was tracked before this process applied the patches


# ---- 8. event target input paths ---------------------------------------------------------------

def _event_paths_parsed_once() -> None:
    import jsonpath_ng.ext

    # moto's EventTemplateParser imports `parse` from this module at each call: the cached one.
    # A parsed path is only read (find) afterwards, so one object serves every event.
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


# ---- 9. announced writes ------------------------------------------------------------------------

_listeners: dict[str, weakref.WeakSet] = {}


def queue_activity(queue_name: str) -> str:
    """The activity name of an SQS queue (for `on_activity`)."""
    return f"sqs:{queue_name}"


def stream_activity(table_name: str) -> str:
    """The activity name of a table's stream (for `on_activity`)."""
    return f"stream:{table_name}"


def on_activity(name: str, event: threading.Event) -> None:
    """Set `event` whenever `name` (queue_activity/stream_activity) gets a message or record.
    Held weakly: a poller that is gone stops being told."""
    with _patch_lock:
        _listeners.setdefault(name, weakref.WeakSet()).add(event)


def _announce(name: str) -> None:
    listeners = _listeners.get(name)
    if listeners:
        for event in list(listeners):
            event.set()


def _writes_announced() -> None:
    from moto.dynamodb.models.table import StreamShard
    from moto.sqs.models import Queue

    original_add_message = Queue.add_message
    original_shard_add = StreamShard.add

    def add_message(self, message):
        original_add_message(self, message)
        _announce(queue_activity(self.name))

    def shard_add(self, old, new):
        original_shard_add(self, old, new)
        _announce(stream_activity(self.table.name))

    Queue.add_message = add_message
    StreamShard.add = shard_add


# ---- 10. query results ------------------------------------------------------------------------------

class _QueryCopy:
    """The `copy` module as moto's table module sees it: inside Table.query, the deep copy of
    the result list is a new list of the same items (see 10 above); anything else is copied."""

    def __getattr__(self, name: str):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if QUERY_RESULTS_SHARED and getattr(_local, "querying", False) and type(value) is list:
            return list(value)
        return copy.deepcopy(value, memo)


QUERY_RESULTS_SHARED = True     # tests switch it off to compare with moto's copies and sizes


def _query_results_shared() -> None:
    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    patched_query = Table.query

    def query(self, *args, **kwargs):
        _local.querying = True
        try:
            return patched_query(self, *args, **kwargs)
        finally:
            _local.querying = False

    original_size = Item.size

    def size(self) -> int:
        if not QUERY_RESULTS_SHARED:
            return original_size(self)
        version, known = self.__dict__.get("_hc_size", (None, 0))
        if version == _version[0]:
            return known
        known = original_size(self)
        self.__dict__["_hc_size"] = (_version[0], known)
        return known

    def item_getstate(self):
        # Version numbers belong to this process: never pickled (local/state.py).
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_hc_")}

    table_module.copy = _QueryCopy()
    Table.query = query
    Item.size = size
    Item.__getstate__ = item_getstate


# ---- 11. bookkeeping --------------------------------------------------------------------------------

def _bookkeeping_once() -> None:
    from moto.core import responses
    from moto.core.utils import unix_time
    from moto.sqs import models as sqs_models

    # Pure functions of a class (its methods are set before the first request) and of a string.
    responses.method_names_from_class = functools.lru_cache(maxsize=None)(
        responses.method_names_from_class)
    cached_names = functools.lru_cache(maxsize=4096)(responses.camelcase_to_underscores)
    responses.camelcase_to_underscores = cached_names
    sqs_models.camelcase_to_underscores = cached_names

    def is_message_valid_based_on_retention_period(self, queue_name: str, message) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return retention + message.sent_timestamp / 1000 > clock()

    def clock(dt: datetime | None = None) -> float:
        return time.time() if dt is None else unix_time(dt)

    def clock_millis(dt: datetime | None = None) -> float:
        return clock(dt) * 1000.0

    sqs_models.unix_time, sqs_models.unix_time_millis = clock, clock_millis

    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = (
        is_message_valid_based_on_retention_period)


# ---- 12. item sizes, bulk loads ---------------------------------------------------------------

def _items_sized_once() -> None:
    from moto.dynamodb.models import dynamo_type
    from moto.dynamodb.models.utilities import bytesize

    limit = 405000        # moto's LimitedSizeDict limit (DynamoDB's 400 KB, as moto measures it)

    def item_init(self, hash_key, range_key, attrs) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        built = dynamo_type.LimitedSizeDict()
        dict.update(built, {key: dynamo_type.DynamoType(value) for key, value in attrs.items()})
        if sum(bytesize(key) + value.size() for key, value in built.items()) > limit:
            raise dynamo_type.ItemSizeTooLarge
        self.attrs = built

    dynamo_type.Item.__init__ = item_init


def put_items(table_name: str, region: str, items: list[dict]) -> None:
    """Unconditional puts of `items` (DynamoDB JSON) into a table of the embedded DynamoDB, as
    BatchWriteItem makes them (moto's own checks of each item), in one step under the request
    lock: a bulk load (a catalog at start-up), counted as a write."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.responses import validate_put_has_empty_keys

    with _request_lock:
        _version[0] += 1
        _epoch[0] += 1
        try:
            backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
            table = backend.get_table(table_name)
            for item in items:
                validate_put_has_empty_keys(item, table)
                backend.put_item(table_name, item)
        finally:
            _version[0] += 1


# ---- 13. update expressions -------------------------------------------------------------------

_ATOMIC = (type(None), bool, int, float, str, bytes)


def _update_expressions_parsed_once() -> None:
    from moto.dynamodb.parsing.ast_nodes import Node
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    parse = UpdateExpressionParser.make.__func__
    UpdateExpressionParser.make = classmethod(functools.lru_cache(maxsize=512)(parse))

    def node_deepcopy(self, memo):
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        state = clone.__dict__
        for name, value in self.__dict__.items():
            state[name] = value if type(value) in _ATOMIC else copy.deepcopy(value, memo)
        return clone

    Node.__deepcopy__ = node_deepcopy


# ---- 14. requests from botocore ----------------------------------------------------------------

def _botocore_requests_read_as_json() -> None:
    import string

    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler
    from moto.moto_api._internal import mock_random

    original = DynamoHandler.parse_parameters

    def parse_parameters(self, request) -> None:
        if getattr(request, "from_botocore", False) and self._get_action() in _ITEM_ACTIONS:
            body = request.data
            if b'"B":' not in body and b'"BS":' not in body:
                self.params = json.loads(body) if body else {}
                return
        original(self, request)

    DynamoHandler.parse_parameters = parse_parameters

    alphabet = string.ascii_letters + string.digits      # moto's get_random_string(52)

    def request_id(headers: dict | None = None) -> str:
        value = "".join(mock_random.choices(alphabet, k=52))
        if isinstance(headers, dict):
            headers["x-amzn-requestid"] = value
        return value

    responses.gen_amzn_requestid_long = request_id
