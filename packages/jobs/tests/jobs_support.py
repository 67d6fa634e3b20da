"""Helpers of the jobs tests: the harness that runs one contract suite against every provider
(see conftest.py for how each provider is set up), waiting, and serving a WSGI app in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask
from jobs.dispatcher import Dispatcher
from jobs.registry import JobRegistry
from jobs.spi import Job, JobProvider
from werkzeug.serving import make_server

MAX_ATTEMPTS = 3
RETRY_DELAY = 0.05
RELAY_SECRET = "relay-secret-0123456789abcdef"  # shared by the Trigger.dev relay stand-in and the push endpoint


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@dataclass
class Harness:
    name: str
    provider: JobProvider
    registry: JobRegistry = field(default_factory=JobRegistry)
    dispatcher: Dispatcher = field(init=False)
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    start_push: Callable[[Dispatcher], Callable[[], None]] | None = None
    _stop_push: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.registry, self.provider)

    def start(self, consumers: int = 1) -> None:
        """Start consuming every type registered so far."""
        types = self.registry.types(with_handler=True)
        self.provider.provision(types)
        if self.start_push is not None:
            self._stop_push = self.start_push(self.dispatcher)
            return
        for _ in range(consumers):
            thread = threading.Thread(
                target=self.provider.consume, args=(types, self.dispatcher.deliver, self.stop_event), daemon=True
            )
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(30)
        if self._stop_push is not None:
            self._stop_push()
            self._stop_push = None

    def dead_letters(self, job_type: str) -> list[Job]:
        return self.provider.dead_letters(job_type)


def serve(app: Flask) -> tuple[str, Callable[[], None]]:
    """Serve a WSGI app on a free port of 127.0.0.1 in a thread; returns its URL and a stop function."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", server.shutdown
