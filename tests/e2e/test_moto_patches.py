"""local/moto_patches.py on the embedded AWS (moto's server, in this process, as local mode runs
it): cancelled transactions roll back in place (items, stream, memory), shard iterators expire,
queries answer what moto answers."""

from __future__ import annotations

import gc
import tracemalloc

import boto3
import pytest
from botocore.exceptions import ClientError

from headless_commerce.local import aws_transport, moto_patches
from headless_commerce.local.aws import EmbeddedAws

TABLE = "patched"


@pytest.fixture(scope="module")
def endpoint():
    aws = EmbeddedAws().start()     # applies moto_patches
    # As local mode calls it: in-process, plain-JSON item answers parsed by json.loads.
    aws_transport.install(aws.endpoint_url)
    yield aws.endpoint_url
    aws.stop()


def _client(endpoint: str, service: str):
    return boto3.session.Session().client(service, endpoint_url=endpoint, region_name="us-east-1",
                                          aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def dynamodb(endpoint):
    client = _client(endpoint, "dynamodb")
    if TABLE in client.list_tables()["TableNames"]:
        client.delete_table(TableName=TABLE)
    client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                                  for n in ("pk", "sk", "gpk", "gsk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "gsi", "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"},
                              {"AttributeName": "gsk", "KeyType": "RANGE"}]}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    client.endpoint = endpoint
    return client


def _fill(client, count: int) -> None:
    for start in range(0, count, 25):
        client.batch_write_item(RequestItems={TABLE: [
            {"PutRequest": {"Item": {"pk": {"S": f"P#{i:05d}"}, "sk": {"S": "A"},
                                     "gpk": {"S": f"G#{i % 7}"}, "gsk": {"S": f"{i:05d}"},
                                     "stock": {"N": "1"}, "pad": {"S": "x" * 400}}}}
            for i in range(start, min(count, start + 25))]})


def _cancelled_order(client, number: int) -> None:
    """An order put, a stock decrement that cannot pass, an outbox put: cancelled."""
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"ORDER#{number}"},
                                                  "sk": {"S": "A"}, "gpk": {"S": "ORDERS"},
                                                  "gsk": {"S": str(number)}}}},
            {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "P#00001"}, "sk": {"S": "A"}},
                        "UpdateExpression": "SET stock = stock - :q",
                        "ConditionExpression": "stock >= :q",
                        "ExpressionAttributeValues": {":q": {"N": "5"}}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"OUTBOX#{number}"},
                                                  "sk": {"S": "A"}}}},
        ])
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"


def _stream(client):
    streams = _client(client.endpoint, "dynamodbstreams")
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return streams, arn, shard


def test_cancelled_transaction_leaves_no_item_and_no_stream_record(dynamodb):
    _fill(dynamodb, 3)
    streams, arn, shard = _stream(dynamodb)
    # An iterator handed out before the transaction (the relay's) sees none of its writes.
    early = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    _cancelled_order(dynamodb, 1)
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "ORDER#1"},
                                                                   "sk": {"S": "A"}})
    stock = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "P#00001"}, "sk": {"S": "A"}})
    assert stock["Item"]["stock"] == {"N": "1"}
    records = streams.get_records(ShardIterator=early)["Records"]
    assert [r["eventName"] for r in records] == ["INSERT"] * 3

    # A committed transaction afterwards is all there, and its records follow on.
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "ORDER#2"}, "sk": {"S": "A"}}}},
        {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "P#00001"}, "sk": {"S": "A"}},
                    "UpdateExpression": "SET stock = stock - :q", "ConditionExpression": "stock >= :q",
                    "ExpressionAttributeValues": {":q": {"N": "1"}}}}])
    records = streams.get_records(ShardIterator=early)["Records"]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
    assert keys == ["P#00000", "P#00001", "P#00002", "ORDER#2", "P#00001"]
    assert records[-1]["dynamodb"]["NewImage"]["stock"] == {"N": "0"}


