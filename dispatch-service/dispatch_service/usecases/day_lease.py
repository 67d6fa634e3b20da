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
from dataclasses import dataclass

from servicekit.domain_errors import Conflict

from ..adapters.day_ledger import DayLedger, Held, Lease
from ..domain.times import epoch_millis
from ..metrics import lease_takeovers
from . import Clock

log = logging.getLogger("dispatch_service.day_lease")


@dataclass(frozen=True)
class LeaseTerms:
    """LEASE_SECONDS and ASSIGN_WAIT_SECONDS."""

    lease_seconds: float
    wait_seconds: float


def run_in_progress(day: str, held: Held, wait_seconds: float, now_ms: int) -> Conflict:
    retry_after = max(1, math.ceil((held.expires_at - now_ms) / 1000))
    return Conflict(
        f"Another /assign run ({held.run_id}) is writing the assignments of {day} and did not finish within "
        f"{wait_seconds:g} s; retry after {retry_after} s (an identical request then answers that run's result).",
        title="Run in progress",
        retry_after=retry_after,
        run_id=held.run_id,
    )


class _Renewer(threading.Thread):
    def __init__(self, ledger: DayLedger, lease: Lease, lease_seconds: float, clock: Clock):
        super().__init__(name=f"lease-{lease.day}-{lease.token}", daemon=True)
        self.ledger, self.lease, self.lease_seconds, self.clock = ledger, lease, lease_seconds, clock
        self.stop = threading.Event()

    def run(self) -> None:
        lease_ms = int(self.lease_seconds * 1000)
        while not self.stop.wait(self.lease_seconds / 3):
            try:
                if not self.ledger.renew(self.lease, epoch_millis(self.clock()), lease_ms):
                    # Taken over: this run's next fenced write fails and it waits for the lease again.
                    log.warning("the lease of %s (token %s) was taken over", self.lease.day, self.lease.token)
                    return
            except Exception:  # noqa: BLE001 - an outage: the next tick tries again; writes stay fenced
                log.warning("renewing the lease of %s failed", self.lease.day, exc_info=True)


@contextlib.contextmanager
def held(
    ledger: DayLedger, terms: LeaseTerms, clock: Clock, day: str, run_id: str, finished: Callable[[], bool]
) -> Iterator[Lease | None]:
    """The day's lease for the body of the block, renewed meanwhile and released after; None when `finished()`
    turned true while waiting (the run this call belongs to completed elsewhere)."""
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + terms.wait_seconds
    pause, looked = 0.05, False
    while True:
        # While waiting, the run this call belongs to may complete elsewhere (an identical call): answer it.
        if looked and finished():
            yield None
            return
        got = ledger.acquire(day, owner, run_id, epoch_millis(clock()), int(terms.lease_seconds * 1000))
        if isinstance(got, Lease):
            break
        looked = got is not None
        if got is not None and time.monotonic() >= deadline:
            raise run_in_progress(day, got, terms.wait_seconds, epoch_millis(clock()))
        time.sleep(min(pause * (0.5 + random.random()), max(deadline - time.monotonic(), 0.01)))  # noqa: S311
        pause = min(pause * 2, 0.25)
    if got.took_over:
        lease_takeovers.inc()
    renewer = _Renewer(ledger, got, terms.lease_seconds, clock)
    renewer.start()
    try:
        yield got
    finally:
        renewer.stop.set()
        try:
            ledger.release(got)
        except Exception:  # noqa: BLE001 - AWS unavailable: the lease expires by itself after LEASE_SECONDS
            log.warning("releasing the lease of %s failed; it expires in %s s", day, terms.lease_seconds)
