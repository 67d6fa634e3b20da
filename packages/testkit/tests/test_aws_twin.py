"""The AWS twin keeps DynamoDB's promises that dispatch-service relies on: conditional writes and transactions
are atomic under concurrent requests, and a cancelled transaction leaves every item as it was."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


@pytest.fixture()
def dynamodb(moto_url: str):
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=32, retries={"max_attempts": 1}),
    )
    name = f"twin-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return client, name


def _get(client, table: str, pk: str, sk: str) -> dict | None:
    return client.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get("Item")


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb) -> None:
    client, table = dynamodb
    client.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    client.put_item(TableName=table, Item={"pk": {"S": "lease"}, "sk": {"S": "day"}, "token": {"N": "7"}})

    with pytest.raises(ClientError) as refused:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "2"}}}},
                {"Put": {"TableName": table, "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}, "v": {"N": "2"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "2"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"N": "3"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "lease"}, "sk": {"S": "day"}},
                        "ConditionExpression": "#t = :mine",
                        "ExpressionAttributeNames": {"#t": "token"},
                        "ExpressionAttributeValues": {":mine": {"N": "6"}},
                    }
                },
            ]
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r.get("Code") for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert _get(client, table, "a", "1")["v"] == {"N": "1"}
    assert _get(client, table, "b", "1") is None
    assert _get(client, table, "a", "2") is None
    assert _get(client, table, "lease", "day")["token"] == {"N": "7"}


def test_a_transaction_applies_all_its_writes(dynamodb) -> None:
    client, table = dynamodb
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "p"}, "sk": {"S": str(i)}}}} for i in range(100)
        ]
    )
    count = client.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        Select="COUNT",
        ConsistentRead=True,
    )["Count"]
    assert count == 100


def test_one_winner_for_each_conditional_put_however_many_race(dynamodb) -> None:
    client, table = dynamodb
    winners: dict[str, list[int]] = {}
    guard = threading.Lock()

    def claim(key: str, who: int) -> None:
        try:
            client.put_item(
                TableName=table,
                Item={"pk": {"S": "claim"}, "sk": {"S": key}, "who": {"N": str(who)}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return
        with guard:
            winners.setdefault(key, []).append(who)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda job: claim(*job), [(f"k{k}", who) for k in range(40) for who in range(8)]))
    assert sorted(winners) == sorted(f"k{k}" for k in range(40))
    assert all(len(w) == 1 for w in winners.values())
    for key, (who,) in winners.items():
        assert _get(client, table, "claim", key)["who"] == {"N": str(who)}


def test_no_update_is_lost_between_fenced_transactions(dynamodb) -> None:
    """Each writer reads the version, then commits version+1 in a transaction conditioned on what it read: under
    any interleaving, the final version equals the number of commits that succeeded."""
    client, table = dynamodb
    client.put_item(TableName=table, Item={"pk": {"S": "head"}, "sk": {"S": "v"}, "n": {"N": "0"}})
    committed: list[int] = []

    def bump(_worker: int) -> None:
        for _ in range(10):
            seen = int(_get(client, table, "head", "v")["n"]["N"])
            try:
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": table,
                                "Key": {"pk": {"S": "head"}, "sk": {"S": "v"}},
                                "UpdateExpression": "SET n = :next",
                                "ConditionExpression": "n = :seen",
                                "ExpressionAttributeValues": {":seen": {"N": str(seen)}, ":next": {"N": str(seen + 1)}},
                            }
                        },
                        {"Put": {"TableName": table, "Item": {"pk": {"S": "log"}, "sk": {"S": f"{seen + 1:06d}"}}}},
                    ]
                )
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "TransactionCanceledException"
                continue
            committed.append(seen + 1)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, range(8)))
    final = int(_get(client, table, "head", "v")["n"]["N"])
    assert sorted(committed) == list(range(1, final + 1))
    logged = client.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "log"}},
        ConsistentRead=True,
    )["Items"]
    assert len(logged) == final


def test_objects_round_trip_through_s3(moto_url: str) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = f"twin-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    body = b"x" * (3 * 1024 * 1024 + 7)
    s3.put_object(Bucket=bucket, Key="a/b.json", Body=body)
    assert s3.get_object(Bucket=bucket, Key="a/b.json")["Body"].read() == body