def test_validation_error_mid_transaction_undoes_earlier_writes(dynamodb):
    _fill(dynamodb, 2)
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "NEW"}, "sk": {"S": "A"}}}},
            {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "P#00000"}, "sk": {"S": "A"}}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "NEW"}, "sk": {"S": "A"}}}},
        ])
    keys = sorted(i["pk"]["S"] for i in dynamodb.scan(TableName=TABLE)["Items"])
    assert keys == ["P#00000", "P#00001"]


def test_cancelled_transactions_do_not_grow_memory(dynamodb):
    # moto copied the whole table per transaction item; a live stream iterator then kept
    # every copy (~3 MB for this table) alive. 60 cancelled transactions must stay small.
    _fill(dynamodb, 2000)
    streams, arn, shard = _stream(dynamodb)
    streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    _cancelled_order(dynamodb, 0)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(1, 61):
            _cancelled_order(dynamodb, number)
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert growth < 2_000_000, f"{growth / 1e6:.1f} MB kept by 60 cancelled transactions"


def test_shard_iterators_are_bounded_and_expire(dynamodb, monkeypatch):
    _fill(dynamodb, 1)
    streams, arn, shard = _stream(dynamodb)

    def iterator():
        return streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    monkeypatch.setattr(moto_patches, "MAX_SHARD_ITERATORS", 5)
    first = iterator()
    for _ in range(5):
        latest = iterator()
    assert streams.get_records(ShardIterator=latest)["Records"]
    with pytest.raises(streams.exceptions.ExpiredIteratorException):
        streams.get_records(ShardIterator=first)
    monkeypatch.setattr(moto_patches, "SHARD_ITERATOR_LIFETIME_S", -1)
    with pytest.raises(streams.exceptions.ExpiredIteratorException):
        streams.get_records(ShardIterator=latest)


def test_queries_answer_what_a_full_scan_would(dynamodb):
    _fill(dynamodb, 60)
    items = dynamodb.scan(TableName=TABLE)["Items"]

    def expected(group: str) -> list[str]:
        return sorted(i["gsk"]["S"] for i in items if i["gpk"]["S"] == group)

    def index_pages(group: str, limit: int, forward: bool = True) -> list[str]:
        got, start = [], None
        while True:
            kwargs = {"ExclusiveStartKey": start} if start else {}
            page = dynamodb.query(TableName=TABLE, IndexName="gsi", Limit=limit,
                                  ScanIndexForward=forward,
                                  KeyConditionExpression="gpk = :g",
                                  ExpressionAttributeValues={":g": {"S": group}}, **kwargs)
            got += [i["gsk"]["S"] for i in page["Items"]]
            start = page.get("LastEvaluatedKey")
            if not start:
                return got

    assert index_pages("G#3", 3) == expected("G#3")
    assert index_pages("G#3", 4, forward=False) == expected("G#3")[::-1]
    assert index_pages("G#missing", 5) == []
    between = dynamodb.query(TableName=TABLE, IndexName="gsi",
                             KeyConditionExpression="gpk = :g AND gsk BETWEEN :a AND :b",
                             ExpressionAttributeValues={":g": {"S": "G#0"}, ":a": {"S": "00010"},
                                                        ":b": {"S": "00030"}})["Items"]
    assert [i["gsk"]["S"] for i in between] == [g for g in expected("G#0") if "00010" <= g <= "00030"]
    # A write moves an item to another index partition: the next query sees it there.
    dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": "P#00003"}, "sk": {"S": "A"}},
                         UpdateExpression="SET gpk = :g", ExpressionAttributeValues={":g": {"S": "G#0"}})
    assert "00003" in index_pages("G#0", 100) and "00003" not in index_pages("G#3", 100)
    base = dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "P#00007"}})["Items"]
    assert [i["pk"]["S"] for i in base] == ["P#00007"]
    assert dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                          ExpressionAttributeValues={":p": {"S": "nope"}})["Items"] == []


