"""The AWS twin with a state folder keeps everything it answered for: through SIGKILL at any moment (mid-traffic,
mid-compaction, mid-replay), through a torn last journal record, and through compaction, which keeps every
table setting (indexes, time-to-live, backups, tags) and every S3 object version as it was.

The kills are real (a twin process, SIGKILL). The other tests run the twin in this process, which saves a
process start per restart: moto's backends are this process's, so a restart forgets them first."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from moto.core.base_backend import BackendDict
from testkit.aws_contents import clients, contents
from testkit.aws_twin import main as twin_main
from testkit.aws_twin import make_twin
from testkit.aws_twin_store import Entry, read_records
from testkit.servers import free_port, start_process

pytestmark = pytest.mark.integration
TABLE = "Twin"


class Twin:
    """`python -m testkit.aws_twin --state-dir ...` as a process; started again and again on one folder."""

    def __init__(self, state: Path, *options: str):
        self.state = state
        self.options = options
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = state.parent / "twin.log"
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "testkit.aws_twin",
            "-p",
            str(self.port),
            "--state-dir",
            str(self.state),
            *self.options,
        ]

    def start(self) -> Twin:
        with self.log.open("a") as log:
            self.proc = start_process(self.command(), port=self.port, stdout=log, timeout=60)
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=60) == 0

    def output(self) -> str:
        return self.log.read_text()

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            # One attempt: a write retried after a kill would blur which attempt was answered.
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=30),
        )


@pytest.fixture()
def twin(tmp_path: Path):
    made: list[Twin] = []

    def make(*options: str) -> Twin:
        made.append(Twin(tmp_path / "state", *options))
        return made[-1]

    yield make
    for each in made:
        if each.proc is not None and each.proc.poll() is None:
            each.kill()


def create_table(dynamodb) -> None:
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "day", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_day_status",
                "KeySchema": [
                    {"AttributeName": "day", "KeyType": "HASH"},
                    {"AttributeName": "status", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


# --- killed mid-traffic ----------------------------------------------------------------------------------------


@dataclass
class History:
    """What the twin answered for, written by the traffic threads."""

    counted: list[int] = field(default_factory=list)  # counter values committed by fenced transactions
    batches: list[int] = field(default_factory=list)  # BatchWriteItem calls answered
    objects: dict[str, str] = field(default_factory=dict)  # S3 key -> digest of the body stored
    statuses: dict[str, str] = field(default_factory=dict)  # item -> status an UpdateItem answered for
    in_flight: int = 0  # calls whose answer the kill cut off
    cut_moves: dict[str, str] = field(default_factory=dict)  # item -> status of an update a kill cut off
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self) -> int:
        return len(self.counted) + len(self.batches) + len(self.objects) + len(self.statuses)


def traffic(twin: Twin, history: History, stop: threading.Event, round_number: int) -> list[threading.Thread]:
    """Writers of every kind dispatch-service uses, some contending for one item, until `stop` or a kill."""
    dynamodb, s3 = twin.client("dynamodb"), twin.client("s3")

    def cut_off() -> None:
        with history.lock:
            history.in_flight += 1

    def bump() -> None:
        while not stop.is_set():
            try:
                seen = int(
                    dynamodb.get_item(
                        TableName=TABLE, Key={"pk": {"S": "counter"}, "sk": {"S": "n"}}, ConsistentRead=True
                    )["Item"]["n"]["N"]
                )
            except (BotoCoreError, ClientError):
                return
            try:
                dynamodb.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": TABLE,
                                "Key": {"pk": {"S": "counter"}, "sk": {"S": "n"}},
                                "UpdateExpression": "SET n = :next",
                                "ConditionExpression": "n = :seen",
                                "ExpressionAttributeValues": {":seen": {"N": str(seen)}, ":next": {"N": str(seen + 1)}},
                            }
                        },
                        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "log"}, "sk": {"S": f"{seen + 1:08d}"}}}},
                    ]
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "TransactionCanceledException":
                    continue
                cut_off()
                return
            except BotoCoreError:
                cut_off()
                return
            with history.lock:
                history.counted.append(seen + 1)

    def batch() -> None:
        number = round_number * 100_000
        while not stop.is_set():
            number += 1
            requests = [
                {
                    "PutRequest": {
                        "Item": {
                            "pk": {"S": f"batch-{number}"},
                            "sk": {"S": f"{i:02d}"},
                            "day": {"S": "2026-12-01"},
                            "status": {"S": "assigned"},
                        }
                    }
                }
                for i in range(25)
            ]
            try:
                dynamodb.batch_write_item(RequestItems={TABLE: requests})
            except (BotoCoreError, ClientError):
                cut_off()
                return
            with history.lock:
                history.batches.append(number)

    def upload() -> None:
        number = round_number * 100_000
        while not stop.is_set():
            number += 1
            body = os.urandom(random.randint(1, 64 * 1024))
            try:
                s3.put_object(Bucket="twin-bucket", Key=f"objects/{number}", Body=body)
            except (BotoCoreError, ClientError):
                cut_off()
                return
            with history.lock:
                history.objects[f"objects/{number}"] = hashlib.sha256(body).hexdigest()

    def move() -> None:
        statuses = ["accepted", "in_progress", "delivered", "assigned"]
        step = 0
        while not stop.is_set():
            step += 1
            key = f"{step % 25:02d}"
            try:
                dynamodb.update_item(
                    TableName=TABLE,
                    Key={"pk": {"S": "moving"}, "sk": {"S": key}},
                    UpdateExpression="SET #s = :s, #d = :d",
                    ExpressionAttributeNames={"#s": "status", "#d": "day"},
                    ExpressionAttributeValues={":s": {"S": statuses[step % 4]}, ":d": {"S": "2026-12-01"}},
                )
            except (BotoCoreError, ClientError):
                cut_off()
                history.cut_moves[key] = statuses[step % 4]
                return
            with history.lock:
                history.statuses[key] = statuses[step % 4]
                history.cut_moves.pop(key, None)

    workers = [bump, bump, bump, bump, batch, upload, move]
    threads = [threading.Thread(target=work, daemon=True) for work in workers]
    for thread in threads:
        thread.start()
    return threads


def assert_everything_answered_is_there(twin: Twin, history: History) -> None:
    dynamodb, s3 = twin.client("dynamodb"), twin.client("s3")
    counter = int(
        dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "counter"}, "sk": {"S": "n"}}, ConsistentRead=True)["Item"][
            "n"
        ]["N"]
    )
    logged = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "log"}},
        ConsistentRead=True,
    )["Items"]
    answered = max(history.counted, default=0)
    # Every commit answered is there; the only ones not answered are those a kill cut off.
    assert answered <= counter <= answered + history.in_flight, (answered, counter, history.in_flight)
    assert sorted(int(item["sk"]["S"]) for item in logged) == list(range(1, counter + 1))
    assert sorted(history.counted) == sorted(set(history.counted)), "one value committed twice"
    for number in history.batches:
        found = dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"batch-{number}"}},
            ConsistentRead=True,
            Select="COUNT",
        )["Count"]
        assert found == 25, (number, found)
    for key, digest in history.objects.items():
        assert hashlib.sha256(s3.get_object(Bucket="twin-bucket", Key=key)["Body"].read()).hexdigest() == digest
    for key, status in history.statuses.items():
        item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "moving"}, "sk": {"S": key}}, ConsistentRead=True)
        # The last answered status, or the one whose update the kill cut off.
        assert item["Item"]["status"]["S"] in (status, history.cut_moves.get(key)), (key, item, status)
    on_index = dynamodb.query(
        TableName=TABLE,
        IndexName="by_day_status",
        KeyConditionExpression="#d = :d",
        ExpressionAttributeNames={"#d": "day"},
        ExpressionAttributeValues={":d": {"S": "2026-12-01"}},
    )["Items"]
    assert {(i["pk"]["S"], i["sk"]["S"]) for i in on_index} >= {(f"batch-{n}", "00") for n in history.batches}


def kill_while_it_loads(aws: Twin, rng: random.Random) -> None:
    """Start the twin and kill it while it replays what the last kill left, or compacts it."""
    early = subprocess.Popen(aws.command(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert early.stdout is not None
    assert "loading its state" in early.stdout.readline()
    time.sleep(rng.uniform(0.0, 0.6))
    early.send_signal(signal.SIGKILL)
    early.wait()


def test_killed_mid_traffic_mid_compaction_and_mid_replay_it_keeps_every_write_it_answered(twin) -> None:
    # A small compaction threshold, so that compactions run (and get killed) in the middle of the traffic.
    aws = twin("--compact-after-seconds", "0.3").start()
    create_table(aws.client("dynamodb"))
    aws.client("dynamodb").put_item(TableName=TABLE, Item={"pk": {"S": "counter"}, "sk": {"S": "n"}, "n": {"N": "0"}})
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="twin-bucket")
    s3.put_bucket_versioning(Bucket="twin-bucket", VersioningConfiguration={"Status": "Enabled"})
    history = History()
    rng = random.Random(27)
    for round_number in range(2):
        stop = threading.Event()
        threads = traffic(aws, history, stop, round_number)
        # Some of every kind answered first (the machine's load decides how long that takes), then a kill at
        # a moment of chance: every writer has a call in the air or about to be.
        answered = history.answered() + 40
        deadline = time.monotonic() + 60
        while history.answered() < answered and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        aws.kill()
        stop.set()
        for thread in threads:
            thread.join(30)
        if round_number == 0:
            kill_while_it_loads(aws, rng)
        aws.start()
        assert_everything_answered_is_there(aws, history)
    assert history.counted and history.batches and history.objects and history.statuses, history
    output = aws.output()
    assert "compacted into snapshot generation" in output, output
    assert "on replay" not in output, output  # every replayed request answered as it first did
    aws.stop()


# --- in this process ---------------------------------------------------------------------------------------------


class InProcessTwin:
    """make_twin in a thread of this process, started again on one folder."""

    def __init__(self, state: Path):
        self.state = state
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.twin = None

    def start(self) -> InProcessTwin:
        self.twin = make_twin("127.0.0.1", self.port, state_dir=self.state, fsync=False)
        threading.Thread(target=self.twin.serve_forever, daemon=True).start()
        return self

    def crash(self) -> None:
        """The folder as a kill would leave it: nothing written beyond the records of the requests answered."""
        assert self.twin is not None and self.twin.persistence is not None
        self.twin.server.shutdown()
        self.twin.server_close()
        persistence = self.twin.persistence
        persistence._stopping = True
        persistence._wanted.set()
        persistence._compactor.join(30)
        persistence.store.close()
        forget_moto()

    def stop(self) -> None:
        assert self.twin is not None
        self.twin.shutdown()
        self.twin.server_close()
        forget_moto()

    def wait_for_compaction(self) -> None:
        assert self.twin is not None and self.twin.persistence is not None
        store = self.twin.persistence.store
        deadline = time.monotonic() + 30
        while store.written_generation < store.generation and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.written_generation == store.generation


def forget_moto() -> None:
    """What a new process starts from: no DynamoDB or S3 state."""
    BackendDict.reset()


@pytest.fixture()
def in_process(tmp_path: Path):
    made: list[InProcessTwin] = []

    def make() -> InProcessTwin:
        made.append(InProcessTwin(tmp_path / "state"))
        return made[-1]

    yield make
    for each in made:
        if each.twin is not None and each.twin.persistence is not None and each.twin.persistence.store.journal:
            each.stop()


def test_a_torn_last_journal_record_is_cut_off_and_the_journal_goes_on_after_it(in_process) -> None:
    aws = in_process().start()
    dynamodb = clients(aws.url)[0]
    create_table(dynamodb)
    for i in range(20):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "kept"}, "sk": {"S": f"{i:02d}"}})
    before = contents(aws.url)
    aws.crash()
    (journal,) = sorted(aws.state.glob("journal-*"))
    # Part of the record of a put that was never answered: what a kill in the middle of its write leaves.
    last = Entry.decode(list(read_records(journal))[-1][1])
    ghost = Entry(last.time, last.seed, last.environ, last.body.replace(b'"kept"', b'"ghost"'), 200).encode()
    with journal.open("ab") as torn:
        torn.write(ghost[: len(ghost) // 2])
    aws.start()
    opened = aws.twin.opened
    assert opened.cut_bytes == len(ghost) // 2 and opened.replayed == 21, opened
    assert contents(aws.url) == before
    clients(aws.url)[0].put_item(TableName=TABLE, Item={"pk": {"S": "after"}, "sk": {"S": "00"}})
    aws.crash()
    aws.start()
    items = contents(aws.url)["tables"][TABLE]["items"]
    assert len(items) == 21 and set(before["tables"][TABLE]["items"]) < set(items)


def fill_with_everything(url: str) -> None:
    dynamodb, s3 = clients(url)
    create_table(dynamodb)
    dynamodb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    dynamodb.update_continuous_backups(
        TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "dispatch"}])
    dynamodb.create_table(
        TableName="WithLocalIndex",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "at", "AttributeType": "S"},
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by_at",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        SSESpecification={"Enabled": True},
    )
    for i in range(60):
        dynamodb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": f"driver_{i % 7}"},
                "sk": {"S": str(uuid.UUID(int=i))},
                "day": {"S": f"2026-12-0{1 + i % 3}"},
                "status": {"S": ["assigned", "accepted", "delivered"][i % 3]},
                "weight": {"N": f"{i * 1.5}"},
                "labels": {"SS": ["a", f"t{i}"]},
                "raw": {"B": bytes([i, 0, 255])},
                "nested": {"M": {"list": {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": False}]}}},
                "expires": {"N": str(1_900_000_000 + i)},
            },
        )
        dynamodb.put_item(TableName="WithLocalIndex", Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "at": {"S": f"{i}"}})
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "driver_1"}, "sk": {"S": str(uuid.UUID(int=1))}},
        UpdateExpression="SET #s = :s ADD labels :t REMOVE #r",
        ExpressionAttributeNames={"#s": "status", "#r": "raw"},
        ExpressionAttributeValues={":s": {"S": "in_progress"}, ":t": {"SS": ["moved"]}},
    )
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "driver_2"}, "sk": {"S": str(uuid.UUID(int=2))}})
    s3.create_bucket(Bucket="twin-versioned")
    s3.put_bucket_versioning(Bucket="twin-versioned", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket="twin-versioned", Tagging={"TagSet": [{"Key": "kept", "Value": "yes"}]})
    for body in (b"first", b"second", b"third"):
        s3.put_object(Bucket="twin-versioned", Key="manifests/1.json", Body=body, ContentType="application/json")
    s3.put_object(Bucket="twin-versioned", Key="logs/a b+c.jsonl", Body=b"{}\n", Metadata={"run_id": "r-1"})
    s3.delete_object(Bucket="twin-versioned", Key="logs/a b+c.jsonl")
    s3.create_bucket(Bucket="twin-plain")
    s3.upload_fileobj(
        io.BytesIO(os.urandom(6 * 1024 * 1024)),
        "twin-plain",
        "big/multipart.bin",
        Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024),
    )


def test_replay_and_compaction_keep_tables_indexes_settings_and_every_object_version(in_process) -> None:
    aws = in_process().start()
    fill_with_everything(aws.url)
    before = contents(aws.url)
    assert before["tables"][TABLE]["time_to_live"]["TimeToLiveStatus"] == "ENABLED"
    assert before["tables"]["WithLocalIndex"]["description"]["LocalSecondaryIndexes"]
    assert len(before["buckets"]["twin-versioned"]["versions"]) == 4
    assert before["buckets"]["twin-versioned"]["delete_markers"]

    aws.crash()
    aws.start()  # from the journal alone
    assert aws.twin.opened.replayed > 70 and not aws.twin.opened.notes, aws.twin.opened
    assert contents(aws.url) == before
    aws.wait_for_compaction()  # what was replayed is compacted at once
    aws.crash()
    assert (aws.state / "snapshot").exists() and not (aws.state / "journal-0000000000").exists()
    aws.start()  # from the snapshot alone
    assert aws.twin.opened.replayed == 0 and aws.twin.opened.snapshot_bytes > 6 * 1024 * 1024
    assert contents(aws.url) == before
    clients(aws.url)[1].put_object(Bucket="twin-plain", Key="late", Body=b"late")
    aws.stop()  # compacts at shutdown
    aws.start()
    assert aws.twin.opened.replayed == 0
    after = contents(aws.url)
    late = after["buckets"]["twin-plain"]["versions"].pop()
    assert late["Key"] == "late" and after == before


def test_the_command_refuses_a_folder_another_twin_holds(in_process, capsys) -> None:
    aws = in_process().start()
    assert twin_main(["-p", str(free_port()), "--state-dir", str(aws.state)]) == 2
    assert "another AWS twin is using" in capsys.readouterr().err


def test_what_dispatch_service_writes_comes_back_from_the_journal_and_from_a_snapshot(in_process, monkeypatch) -> None:
    """dispatch-service's own flows (the day's lists, /assign twice, /update) against a twin with its state
    folder: whatever DynamoDB and S3 operations the service uses, a restart gives them all back."""
    from dispatch_service import create_app
    from dispatch_service.domain.generator import generate_day
    from dispatch_service.settings import Settings
    from dispatch_service.wiring import build_dependencies
    from servicekit import issue_token

    aws = in_process().start()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "l",
        "AWS_SECRET_ACCESS_KEY": "l",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    settings = Settings(jwt_secret="twin-test-secret-long-enough-for-hs256-0123456789", aws_endpoint_url=aws.url)
    client = create_app(settings, build_dependencies(settings)).test_client()
    headers = {"Authorization": f"Bearer {issue_token(settings, 'dispatcher')[0]}"}
    day = "2026-11-30"
    lists = generate_day(dt.date(2026, 11, 30), 12, 150, seed=3).model_dump(mode="json", exclude_none=True)
    assert client.post(f"/days/{day}/manifest", json=lists, headers=headers).status_code == 201
    drivers = [d["driver_id"] for d in lists["drivers"]]
    answers = []
    for part, key in ((drivers[:5], "first"), (drivers[5:], "second")):
        answer = client.post(
            "/assign",
            json={"driver_ids": part, "max_per_driver": 6, "date": day},
            headers={**headers, "Idempotency-Key": key},
        )
        assert answer.status_code == 200, answer.get_json()
        answers.append(answer.get_json())
    pairs = [(d, p) for answer in answers for d, packages in answer["assignments"].items() for p in packages]
    for driver, package in pairs[:10]:
        moved = client.post(
            "/update", json={"driver_id": driver, "package_id": package, "status": "accepted"}, headers=headers
        )
        assert moved.status_code == 200, moved.get_json()

    def held() -> dict:
        return {
            driver: client.get(
                "/assignments", query_string={"driver_id": driver, "date": day}, headers=headers
            ).get_json()
            for driver in drivers
        }

    before, service_view = contents(aws.url), held()
    assert sum(len(v["items"]) for v in service_view.values()) == len(pairs) > 30
    aws.crash()
    aws.start()
    assert not aws.twin.opened.notes, aws.twin.opened.notes  # every request answered on replay as it first did
    assert contents(aws.url) == before and held() == service_view
    aws.wait_for_compaction()
    aws.crash()
    aws.start()
    assert aws.twin.opened.replayed == 0 and contents(aws.url) == before and held() == service_view
