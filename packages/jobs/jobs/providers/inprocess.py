"""In-process provider: a queue in memory, for tests and single-process use. Nothing survives a restart."""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable

from .. import metrics
from ..settings import JobsSettings
from ..spi import Deliver, Job, JobProvider, is_permanent

log = logging.getLogger("jobs.inprocess")


class InProcessProvider(JobProvider):
    name = "inprocess"

    def __init__(self, *, max_attempts: int = 5, retry_delay_seconds: float = 0.0):
        self.max_attempts = max_attempts
        self.retry_delay_seconds = retry_delay_seconds
        self._ready: list[tuple[float, int, Job]] = []  # (due time, sequence, job)
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._dead: dict[str, list[Job]] = defaultdict(list)
        self._in_flight = 0

    @classmethod
    def from_settings(cls, settings: JobsSettings) -> InProcessProvider:
        return cls(max_attempts=settings.max_attempts, retry_delay_seconds=settings.retry_delay_seconds)

    def publish(self, job: Job) -> None:
        self._push(job, time.monotonic())

    def _push(self, job: Job, due: float) -> None:
        with self._cond:
            heapq.heappush(self._ready, (due, next(self._seq), job))
            self._cond.notify_all()

    def _take(self, job_types: set[str] | None, stop: threading.Event) -> Job | None:
        with self._cond:
            while not stop.is_set():
                now = time.monotonic()
                wait = 0.2
                for item in sorted(self._ready):
                    due, _, job = item
                    if job_types is not None and job.type not in job_types:
                        continue
                    if due <= now:
                        self._ready.remove(item)
                        heapq.heapify(self._ready)
                        self._in_flight += 1
                        return job
                    wait = min(wait, due - now)
                    break
                self._cond.wait(wait)
        return None

    def start_background(self, deliver: Deliver) -> threading.Event:
        """Consume every job type in a daemon thread (single-process use); set the event to stop."""
        stop = threading.Event()
        threading.Thread(target=self.consume, args=(None, deliver, stop), name="jobs-inprocess", daemon=True).start()
        return stop

    def consume(self, job_types: Iterable[str] | None, deliver: Deliver, stop: threading.Event) -> None:
        wanted = None if job_types is None else set(job_types)
        while True:
            job = self._take(wanted, stop)
            if job is None:
                return
            try:
                deliver(job)
            except Exception as exc:  # noqa: BLE001 - any handler failure means: retry or park
                self._failed(job, exc)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _failed(self, job: Job, exc: Exception) -> None:
        if is_permanent(exc) or job.attempt >= self.max_attempts:
            log.error(
                "job dead-lettered",
                extra={"job_id": job.id, "job_type": job.type, "attempt": job.attempt, "error": repr(exc)},
            )
            metrics.dead_lettered.labels(job.type, self.name).inc()
            with self._cond:
                self._dead[job.type].append(job)
            return
        retry = dataclasses.replace(job, attempt=job.attempt + 1)
        self._push(retry, time.monotonic() + self.retry_delay_seconds)

    def dead_letters(self, job_type: str, limit: int = 100) -> list[Job]:
        with self._cond:
            return list(self._dead[job_type][:limit])

    def pending(self) -> int:
        """Jobs waiting or running (tests wait for this to reach 0)."""
        with self._cond:
            return len(self._ready) + self._in_flight

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until every published job was handled (or parked); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._ready or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True