def test_item_responses_are_what_motos_serializer_writes(dynamodb, monkeypatch):
    _fill(dynamodb, 30)
    key = {"pk": {"S": "P#00005"}, "sk": {"S": "A"}}
    # Every call is made twice (once per serializer), so each must answer the same twice.
    dynamodb.put_item(TableName=TABLE, Item={**key, "stock": {"N": "1"}})
    binary = {"pk": {"S": "BIN"}, "sk": {"S": "A"}}
    calls = [
        ("get_item", {"TableName": TABLE, "Key": key}),
        ("get_item", {"TableName": TABLE, "Key": {"pk": {"S": "none"}, "sk": {"S": "A"}}}),
        ("query", {"TableName": TABLE, "IndexName": "gsi", "Limit": 2,
                   "KeyConditionExpression": "gpk = :g",
                   "ExpressionAttributeValues": {":g": {"S": "G#1"}}}),
        ("query", {"TableName": TABLE, "IndexName": "gsi", "Select": "COUNT",
                   "KeyConditionExpression": "gpk = :g",
                   "ExpressionAttributeValues": {":g": {"S": "G#2"}}}),
        ("query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p",
                   "ProjectionExpression": "pk, stock",
                   "ExpressionAttributeValues": {":p": {"S": "P#00009"}}}),
        ("scan", {"TableName": TABLE, "Limit": 5, "FilterExpression": "stock = :s",
                  "ExpressionAttributeValues": {":s": {"N": "1"}}}),
        ("batch_get_item", {"RequestItems": {TABLE: {"Keys": [key, {"pk": {"S": "x"},
                                                                     "sk": {"S": "y"}}]}}}),
        ("put_item", {"TableName": TABLE, "ReturnValues": "ALL_OLD",
                      "Item": {**key, "stock": {"N": "1"}}}),
        ("update_item", {"TableName": TABLE, "Key": key, "ReturnValues": "ALL_NEW",
                         "UpdateExpression": "SET tags = :t, m = :m",
                         "ExpressionAttributeValues": {
                             ":t": {"SS": ["a", "b"]}, ":m": {"M": {"n": {"N": "1.5"},
                                                                    "l": {"L": [{"NULL": True},
                                                                                {"BOOL": False}]}}}}}),
        ("transact_get_items", {"TransactItems": [{"Get": {"TableName": TABLE, "Key": key}}]}),
        ("transact_write_items", {"TransactItems": [{"ConditionCheck": {
            "TableName": TABLE, "Key": key, "ConditionExpression": "attribute_exists(pk)"}}]}),
        ("put_item", {"TableName": TABLE, "Item": {**binary, "blob": {"B": b"\x00\xff"},
                                                   "blobs": {"BS": [b"a", b"b"]}}}),
        ("get_item", {"TableName": TABLE, "Key": binary}),      # bytes: moto's serializer
    ]
    plain = []
    dynamodb.meta.events.register(
        "after-call.dynamodb.*", lambda http_response=None, **_: plain.append(
            http_response.headers.get(moto_patches.PLAIN_JSON_HEADER)))
    for name, kwargs in calls:
        fast = getattr(dynamodb, name)(**kwargs)
        monkeypatch.setattr(moto_patches, "FAST_ITEM_RESPONSES", False)
        monkeypatch.setattr(moto_patches, "QUERY_RESULTS_SHARED", False)
        moto = getattr(dynamodb, name)(**kwargs)
        monkeypatch.setattr(moto_patches, "FAST_ITEM_RESPONSES", True)
        monkeypatch.setattr(moto_patches, "QUERY_RESULTS_SHARED", True)
        fast.pop("ResponseMetadata"), moto.pop("ResponseMetadata")
        assert fast == moto, name
    # Every answer above but the binary one was parsed as plain JSON; moto's never were.
    assert plain[0::2] == ["1"] * (len(calls) - 1) + [None]
    assert plain[1::2] == [None] * len(calls)


