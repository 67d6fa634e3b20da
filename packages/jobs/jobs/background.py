"""A consumer inside an application's own process, for when the handler must share that process's
memory (an in-memory store served by the same web app). `python -m jobs.worker` is the separate-process
counterpart."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from . import metrics
from .dispatcher import Dispatcher

log = logging.getLogger("jobs.background")


class BackgroundConsumer:
    """Runs the provider's consume loop in a daemon thread, restarting it after a bus failure."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        job_types: Iterable[str],
        *,
        restart_delay: float = 2.0,
        name: str = "jobs-consumer",
    ):
        self.dispatcher = dispatcher
        self.job_types = tuple(job_types)
        self.restart_delay = restart_delay
        self.name = name
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        metrics.consuming(self.job_types, dispatcher.provider.name)

    def start(self) -> BackgroundConsumer:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        provider = self.dispatcher.provider
        while not self.stop_event.is_set():
            try:
                provider.provision(self.job_types)
                log.info("consuming %s from %s", ", ".join(self.job_types), provider.name)
                provider.consume(self.job_types, self.dispatcher.deliver, self.stop_event)
            except Exception as exc:  # noqa: BLE001 - whatever the bus client raised: wait, consume again
                log.warning(
                    "consumer stopped by %s: %s; restarting in %.0fs", type(exc).__name__, exc, self.restart_delay
                )
                self.stop_event.wait(self.restart_delay)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
