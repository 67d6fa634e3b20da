"""The outbox relay as a background part: publishes committed fleet events from ``fleet.job_outbox`` to the bus.

It runs in a process of its own (``python -m fleet_api.relay``), not in the web workers: one relay however many
workers serve the API, and events keep flowing while the API restarts. Several relays may run: rows are claimed
with leases and settled fenced (jobs.outbox). An event the bus refuses for good, or that fails
``RELAY_MAX_ATTEMPTS`` times while the bus answers, goes to the dead letter (``python -m jobs.outbox --schema fleet
dead``, ``... replay <id>``) without holding up the events behind it.
"""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from jobs.outbox import OutboxRelay, PassReport
from servicekit import counter, gauge

from ..adapters.outbox import CHANNEL

log = logging.getLogger("fleet_api.relay")

# A row is dead-lettered after this many failed publishes while the bus answers its probe: with backoffs from
# 0.5 s doubling up to 5 minutes, some 10 to 20 minutes of trouble (an outage of the bus itself uses up no attempt).
RELAY_MAX_ATTEMPTS = 12

# The relay process's own metrics, on its own /metrics port (the API's workers do not declare them).
_pending = gauge(
    "fleet_outbox_pending_events", "Outbox rows not yet published (grows while the bus is down)", (), "livemax"
)
_dead = gauge("fleet_outbox_dead_events", "Outbox rows in the dead letter (refused by the bus for good)", (), "livemax")
_published = counter("fleet_outbox_published_events_total", "Outbox rows published to the bus by this relay")


class MeasuredRelay(OutboxRelay):
    """The outbox relay, counting what it publishes and measuring the backlog after every pass."""

    def run_pass(self, limit: int | None = None) -> PassReport:
        try:
            report = super().run_pass(limit)
        finally:
            # Measured even when publishing failed: a backlog matters most while the bus is down.
            self.measure_backlog()
        _published.inc(report.done)
        return report

    def measure_backlog(self) -> None:
        try:
            counts = self.outbox.counts().get(CHANNEL, {})
        except sa.exc.SQLAlchemyError:
            log.debug("outbox backlog not measured: the database did not answer", exc_info=True)
            return
        _pending.set(counts.get("pending", 0))
        _dead.set(counts.get("dead", 0))


class OutboxRelayRunner:
    """Runs the relay's passes in a thread from ``start()`` until ``close()``, which lets the pass under way end."""

    def __init__(self, relay: OutboxRelay, join_seconds: float = 20.0) -> None:
        self.relay = relay
        self._join_seconds = join_seconds
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self.relay.run_forever, name="outbox-relay", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        self.relay.stop()
        if self._thread is not None:
            self._thread.join(self._join_seconds)
            self._thread = None