def test_query_pages_follow_item_sizes_after_writes(dynamodb, monkeypatch):
    """Sizes are cached per table version: a write that grows items must move the 1 MB page
    boundary of the next query, as moto's uncached sizes do."""
    def page() -> int:
        return dynamodb.query(TableName=TABLE, IndexName="gsi", KeyConditionExpression="gpk = :g",
                              ExpressionAttributeValues={":g": {"S": "BIG"}})["Count"]

    for n in range(12):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"B#{n:02d}"}, "sk": {"S": "A"},
                                                 "gpk": {"S": "BIG"}, "gsk": {"S": f"{n:02d}"},
                                                 "pad": {"S": "x" * 1000}})
    assert page() == 12
    for n in range(12):
        dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": f"B#{n:02d}"}, "sk": {"S": "A"}},
                             UpdateExpression="SET #pad = :p", ExpressionAttributeNames={"#pad": "pad"},
                             ExpressionAttributeValues={":p": {"S": "y" * 200_000}})
    shared = page()
    monkeypatch.setattr(moto_patches, "QUERY_RESULTS_SHARED", False)
    assert shared == page() < 12        # 1 MB holds a few items of 200 KB


def test_stream_records_are_what_motos_serializer_writes(dynamodb, monkeypatch):
    _fill(dynamodb, 3)
    dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": "P#00001"}, "sk": {"S": "A"}},
                         UpdateExpression="SET tags = :t, m = :m",
                         ExpressionAttributeValues={":t": {"SS": ["a"]}, ":m": {"M": {
                             "l": {"L": [{"NULL": True}, {"N": "2.5"}]}}}})
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "P#00002"}, "sk": {"S": "A"}})
    streams, arn, shard = _stream(dynamodb)
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    fast = streams.get_records(ShardIterator=iterator, Limit=10)
    monkeypatch.setattr(moto_patches, "FAST_ITEM_RESPONSES", False)
    moto = streams.get_records(ShardIterator=iterator, Limit=10)
    for answer in (fast, moto):
        answer.pop("ResponseMetadata")
        answer.pop("NextShardIterator")      # a new iterator per call
    assert [r["eventName"] for r in fast["Records"]] == ["INSERT"] * 3 + ["MODIFY", "REMOVE"]
    assert fast == moto       # timestamps included (parsed by botocore from either body)


def test_event_input_paths_are_parsed_once(endpoint):
    import jsonpath_ng.ext

    assert jsonpath_ng.ext.parse("$.detail.id") is jsonpath_ng.ext.parse("$.detail.id")
    assert [m.value for m in jsonpath_ng.ext.parse("$.detail.id").find({"detail": {"id": 7}})] == [7]


def test_trimmed_stream_keeps_numbering_and_refuses_trimmed_positions(dynamodb):
    _fill(dynamodb, 4)
    streams, arn, shard = _stream(dynamodb)
    early = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=early)["Records"]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    described = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]

    assert moto_patches.trim_stream(arn, str(numbers[1])) == 2
    assert moto_patches.trim_stream(arn, str(numbers[1])) == 0       # nothing left to trim
    # The shard is the same shard: same id and range start; the horizon moved past the trim.
    assert streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0] == described
    horizon = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    kept = streams.get_records(ShardIterator=horizon)["Records"]
    assert [int(r["dynamodb"]["SequenceNumber"]) for r in kept] == numbers[2:]
    after = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                       ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                       SequenceNumber=str(numbers[2]))["ShardIterator"]
    assert [r["dynamodb"]["SequenceNumber"] for r in
            streams.get_records(ShardIterator=after)["Records"]] == [str(numbers[3])]
    # A position inside the trimmed part is refused as DynamoDB Streams refuses it.
    with pytest.raises(streams.exceptions.TrimmedDataAccessException):
        streams.get_records(ShardIterator=early)
    # New writes are numbered on from the last record, trimmed or not.
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "NEW"}, "sk": {"S": "A"}})
    latest = streams.get_records(ShardIterator=after)["Records"]
    assert int(latest[-1]["dynamodb"]["SequenceNumber"]) == numbers[-1] + 1
    assert moto_patches.trim_stream(arn.replace(TABLE, "no-such-table"), "1") == 0


