"""Executes the runs this process recorded, one at a time, in a thread of its own ("extraction-run"), so that
POST /runs answers at once. The database admits one running run across every worker."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from servicekit.logs import current_request_id, request_id_context

log = logging.getLogger("automation_service.runner")


class RunExecutor:
    """``submit(run_id)`` queues ``execute(run_id)``; from ``start()`` until ``close()``, which lets the run under
    way end (up to ``join_seconds``, inside gunicorn's graceful stop) and drops the queued ones."""

    def __init__(self, execute: Callable[[str], object], *, join_seconds: float = 15.0) -> None:
        self._execute = execute
        self._join_seconds = join_seconds
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pending: set[Future[object]] = set()

    def start(self) -> None:
        with self._lock:
            if self._pool is None:
                # Its thread starts with the first run.
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extraction-run")

    def submit(self, run_id: str) -> None:
        """Raises RuntimeError when the executor is not running (not started, or closed)."""
        with self._lock:
            if self._pool is None:
                raise RuntimeError("this process executes no runs (its background work is stopped)")
            # The run's log lines and its gpt-service calls carry the id of the request that started it.
            future = self._pool.submit(self._execute_for, current_request_id(), run_id)
            self._pending.add(future)
        future.add_done_callback(lambda done: self._settled(run_id, done))

    @property
    def running(self) -> bool:
        return self._pool is not None

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            pending = set(self._pending)
        if pool is None:
            return
        pool.shutdown(wait=False, cancel_futures=True)
        wait(pending, timeout=self._join_seconds)

    def _execute_for(self, request_id: str | None, run_id: str) -> object:
        with request_id_context(request_id):
            return self._execute(run_id)

    def _settled(self, run_id: str, future: Future[object]) -> None:
        with self._lock:
            self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("run %s crashed outside its own error handling", run_id, exc_info=future.exception())
