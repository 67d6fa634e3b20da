"""A background part that runs in a thread of its own from ``start()`` until ``close()``."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod


class Loop(ABC):
    """``run()`` in a daemon thread; ``run`` returns once ``stop_event`` is set (its waits end at once)."""

    name = "bakery-loop"
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