def test_stream_relay_trims_what_it_relayed(dynamodb):
    import threading

    from headless_commerce.local.events import StreamRelay

    _fill(dynamodb, 3)
    streams, arn, shard = _stream(dynamodb)
    trimmed = []

    class Bus:
        def put_events(self, Entries):
            return {"FailedEntryCount": 0}

    relay = StreamRelay(streams=streams, events=Bus(), table_stream_arn=arn, bus_name="bus",
                        region="us-east-1", relay=lambda records: [], stop=threading.Event(),
                        trim=lambda *args: trimmed.append(moto_patches.trim_stream(*args)))
    assert relay.poll() and trimmed == [3]
    horizon = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert streams.get_records(ShardIterator=horizon)["Records"] == []
    # A restart from a position older than the trim (a state saved mid-way) resumes at the
    # oldest record left instead of failing on the trimmed part.
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "NEW"}, "sk": {"S": "A"}})
    stale = {shard: str(int(relay.positions[shard]) - 2)}
    new = streams.get_records(ShardIterator=horizon)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in new] == ["NEW"]
    restarted = StreamRelay(streams=streams, events=Bus(), table_stream_arn=arn, bus_name="b",
                            region="us-east-1", stop=threading.Event(), positions=stale,
                            relay=lambda records: [])
    assert restarted.poll()
    assert restarted.positions[shard] == new[0]["dynamodb"]["SequenceNumber"]


def test_moto_keeps_no_model_objects_past_their_use(dynamodb):
    # moto's dashboard list kept every Item ever made (each put, each copy a read returns).
    from moto.dynamodb.models.dynamo_type import Item

    _fill(dynamodb, 30)
    for _ in range(20):
        dynamodb.query(TableName=TABLE, IndexName="gsi", KeyConditionExpression="gpk = :g",
                       ExpressionAttributeValues={":g": {"S": "G#1"}})
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "P#00001"}, "sk": {"S": "A"},
                                                 "gpk": {"S": "G#1"}, "gsk": {"S": "x"}})
    assert Item.instances_tracked == []
    gc.collect()
    alive = sum(1 for o in gc.get_objects() if type(o) is Item)
    stored = sum(len(p) for t in _tables() for p in t.items.values())
    # The tables' items, plus at most a few a cache still holds from before the last write.
    assert alive <= stored + 40, (alive, stored)


def _tables():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables.values()


def test_index_pages_are_what_motos_whole_partition_loop_answers(dynamodb, monkeypatch):
    _fill(dynamodb, 90)
    # Items with equal index sort keys (ordered by the table key after them) and one without
    # the index sort key (not in the index).
    for n in range(3):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"T#{n}"}, "sk": {"S": "A"},
                                                 "gpk": {"S": "G#2"}, "gsk": {"S": "00002"}})
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "U#1"}, "sk": {"S": "A"},
                                             "gpk": {"S": "G#2"}})

    def pages(**kwargs) -> list[list[dict]]:
        got, start = [], None
        while True:
            extra = {"ExclusiveStartKey": start} if start else {}
            page = dynamodb.query(TableName=TABLE, IndexName="gsi", **kwargs, **extra)
            got.append([page["Items"], page.get("LastEvaluatedKey"), page["Count"],
                        page["ScannedCount"]])
            start = page.get("LastEvaluatedKey")
            if not start:
                return got

    cases = [
        {"Limit": 4, "KeyConditionExpression": "gpk = :g"},
        {"Limit": 5, "ScanIndexForward": False, "KeyConditionExpression": "gpk = :g"},
        {"Limit": 13, "KeyConditionExpression": "gpk = :g"},    # exactly the partition
        {"Limit": 1, "KeyConditionExpression": "gpk = :g"},
        {"Limit": 3, "KeyConditionExpression": "gpk = :g", "FilterExpression": "stock = :s",
         "ExpressionAttributeValues": {":g": {"S": "G#2"}, ":s": {"N": "1"}}},
        {"Limit": 3, "KeyConditionExpression": "gpk = :g AND gsk > :k",
         "ExpressionAttributeValues": {":g": {"S": "G#2"}, ":k": {"S": "00030"}}},
        {"Limit": 2, "KeyConditionExpression": "gpk = :g", "ProjectionExpression": "pk, gsk"},
    ]
    for case in cases:
        kwargs = {"ExpressionAttributeValues": {":g": {"S": "G#2"}}, **case}
        windowed = pages(**kwargs)
        monkeypatch.setattr(moto_patches, "QUERY_WINDOW", False)
        whole = pages(**kwargs)
        monkeypatch.setattr(moto_patches, "QUERY_WINDOW", True)
        assert windowed == whole, case
        assert len(windowed) > 1 or case["Limit"] >= 13, case


