"""Tools to place one /assign call at any point of another, in process, on the AWS twin: a gate that pauses a
run at a named step, and a ledger whose renewals can be frozen, as a process stopped by the scheduler (or a
SIGSTOP) stops renewing its lease while it still believes it holds it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from dispatch_service.adapters.day_ledger import DayLedger, Lease

# The steps /assign passes through, in order (usecases/assign_day.py calls the checkpoint at each).
STEPS = ("lease-acquired", "run-started", "state-read", "computed", "block-written", "log-written", "completed")


class FreezableLedger(DayLedger):
    """The real ledger; a frozen lease's renewals pretend to succeed and change nothing."""

    def __init__(self, ledger: DayLedger):
        super().__init__(ledger.assignments, ledger.lanes)
        self.frozen: set[tuple[str, int]] = set()
        self.latest: dict[str, Lease] = {}

    def acquire(self, day, owner, run_id, now_ms, lease_ms):
        got = super().acquire(day, owner, run_id, now_ms, lease_ms)
        if isinstance(got, Lease):
            self.latest[run_id] = got
        return got

    def freeze(self, run_id: str) -> None:
        """Freeze the lease run `run_id` holds (the run paused in it)."""
        lease = self.latest[run_id]
        self.frozen.add((lease.day, lease.token))

    def renew(self, lease, now_ms, lease_ms):
        if (lease.day, lease.token) in self.frozen:
            return True
        return super().renew(lease, now_ms, lease_ms)


@dataclass
class Gate:
    """deps.checkpoint: pauses run `run_id` the `nth` time it reaches `step`, until `release` is set; with
    `freeze`, the paused run's lease stops being renewed (it expires while the run sleeps)."""

    run_id: str
    step: str
    ledger: FreezableLedger
    nth: int = 1
    freeze: bool = False
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    seen: int = 0
    steps: list[tuple[str, str]] = field(default_factory=list)

    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, step: str, run_id: str) -> None:
        with self.lock:
            self.steps.append((step, run_id))
            if run_id != self.run_id or step != self.step or self.reached.is_set():
                return
            self.seen += 1
            if self.seen < self.nth:
                return
            if self.freeze:
                self.ledger.freeze(run_id)
            self.reached.set()
        assert self.release.wait(120), "the test never released the paused run"
