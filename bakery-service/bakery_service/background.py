"""The work each worker process does besides requests: the outbox processor and the daily Jira batch.

Several workers (and replicas) may run these loops at once: the processor's actions are claimed with
leases and settled fenced (jobs.outbox), and the day's scheduled batch is claimed once in Postgres, so
running them everywhere is safe.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .batches import run_batch
from .effects import ActionProcessor

if TYPE_CHECKING:
    from .wiring import Dependencies

log = logging.getLogger("bakery_service.background")


def next_run(now: datetime, hour: int) -> datetime:
    """The next ``hour``:00 UTC strictly after ``now``."""
    today = now.astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


class Background:
    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self.processor = ActionProcessor(deps.store, deps.clients, deps.settings)
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> Background:
        for target, name in ((self._process_loop, "bakery-outbox"), (self._schedule_loop, "bakery-schedule")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def _process_loop(self) -> None:
        poll = self.deps.settings.integration_poll_seconds
        delay = poll
        while not self.stop_event.is_set():
            try:
                self.processor.run_once()
                delay = poll
            except Exception:  # noqa: BLE001 - Postgres down: wait longer, keep the loop alive
                log.warning("outbox processor could not reach Postgres; retrying in %.0fs", delay, exc_info=True)
                delay = min(delay * 2, 60.0)
            self.stop_event.wait(delay)

    def _schedule_loop(self) -> None:
        settings = self.deps.settings
        # Catch up on today's batch when the process starts after the hour (a restart at 06:05).
        pending = datetime.now(UTC).hour >= settings.jira_batch_hour_utc
        while not self.stop_event.is_set():
            if pending and settings.jira_mode == "daily":
                try:
                    result = run_batch(self.deps.store, settings, "schedule", datetime.now(UTC).date())
                    log.info("scheduled batch: %s order(s), batch %s", len(result.orders), result.batch_id)
                except Exception:  # noqa: BLE001 - try again in a minute rather than lose the day
                    log.warning("scheduled batch failed; retrying in 60s", exc_info=True)
                    self.stop_event.wait(60)
                    continue
            wake = next_run(datetime.now(UTC), settings.jira_batch_hour_utc)
            pending = not self.stop_event.wait((wake - datetime.now(UTC)).total_seconds())

    def stop(self) -> None:
        self.stop_event.set()


def start_background(deps: Dependencies) -> Background:
    return Background(deps).start()
