"""The daily Jira batch (``JIRA_MODE=daily``): every day at ``JIRA_BATCH_HOUR_UTC``, and at start when the
process starts after the hour (a restart at 06:05). The day is claimed once in Postgres, so several workers
or replicas make one batch."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from servicekit import Loop

from ..adapters.unit_of_work import UnitOfWorkFactory
from ..domain.schedule import next_run
from ..settings import Settings
from ..usecases.run_batch import run_batch

log = logging.getLogger("bakery_service.background")
RETRY_SECONDS = 60


class DailyBatch(Loop):
    name = "bakery-schedule"

    def __init__(self, uow: UnitOfWorkFactory, settings: Settings) -> None:
        super().__init__()
        self.uow = uow
        self.settings = settings

    def run(self) -> None:
        settings = self.settings
        # Catch up on today's batch when the process starts after the hour.
        pending = datetime.now(UTC).hour >= settings.jira_batch_hour_utc
        while not self.stop_event.is_set():
            if pending and settings.jira_mode == "daily":
                try:
                    day = datetime.now(UTC).date()
                    result = run_batch(self.uow(), settings.public_base_url, "schedule", day)
                    log.info("scheduled batch: %s order(s), batch %s", len(result.orders), result.batch_id)
                except Exception:  # noqa: BLE001 - try again in a minute rather than lose the day
                    log.warning("scheduled batch failed; retrying in 60s", exc_info=True)
                    self.stop_event.wait(RETRY_SECONDS)
                    continue
            wake = next_run(datetime.now(UTC), settings.jira_batch_hour_utc)
            pending = not self.stop_event.wait((wake - datetime.now(UTC)).total_seconds())
