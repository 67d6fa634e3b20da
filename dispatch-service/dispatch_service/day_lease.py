"""Holding the day's lease for one /assign run: wait for it (bounded), renew it while the run works, let it go.

A call that finds the lease held polls it (and its own run marker: an identical call may finish the run
meanwhile) for at most ASSIGN_WAIT_SECONDS, then answers 409 with Retry-After and the holder's run id. The
holder renews the lease every LEASE_SECONDS / 3; a process killed while holding it stops renewing, and the
lease is free to the next caller LEASE_SECONDS after the last renewal. Expiry only decides when another run
may start: safety rests on the fencing token every write checks, not on clocks.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator

from servicekit import ApiProblem, counter

from .adapters.day_ledger import Held, Lease, now_ms
from .wiring import Dependencies

log = logging.getLogger(__name__)
_takeovers = counter(
    "dispatch_lease_takeovers_total", "Day leases taken over after they expired (their holder stopped renewing)"
)


def run_in_progress(day: str, held: Held, wait_seconds: float) -> ApiProblem:
    retry_after = max(1, math.ceil((held.expires_at - now_ms()) / 1000))
    return ApiProblem(
        409,
        "Run in progress",
        f"Another /assign run ({held.run_id}) is writing the assignments of {day} and did not finish within "
        f"{wait_seconds:g} s; retry after {retry_after} s (an identical request then answers that run's result).",
        headers={"Retry-After": str(retry_after)},
        run_id=held.run_id,
    )


class _Renewer(threading.Thread):
    def __init__(self, deps: Dependencies, lease: Lease):
        super().__init__(name=f"lease-{lease.day}-{lease.token}", daemon=True)
        self.deps, self.lease = deps, lease
        self.stop = threading.Event()

    def run(self) -> None:
        lease_ms = int(self.deps.settings.lease_seconds * 1000)
        while not self.stop.wait(self.deps.settings.lease_seconds / 3):
            try:
                if not self.deps.ledger.renew(self.lease, now_ms(), lease_ms):
                    # Taken over: this run's next fenced write fails and it waits for the lease again.
                    log.warning("the lease of %s (token %s) was taken over", self.lease.day, self.lease.token)
                    return
            except Exception:  # noqa: BLE001 - an outage: the next tick tries again; writes stay fenced
                log.warning("renewing the lease of %s failed", self.lease.day, exc_info=True)


@contextlib.contextmanager
def held(deps: Dependencies, day: str, run_id: str, finished: Callable[[], bool]) -> Iterator[Lease | None]:
    """The day's lease for the body of the block, renewed meanwhile and released after; None when `finished()`
    turned true while waiting (the run this call belongs to completed elsewhere)."""
    settings = deps.settings
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + settings.assign_wait_seconds
    pause, looked = 0.05, False
    while True:
        # While waiting, the run this call belongs to may complete elsewhere (an identical call): answer it.
        if looked and finished():
            yield None
            return
        got = deps.ledger.acquire(day, owner, run_id, now_ms(), int(settings.lease_seconds * 1000))
        if isinstance(got, Lease):
            break
        looked = got is not None
        if looked and time.monotonic() >= deadline:
            raise run_in_progress(day, got, settings.assign_wait_seconds)
        time.sleep(min(pause * (0.5 + random.random()), max(deadline - time.monotonic(), 0.01)))  # noqa: S311
        pause = min(pause * 2, 0.25)
    if got.took_over:
        _takeovers.inc()
    renewer = _Renewer(deps, got)
    renewer.start()
    try:
        yield got
    finally:
        renewer.stop.set()
        try:
            deps.ledger.release(got)
        except Exception:  # noqa: BLE001 - AWS unavailable: the lease expires by itself after LEASE_SECONDS
            log.warning("releasing the lease of %s failed; it expires in %s s", day, settings.lease_seconds)
