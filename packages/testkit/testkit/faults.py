"""Faults a local fake of an outside API can be told to commit, the way real APIs misbehave.

Every fake of the suite's tests (Jira, Slack, Google Drive, GitHub, SMTP, Trigger.dev, QStash) holds one
`Faults` and asks it, for each request it serves:

- ``refuses(payload)`` before acting: a payload the test marked as poison is refused for good (a 4xx, or an
  SMTP 5xx), however often it is sent;
- ``throttles()`` / ``fails()`` before acting: the next N requests get 429 with ``Retry-After`` / a 5xx;
- ``after_acting()`` once the effect is made, before answering: the next N effects stall past the client's
  timeout, so the client sees a timeout although the effect happened;
- ``slow_failure()`` once the effect is made: the next N answers are a 5xx that comes a byte at a time, each
  byte well within the client's timeout, so the client learns of the failure long after its timeout;
- ``visible(created_at)`` in its searches: what was made less than ``index_lag`` seconds ago is not found yet.

`trickle(body, seconds, every=...)` spreads an answer over time, for the fakes that send one slowly.

The fake records what it received; the tests ask it, never our own code, whether an effect happened once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

KINDS = ("timeout_after_acting", "rate_limited", "server_error", "index_lag", "refuse_payload")


@dataclass
class Faults:
    #: The next N effects are made, then the answer stalls this long (longer than the client waits).
    timeouts_after_acting: int = 0
    stall_seconds: float = 1.0
    #: The next N effects are made, then a 5xx answer trickles in over this long (a byte at a time).
    slow_failures_after_acting: int = 0
    slow_seconds: float = 2.0
    #: The next N requests answer 429 with Retry-After: retry_after (whole seconds, as HTTP says).
    rate_limited: int = 0
    retry_after: int = 1
    #: The next N requests answer a 5xx.
    server_errors: int = 0
    #: Searches do not see what was made less than this many seconds ago.
    index_lag: float = 0.0
    #: A payload for which this is true is refused for good.
    refuse: Callable[[Any], bool] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, kind: str, *, refuse: Callable[[Any], bool] | None = None, **options: Any) -> Faults:
        """One fault of the matrix by name: each happens once (or, for a refusal, always)."""
        if kind == "timeout_after_acting":
            return cls(timeouts_after_acting=1, **options)
        if kind == "rate_limited":
            return cls(rate_limited=1, **options)
        if kind == "server_error":
            return cls(server_errors=1, **options)
        if kind == "index_lag":
            return cls(index_lag=options.pop("index_lag", 0.3), **options)
        if kind == "refuse_payload":
            return cls(refuse=refuse or (lambda payload: True), **options)
        if kind == "none":
            return cls(**options)
        raise ValueError(f"no fault is called {kind!r}")

    def _take(self, name: str) -> bool:
        with self._lock:
            left = getattr(self, name)
            if left <= 0:
                return False
            setattr(self, name, left - 1)
            self.counts[name] = self.counts.get(name, 0) + 1
            return True

    def refuses(self, payload: Any) -> bool:
        if self.refuse is not None and self.refuse(payload):
            with self._lock:
                self.counts["refused"] = self.counts.get("refused", 0) + 1
            return True
        return False

    def throttles(self) -> bool:
        return self._take("rate_limited")

    def fails(self) -> bool:
        return self._take("server_errors")

    def after_acting(self) -> None:
        if self._take("timeouts_after_acting"):
            time.sleep(self.stall_seconds)

    def slow_failure(self) -> float:
        """Seconds the answer to the effect just made should take to trickle in as a failure (0: answer now)."""
        return self.slow_seconds if self._take("slow_failures_after_acting") else 0.0

    def visible(self, created_at: float) -> bool:
        return time.time() - created_at >= self.index_lag


def trickle(body: bytes, seconds: float, *, every: float) -> tuple[int, Iterator[bytes]]:
    """``body`` spread over ``seconds``: blanks (which JSON ignores) one every ``every`` seconds, then the body.
    Returns the whole length, for ``Content-Length``, and the pieces. No single read waits longer than
    ``every``, so a client's read timeout never fires: only a bound on the whole call notices."""
    blanks = int(seconds / every)

    def pieces() -> Iterator[bytes]:
        for _ in range(blanks):
            yield b" "
            time.sleep(every)
        yield body

    return blanks + len(body), pieces()