def test_item_size_limit_is_where_motos_attribute_by_attribute_check_puts_it(dynamodb):
    # moto refuses an item whose attribute names and values pass 405,000 bytes; sized once now.
    key = {"pk": {"S": "BIG"}, "sk": {"S": "A"}}
    fixed = sum(len(name) + len(value["S"]) for name, value in key.items())
    names = [f"a{i:02d}" for i in range(40)]
    share = (405_000 - fixed) // len(names) - 3
    item = {**key, **{name: {"S": "x" * share} for name in names}}
    room = 405_000 - fixed - sum(len(n) + share for n in names)
    item["pad"] = {"S": "y" * (room - 3)}           # exactly at the limit: accepted
    dynamodb.put_item(TableName=TABLE, Item=item)
    item["pad"] = {"S": "y" * (room - 2)}           # one byte over: refused, nothing written
    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(TableName=TABLE, Item={**item, "pk": {"S": "BIGGER"}})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "BIGGER"},
                                                                  "sk": {"S": "A"}})


def test_bulk_load_puts_what_batch_write_item_would(dynamodb):
    items = [{"pk": {"S": f"BULK#{i}"}, "sk": {"S": "A"}, "gpk": {"S": "BULK"},
              "gsk": {"S": f"{i:03d}"}, "n": {"N": str(i)}} for i in range(60)]
    before = moto_patches.write_version()
    moto_patches.put_items(TABLE, "us-east-1", items)
    assert moto_patches.write_version() > before       # caches of reads before it are stale
    got = dynamodb.query(TableName=TABLE, IndexName="gsi", KeyConditionExpression="gpk = :g",
                         ExpressionAttributeValues={":g": {"S": "BULK"}})["Items"]
    assert sorted(got, key=lambda i: i["gsk"]["S"]) == items
    # The same checks as a put's: an empty key attribute is refused.
    with pytest.raises(Exception, match="empty string"):
        moto_patches.put_items(TABLE, "us-east-1", [{"pk": {"S": ""}, "sk": {"S": "A"}}])


def test_index_queries_follow_every_kind_of_write(dynamodb):
    """Index groups move only the items a write names: after puts, updates that change or drop
    the index key, deletes, batch writes and transactions (committed or cancelled), every
    index query answers what a scan of the table says it should."""
    import random

    rng = random.Random(11)
    _fill(dynamodb, 40)
    groups = [f"G#{i}" for i in range(7)] + ["G#new"]

    def check() -> None:
        items = dynamodb.scan(TableName=TABLE)["Items"]
        for group in groups:
            expected = sorted((i["gsk"]["S"], i["pk"]["S"]) for i in items
                              if i.get("gpk", {}).get("S") == group and "gsk" in i)
            got = dynamodb.query(TableName=TABLE, IndexName="gsi", KeyConditionExpression="gpk = :g",
                                 ExpressionAttributeValues={":g": {"S": group}})["Items"]
            assert [(i["gsk"]["S"], i["pk"]["S"]) for i in got] == expected, group

    def key(i: int) -> dict:
        return {"pk": {"S": f"P#{i:05d}"}, "sk": {"S": "A"}}

    check()
    for step in range(60):
        i, group = rng.randrange(50), rng.choice(groups)
        kind = step % 6
        if kind == 0:
            dynamodb.put_item(TableName=TABLE, Item={**key(i), "gpk": {"S": group},
                                                     "gsk": {"S": f"{i:05d}"}, "stock": {"N": "1"}})
        elif kind == 1:
            dynamodb.update_item(TableName=TABLE, Key=key(i), UpdateExpression="SET gpk = :g, gsk = :s",
                                 ExpressionAttributeValues={":g": {"S": group}, ":s": {"S": f"{i:05d}"}})
        elif kind == 2:
            dynamodb.update_item(TableName=TABLE, Key=key(i), UpdateExpression="REMOVE gpk")
        elif kind == 3:
            dynamodb.delete_item(TableName=TABLE, Key=key(i))
        elif kind == 4:
            dynamodb.batch_write_item(RequestItems={TABLE: [
                {"PutRequest": {"Item": {**key(i), "gpk": {"S": group}, "gsk": {"S": f"{i:05d}"}}}},
                {"DeleteRequest": {"Key": key((i + 1) % 50)}}]})
        else:
            moves = [{"Update": {"TableName": TABLE, "Key": key(i), "UpdateExpression": "SET gpk = :g",
                                 "ExpressionAttributeValues": {":g": {"S": group}}}}]
            if step % 12 == 5:        # a failing condition cancels the whole transaction
                moves.append({"ConditionCheck": {"TableName": TABLE, "Key": key(999),
                                                 "ConditionExpression": "attribute_exists(pk)"}})
                with pytest.raises(ClientError):
                    dynamodb.transact_write_items(TransactItems=moves)
            else:
                dynamodb.transact_write_items(TransactItems=moves)
        check()


