"""Scheduled runs (SCHEDULE_INTERVAL_SECONDS): a thread per worker ("extraction-schedule") that starts a run
when the last one, by any worker, started an interval ago."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from servicekit import Loop
from servicekit.domain_errors import Conflict

from ..adapters.unit_of_work import UnitOfWorkFactory
from ..usecases.start_run import RunQueue, start_run_if_due

log = logging.getLogger("automation_service.runner")
# The longest wait between two looks at the last start, whatever the interval.
MAX_WAIT_SECONDS = 30


class RunSchedule(Loop):
    """Every worker runs this loop; the last start time in the database keeps them from piling up, and the
    one-running-run index settles a race between two of them."""

    name = "extraction-schedule"

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        queue: RunQueue,
        *,
        interval_seconds: int,
        portals: list[str],
        stale_after_seconds: int,
        join_seconds: float = 10.0,
    ) -> None:
        super().__init__()
        self.uows = uows
        self.queue = queue
        self.interval_seconds = interval_seconds
        self.portals = portals
        self.stale_after_seconds = stale_after_seconds
        self.join_seconds = join_seconds

    def run(self) -> None:
        while not self.stop_event.wait(min(self.interval_seconds, MAX_WAIT_SECONDS)):
            try:
                start_run_if_due(
                    self.uows(),
                    self.queue,
                    now=datetime.now(UTC),
                    interval_seconds=self.interval_seconds,
                    portals=self.portals,
                    stale_after_seconds=self.stale_after_seconds,
                )
            except Conflict:
                continue
            except Exception:  # noqa: BLE001 - the schedule must survive a database hiccup
                log.exception("scheduled run could not start")
