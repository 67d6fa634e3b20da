"""The outbox processor: the suite's outbox relay over bakery's schema, making each outside action's effect
(usecases/send_action.py) for the configured integrations only; the others' actions are held apart
("disabled") until their credentials exist."""

from __future__ import annotations

import logging
from collections.abc import Callable

from jobs.outbox import OutboxRelay
from jobs.outbox.relay import default_jitter
from servicekit import Loop
from sqlalchemy.engine import Engine

from ..adapters.action_outbox import action_log
from ..adapters.clients import IntegrationClients
from ..adapters.unit_of_work import unit_of_work_factory
from ..domain.actions import INTEGRATIONS
from ..domain.messages import Pickup
from ..settings import Settings
from ..usecases.integration_status import measure_backlog
from ..usecases.send_action import ActionSender, count_outcome

log = logging.getLogger("bakery_service.background")
# While Postgres does not answer, the wait between passes doubles up to this.
MAX_DELAY_SECONDS = 60.0


class OutboxProcessor(Loop):
    name = "bakery-outbox"

    def __init__(
        self,
        engine: Engine,
        clients: IntegrationClients,
        settings: Settings,
        *,
        jitter: Callable[[], float] = default_jitter,
    ) -> None:
        super().__init__()
        self.clients = clients
        self.poll_seconds = settings.integration_poll_seconds
        self.outbox = action_log(engine)
        self.relay = OutboxRelay(
            self.outbox,
            sender=ActionSender(
                unit_of_work_factory(engine),
                clients,
                pickup=Pickup(settings.bakery_name, settings.bakery_pickup_address, settings.bakery_opening_hours),
                timeout_seconds=settings.integration_timeout_seconds,
                lookup_lag_seconds=settings.integration_lookup_lag_seconds,
                lease_seconds=settings.integration_lease_seconds,
            ),
            channels=self.enabled,
            # One action a claim: a call may take the whole timeout, and the lease must outlast it.
            batch_size=1,
            lease_seconds=settings.integration_lease_seconds,
            max_attempts=settings.integration_max_attempts,
            backoff_initial=settings.integration_retry_base_seconds,
            backoff_max=settings.integration_retry_max_seconds,
            retry_after_max=max(3600.0, settings.integration_retry_max_seconds),
            poll_interval=settings.integration_poll_seconds,
            jitter=jitter,
            on_settle=count_outcome,
        )

    def enabled(self) -> list[str]:
        return [name for name in INTEGRATIONS if self.clients.configured(name)]

    def run_once(self, limit: int = 100) -> int:
        """Send up to ``limit`` due actions (and the follow-ups they write); returns how many were tried."""
        enabled = self.enabled()
        self.outbox.hold([name for name in INTEGRATIONS if name not in enabled])
        self.outbox.unhold(enabled)
        try:
            tried: int = self.relay.run_pass(limit).tried
            return tried
        finally:
            measure_backlog(self.outbox)

    def run(self) -> None:
        delay = self.poll_seconds
        while not self.stop_event.is_set():
            try:
                self.run_once()
                delay = self.poll_seconds
            except Exception:  # noqa: BLE001 - Postgres down: wait longer, keep the loop alive
                log.warning("outbox processor could not reach Postgres; retrying in %.0fs", delay, exc_info=True)
                delay = min(delay * 2, MAX_DELAY_SECONDS)
            self.stop_event.wait(delay)
