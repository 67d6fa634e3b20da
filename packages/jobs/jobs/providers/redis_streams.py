"""Redis Streams provider: one stream per job type, one consumer group per consuming application.

- stream `<prefix>:<type>` (fields `id`, `payload`, `attributes`), group `JOBS_REDIS_GROUP`;
- a job is XACKed after its handler succeeded; until then it sits in the group's pending list;
- a failed job stays pending and is made claimable again after `retry_delay` (its idle time is
  rewound with XCLAIM ... IDLE), then taken back by XAUTOCLAIM like the jobs of a dead consumer, whose
  entries become claimable after `claim_idle` without a heartbeat. The delivery count Redis keeps is
  the attempt number;
- while a handler runs, a heartbeat re-claims its entry (JUSTID) so that nobody steals a slow job;
- after `max_attempts` deliveries, or on a permanent error, the job is copied to `<prefix>:dead:<type>`
  and acknowledged in one MULTI, so it is parked exactly once.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any, cast

import redis
from redis.typing import EncodableT, FieldT

from .. import metrics
from ..errors import PublishError
from ..settings import JobsSettings
from ..spi import Deliver, Job, JobProvider, is_permanent

log = logging.getLogger("jobs.redis")

# The client decodes replies (decode_responses=True) over RESP2, so each reply has one of the shapes that
# redis-py's annotations allow for every protocol and decoding (bytes or str, lists or maps): these name it.
Fields = dict[str, str]
Entry = tuple[str, Fields | None]  # an entry trimmed away while pending has no fields left


class RedisStreamsProvider(JobProvider):
    name = "redis"

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "jobs",
        group: str = "workers",
        max_attempts: int = 5,
        retry_delay_seconds: float = 10.0,
        claim_idle_seconds: float = 60.0,
        max_len: int = 1_000_000,
        block_seconds: float = 1.0,
    ):
        self.client = client
        self.prefix = prefix
        self.group = group
        self.max_attempts = max_attempts
        self.retry_delay_ms = int(retry_delay_seconds * 1000)
        self.claim_idle_ms = int(claim_idle_seconds * 1000)
        self.max_len = max_len
        self.block_ms = int(block_seconds * 1000)
        self._groups_ready: set[str] = set()

    @classmethod
    def from_settings(cls, settings: JobsSettings) -> RedisStreamsProvider:
        client = redis.Redis.from_url(settings.redis_url, decode_responses=True, health_check_interval=30)
        return cls(
            client,
            prefix=settings.redis_prefix,
            group=settings.redis_group,
            max_attempts=settings.max_attempts,
            retry_delay_seconds=settings.retry_delay_seconds,
            claim_idle_seconds=settings.redis_claim_idle_seconds,
            max_len=settings.redis_max_len,
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisStreamsProvider:
        return cls(redis.Redis.from_url(url, decode_responses=True), **kwargs)

    def stream(self, job_type: str) -> str:
        return f"{self.prefix}:{job_type}"

    def dead_stream(self, job_type: str) -> str:
        return f"{self.prefix}:dead:{job_type}"

    # -- producer side ---------------------------------------------------------------------------

    def publish(self, job: Job) -> None:
        try:
            # Approximate trimming keeps memory bounded; max_len is far above any sane backlog.
            self.client.xadd(
                self.stream(job.type),
                {
                    "id": job.id,
                    "payload": json.dumps(job.payload, separators=(",", ":")),
                    "attributes": json.dumps(dict(job.attributes), separators=(",", ":")),
                },
                maxlen=self.max_len,
                approximate=True,
            )
        except redis.RedisError as exc:
            raise PublishError(f"redis did not take job {job.id}: {exc}") from exc

    def provision(self, job_types: Iterable[str]) -> None:
        for job_type in job_types:
            self._ensure_group(self.stream(job_type))

    def _ensure_group(self, stream: str) -> None:
        if stream in self._groups_ready:
            return
        try:
            # id 0: a group created after jobs were published still receives them.
            self.client.xgroup_create(stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups_ready.add(stream)

    def ping(self) -> None:
        self.client.ping()

    def close(self) -> None:
        self.client.close()

    # -- consumer side ---------------------------------------------------------------------------

    def consume(self, job_types: Iterable[str], deliver: Deliver, stop: threading.Event) -> None:
        types = list(job_types)
        streams = {self.stream(t): t for t in types}
        consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        reclaim_every = max(0.2, min(self.claim_idle_ms, max(self.retry_delay_ms, 200)) / 2000)
        next_reclaim = 0.0
        while not stop.is_set():
            try:
                for stream in streams:
                    self._ensure_group(stream)
                if time.monotonic() >= next_reclaim:
                    next_reclaim = time.monotonic() + reclaim_every
                    for stream, job_type in streams.items():
                        self._reclaim(stream, job_type, consumer, deliver, stop)
                if stop.is_set():
                    break
                block = int(min(self.block_ms, max(50, (next_reclaim - time.monotonic()) * 1000)))
                reply = self.client.xreadgroup(self.group, consumer, {s: ">" for s in streams}, count=1, block=block)
                batch = cast(list[tuple[str, list[Entry]]] | None, reply)
                for stream, entries in batch or []:
                    for entry_id, fields in entries:
                        self._handle(stream, streams[stream], entry_id, fields, 1, consumer, deliver)
            except redis.ConnectionError as exc:
                log.warning("redis unavailable, retrying: %s", exc)
                self._groups_ready.clear()
                stop.wait(1.0)

    def _reclaim(self, stream: str, job_type: str, consumer: str, deliver: Deliver, stop: threading.Event) -> None:
        start = "0-0"
        while not stop.is_set():
            result = self.client.xautoclaim(stream, self.group, consumer, self.claim_idle_ms, start_id=start, count=10)
            start, entries = result[0], result[1]
            for entry_id, fields in entries:
                if stop.is_set():
                    # Claimed but not run: rewind its idle time so another consumer takes it at once.
                    self.client.xclaim(
                        stream, self.group, consumer, 0, [entry_id], idle=self.claim_idle_ms, justid=True
                    )
                    continue
                self._handle(
                    stream, job_type, entry_id, fields, self._delivery_count(stream, entry_id), consumer, deliver
                )
            if start in ("0-0", b"0-0") or not entries:
                return

    def _delivery_count(self, stream: str, entry_id: str) -> int:
        pending = self.client.xpending_range(stream, self.group, min=entry_id, max=entry_id, count=1)
        return int(pending[0]["times_delivered"]) if pending else 1

    def _handle(
        self,
        stream: str,
        job_type: str,
        entry_id: str,
        fields: Fields | None,
        attempt: int,
        consumer: str,
        deliver: Deliver,
    ) -> None:
        if not fields:  # trimmed away while pending: nothing left to run
            self.client.xack(stream, self.group, entry_id)
            return
        try:
            job = Job(
                type=job_type,
                payload=json.loads(fields["payload"]),
                id=fields["id"],
                attributes=json.loads(fields.get("attributes") or "{}"),
                attempt=attempt,
            )
        except (KeyError, ValueError) as exc:
            self._dead_letter(stream, job_type, entry_id, fields, attempt, f"unreadable entry: {exc}")
            return
        if attempt > self.max_attempts:
            self._dead_letter(stream, job_type, entry_id, fields, attempt, "too many deliveries")
            return
        heartbeat = _Heartbeat(self, stream, consumer, entry_id)
        try:
            deliver(job)
        except Exception as exc:  # noqa: BLE001 - any handler failure means: retry or park
            heartbeat.stop()
            if is_permanent(exc) or attempt >= self.max_attempts:
                self._dead_letter(stream, job_type, entry_id, fields, attempt, repr(exc))
            else:
                # Rewind the idle clock so that XAUTOCLAIM takes the entry again after retry_delay.
                self.client.xclaim(
                    stream,
                    self.group,
                    consumer,
                    0,
                    [entry_id],
                    idle=max(0, self.claim_idle_ms - self.retry_delay_ms),
                    justid=True,
                )
            return
        heartbeat.stop()
        self.client.xack(stream, self.group, entry_id)

    def _dead_letter(self, stream: str, job_type: str, entry_id: str, fields: Fields, attempt: int, error: str) -> None:
        log.error(
            "job dead-lettered",
            extra={"job_id": fields.get("id"), "job_type": job_type, "attempt": attempt, "error": error},
        )
        with self.client.pipeline(transaction=True) as pipe:
            # redis-py's field type is a union of key types, which a dict of str keys is not (dicts are invariant).
            parked: dict[FieldT, EncodableT] = {key: value for key, value in fields.items()}
            parked.update(error=error[:2000], attempts=str(attempt), entry_id=entry_id)
            pipe.xadd(self.dead_stream(job_type), parked)
            pipe.xack(stream, self.group, entry_id)
            pipe.execute()
        metrics.dead_lettered.labels(job_type, self.name).inc()

    def dead_letters(self, job_type: str, limit: int = 100) -> list[Job]:
        jobs = []
        parked = cast(list[tuple[str, Fields]] | None, self.client.xrange(self.dead_stream(job_type), count=limit))
        for _, fields in parked or []:
            jobs.append(
                Job(
                    type=job_type,
                    payload=json.loads(fields.get("payload") or "null"),
                    id=fields.get("id", ""),
                    attributes=json.loads(fields.get("attributes") or "{}"),
                    attempt=int(fields.get("attempts", "0")),
                )
            )
        return jobs


class _Heartbeat:
    """Re-claims an entry while its handler runs, so that a slow job is not taken as abandoned."""

    def __init__(self, provider: RedisStreamsProvider, stream: str, consumer: str, entry_id: str):
        self._done = threading.Event()
        interval = provider.claim_idle_ms / 3000
        self._thread = threading.Thread(
            target=self._run, args=(provider, stream, consumer, entry_id, interval), daemon=True
        )
        self._thread.start()

    def _run(self, provider: RedisStreamsProvider, stream: str, consumer: str, entry_id: str, interval: float) -> None:
        while not self._done.wait(interval):
            try:
                provider.client.xclaim(stream, provider.group, consumer, 0, [entry_id], justid=True)
            except redis.RedisError:
                log.warning("heartbeat for %s failed", entry_id, exc_info=True)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()  # so that a late heartbeat cannot undo the retry delay set after it
