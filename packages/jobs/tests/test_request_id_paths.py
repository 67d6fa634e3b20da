"""One request id, followed on every provider's path: an HTTP call to a servicekit app writes a job into the
outbox in its transaction; the relay publishes it (Redis Streams, Pub/Sub, Trigger.dev with its relay, QStash);
a consumer loop or the push endpoint, served over a real socket by werkzeug (which, like gunicorn, drops header
names with underscores), runs the handler; the handler's JSON log line carries the id the caller sent, and the
handler sees every attribute as it was written."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from flask import request
from jobs import JobContext
from jobs.outbox import LATEST_VERSION, OutboxRelay, create_outbox_table, enqueue
from jobs_support import Harness, wait_until
from pydantic import BaseModel
from servicekit import ServiceSettings, public
from servicekit import create_app as servicekit_app
from servicekit.logs import JsonFormatter

pytestmark = pytest.mark.integration
SCHEMA = "trace_test"


class Thing(BaseModel):
    n: int


@pytest.fixture(scope="module")
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    name = f"trace_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    eng = sa.create_engine(sa.make_url(postgres_url).set(database=name))
    with eng.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        create_outbox_table(Operations(MigrationContext.configure(conn)), SCHEMA, version=LATEST_VERSION)
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture()
def handler_lines() -> Iterator[io.StringIO]:
    """The handler's log lines as the services write them (servicekit's JSON lines)."""
    stream = io.StringIO()
    sink = logging.StreamHandler(stream)
    sink.setFormatter(JsonFormatter("consumer"))
    logger = logging.getLogger("trace.handler")
    logger.addHandler(sink)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(sink)


@pytest.mark.parametrize("harness", ["redis", "pubsub", "trigger", "qstash"], indirect=True)
def test_the_request_id_reaches_the_handlers_log_line(
    harness: Harness, engine: sa.Engine, handler_lines: io.StringIO
) -> None:
    log = logging.getLogger("trace.handler")
    seen: list[dict[str, str]] = []

    def handle(thing: Thing, ctx: JobContext) -> None:
        seen.append(dict(ctx.attributes))
        log.info("thing handled", extra={"job_id": ctx.id, "n": thing.n})

    harness.registry.register("thing.happened", Thing, handle)
    harness.start()

    producer = servicekit_app(ServiceSettings(jwt_secret="x" * 32, service_name="producer"), import_name="producer")

    @producer.post("/things")
    @public
    def make_thing():
        with engine.begin() as conn:
            job_id = enqueue(
                conn,
                "thing.happened",
                {"n": request.get_json()["n"]},
                schema=SCHEMA,
                registry=harness.registry,
                attributes={"source": "producer", "note": "crème & (co)"},
            )
        return {"job_id": job_id}

    request_id = f"req-{harness.name}-{uuid.uuid4().hex[:12]}"
    answer = producer.test_client().post("/things", json={"n": 7}, headers={"X-Request-ID": request_id})
    assert answer.status_code == 200 and answer.headers["X-Request-ID"] == request_id
    job_id = answer.get_json()["job_id"]

    relay = OutboxRelay(engine, SCHEMA, harness.dispatcher)
    assert relay.run_once() >= 1
    assert wait_until(lambda: any(a.get("request_id") == request_id for a in seen), timeout=15), seen

    lines = [json.loads(line) for line in handler_lines.getvalue().splitlines()]
    [line] = [x for x in lines if x.get("job_id") == job_id]
    assert (line["message"], line["request_id"], line["n"]) == ("thing handled", request_id, 7)
    [attributes] = [a for a in seen if a.get("request_id") == request_id]
    assert attributes == {"request_id": request_id, "source": "producer", "note": "crème & (co)"}
