"""The background work of one process (outbox processors, relays, consumers, schedulers, warm browsers),
started once the process serves and stopped when it shuts down.

Wiring builds objects and starts nothing; a service hands its background parts to ``Lifecycle`` and
``servicekit.create_app(..., lifecycle=...)`` starts them. Under gunicorn the app is built in each worker
after the fork (no ``preload_app``), so every worker starts its own parts and threads never cross a fork;
gunicorn's ``worker_exit`` hook (``gunicorn_conf.settings_for``) and ``atexit`` stop them.
"""

from __future__ import annotations

import atexit
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol

from flask import Flask

log = logging.getLogger("servicekit.lifecycle")
EXTENSION_KEY = "servicekit.lifecycle"


class Background(Protocol):
    """A part of a process that runs beside requests."""

    def start(self) -> None: ...

    def close(self) -> None: ...


class Loop(ABC):
    """A part whose ``run()`` works in a daemon thread of its own from ``start()`` until ``close()``: ``run``
    returns once ``stop_event`` is set (its waits end at once)."""

    name = "servicekit-loop"
    #: How long ``close()`` waits for the loop to finish what it is doing (a call to an outside API).
    join_seconds = 15.0

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(self.join_seconds)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @abstractmethod
    def run(self) -> None:
        """The part's work; returns once ``stop_event`` is set."""


class OnClose:
    """A part with nothing to start that releases what the process holds (a pool, clients) when it stops;
    given first to a ``Lifecycle``, it closes last."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release

    def start(self) -> None:
        """Nothing to start: pools and clients connect at their first use."""

    def close(self) -> None:
        self._release()


class Lifecycle:
    """Parts started in the order given and closed in the reverse order, each at most once."""

    def __init__(self, *parts: Background) -> None:
        self.parts = list(parts)
        self._started: list[Background] = []
        self._turn = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start every part not yet started. If one fails, the ones started are closed and the error raised."""
        with self._turn:
            if self._closed:
                raise RuntimeError("a closed lifecycle does not start again")
            for part in self.parts:
                if any(part is started for started in self._started):
                    continue
                try:
                    part.start()
                except BaseException:
                    self._close_started()
                    raise
                self._started.append(part)

    def close(self) -> None:
        """Stop what was started, newest first; a part that fails to close is logged, the others still close."""
        with self._turn:
            self._closed = True
            self._close_started()

    @property
    def running(self) -> bool:
        return bool(self._started)

    def _close_started(self) -> None:
        while self._started:
            part = self._started.pop()
            try:
                part.close()
            except Exception:  # noqa: BLE001 - one part's failure must not keep the others running
                log.exception("closing %s failed", type(part).__name__)


def install_lifecycle(app: Flask, lifecycle: Lifecycle, *, start: bool = True) -> Lifecycle:
    """Keep ``lifecycle`` on ``app``, start it (unless ``start`` is false: tests that drive parts by hand) and
    close it when the process exits."""
    if EXTENSION_KEY in app.extensions:
        raise RuntimeError("this app's lifecycle is already installed")
    app.extensions[EXTENSION_KEY] = lifecycle
    if start:
        lifecycle.start()
    atexit.register(lifecycle.close)
    return lifecycle


def lifecycle_of(app: Flask) -> Lifecycle | None:
    return app.extensions.get(EXTENSION_KEY)


def close_app(app: Flask) -> None:
    """Stop the app's background work (gunicorn's worker_exit, tests)."""
    lifecycle = lifecycle_of(app)
    if lifecycle is not None:
        lifecycle.close()