def test_sqs_reads_the_same_clock_for_delays_and_visibility(endpoint):
    import time

    from moto.core.utils import unix_time
    from moto.sqs import models as sqs_models

    assert abs(sqs_models.unix_time() - unix_time()) < 0.05
    assert abs(sqs_models.unix_time_millis() - unix_time() * 1000) < 50
    sqs = _client(endpoint, "sqs")
    url = sqs.create_queue(QueueName="patched-clock")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)          # delayed
    time.sleep(1.2)
    received = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"]
    assert [m["Body"] for m in received] == ["later"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)          # in flight
    time.sleep(1.2)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["later"]
    sqs.delete_queue(QueueUrl=url)


def _tree(node) -> list:
    """A parsed expression as (class, attributes) rows, children in order, parents checked."""
    rows = [(type(node).__name__, {k: repr(v) for k, v in vars(node).items()
                                    if k not in ("children", "parent")})]
    for child in node.children or []:
        if hasattr(child, "children"):
            assert child.parent is node
            rows += _tree(child)
        else:
            rows.append(repr(child))
    return rows


def test_update_expressions_are_parsed_once_and_copied_whole(dynamodb):
    import copy

    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    expression = "SET stock = stock - :q, #n = :name REMOVE gone ADD tags :t"
    parsed = UpdateExpressionParser.make(expression)
    assert UpdateExpressionParser.make(expression) is parsed
    copied = copy.deepcopy(parsed)
    assert copied is not parsed and _tree(copied) == _tree(parsed)
    # Each update gets its own values from the one parsed tree, which stays as parsed.
    for number, (quantity, name) in enumerate([(2, "first"), (5, "second"), (1, "third")]):
        key = {"pk": {"S": f"U#{number}"}, "sk": {"S": "A"}}
        dynamodb.put_item(TableName=TABLE, Item={**key, "stock": {"N": "10"}, "gone": {"S": "x"}})
        dynamodb.update_item(TableName=TABLE, Key=key, UpdateExpression=expression,
                             ExpressionAttributeNames={"#n": "name"},
                             ExpressionAttributeValues={":q": {"N": str(quantity)},
                                                        ":name": {"S": name},
                                                        ":t": {"SS": [name]}})
        item = dynamodb.get_item(TableName=TABLE, Key=key)["Item"]
        assert item == {**key, "stock": {"N": str(10 - quantity)}, "name": {"S": name},
                        "tags": {"SS": [name]}}
    assert _tree(UpdateExpressionParser.make(expression)) == _tree(copied)


def test_botocore_requests_read_as_json_are_what_motos_parser_reads(dynamodb, monkeypatch):
    from moto.core.responses import BaseResponse
    from moto.dynamodb.responses import DynamoHandler

    compared = []
    patched = DynamoHandler.parse_parameters

    def both(self, request):
        patched(self, request)
        fast = self.params
        BaseResponse.parse_parameters(self, request)           # moto's shape walk
        assert fast == self.params, self._get_action()
        compared.append(self._get_action())

    monkeypatch.setattr(DynamoHandler, "parse_parameters", both)
    key = {"pk": {"S": "J#1"}, "sk": {"S": "A"}}
    item = {**key, "gpk": {"S": "J"}, "gsk": {"S": "1"}, "n": {"N": "1.50"}, "ok": {"BOOL": True},
            "none": {"NULL": True}, "tags": {"SS": ["a", "b"]}, "nums": {"NS": ["1", "2"]},
            "m": {"M": {"x": {"L": [{"S": "y"}, {"N": "2"}, {"M": {}}]}}}, "empty": {"S": ""}}
    dynamodb.put_item(TableName=TABLE, Item=item, ConditionExpression="attribute_not_exists(pk)")
    dynamodb.update_item(TableName=TABLE, Key=key, UpdateExpression="SET #n = #n + :d",
                         ExpressionAttributeNames={"#n": "n"},
                         ExpressionAttributeValues={":d": {"N": "1"}}, ReturnValues="ALL_NEW")
    dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True, ProjectionExpression="m, tags")
    dynamodb.query(TableName=TABLE, IndexName="gsi", KeyConditionExpression="gpk = :g",
                   ExpressionAttributeValues={":g": {"S": "J"}}, Limit=1,
                   ExclusiveStartKey={**key, "gpk": {"S": "J"}, "gsk": {"S": "0"}})
    dynamodb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": {**key, "sk": {"S": "B"}}}}]})
    dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": [key, {**key, "sk": {"S": "B"}}]}})
    dynamodb.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": TABLE, "Key": key, "ConditionExpression": "ok = :t",
                            "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
        {"Delete": {"TableName": TABLE, "Key": {**key, "sk": {"S": "B"}}}}])
    dynamodb.scan(TableName=TABLE, Limit=5)
    assert {"PutItem", "UpdateItem", "GetItem", "Query", "BatchWriteItem", "BatchGetItem",
            "TransactWriteItems", "Scan"} <= set(compared)
    # A binary value is read by moto's parser (base64 decoded), and comes back as it went in.
    dynamodb.put_item(TableName=TABLE, Item={**key, "sk": {"S": "BIN"}, "b": {"B": b"\x00\xff"}})
    got = dynamodb.get_item(TableName=TABLE, Key={**key, "sk": {"S": "BIN"}})["Item"]
    assert got["b"] == {"B": b"\x00\xff"}


def test_calls_to_the_embedded_endpoint_name_their_region_unsigned(endpoint):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    def signed(url: str) -> str:
        request = AWSRequest(method="POST", url=url, data=b"{}",
                             headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"})
        SigV4Auth(Credentials("AKIDLOCAL", "secret"), "dynamodb", "eu-west-3").add_auth(request)
        return request.headers["Authorization"]

    local, remote = signed(endpoint + "/"), signed("https://dynamodb.eu-west-3.amazonaws.com/")
    assert local.startswith("AWS4-HMAC-SHA256 Credential=AKIDLOCAL/") and "/eu-west-3/dynamodb/" in local
    assert local.endswith("Signature=" + "0" * 64)
    assert "Signature=" + "0" * 64 not in remote and "/eu-west-3/dynamodb/aws4_request" in remote
    # moto reads the region from it: the table is made in eu-west-3.
    client = boto3.session.Session().client("dynamodb", endpoint_url=endpoint, region_name="eu-west-3",
                                            aws_access_key_id="x", aws_secret_access_key="x")
    client.create_table(TableName="in-eu-west-3", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    assert "in-eu-west-3" in dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-3"].tables
    assert "in-eu-west-3" not in dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables
    request_id = client.list_tables()["ResponseMetadata"]["RequestId"]
    assert len(request_id) == 52 and request_id.isalnum()
    client.delete_table(TableName="in-eu-west-3")
