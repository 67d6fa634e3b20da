"""``python -m fleet_api.relay``: publishes committed fleet events from the outbox to the bus.

A process of its own (not a thread in the web workers): it runs once however many gunicorn workers
serve the API, and it keeps publishing while the API restarts. Several relays may run: rows are claimed
with leases and settled fenced (jobs.outbox). An event the bus refuses for good, or that fails
``RELAY_MAX_ATTEMPTS`` times while the bus answers, goes to the dead letter (``python -m jobs.outbox
--schema fleet dead``, ``... replay <id>``) without holding up the events behind it.
"""

from __future__ import annotations

import logging
import signal
import threading

import jobs
import sqlalchemy as sa
from jobs.outbox import OutboxRelay, PassReport
from prometheus_client import start_http_server
from servicekit import counter, gauge, load_settings
from servicekit.db import make_engine
from servicekit.logs import configure_logging

from .adapters import events
from .settings import Settings

log = logging.getLogger("fleet_api.relay")
RELAY_MAX_ATTEMPTS = 12

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
            counts = self.outbox.counts().get(events.CHANNEL, {})
        except sa.exc.SQLAlchemyError:
            log.debug("outbox backlog not measured: the database did not answer", exc_info=True)
            return
        _pending.set(counts.get("pending", 0))
        _dead.set(counts.get("dead", 0))


def build_relay(settings: Settings, dispatcher: jobs.Dispatcher | None = None, **options) -> MeasuredRelay:
    """Without a dispatcher, one for fleet's event types on the provider ``JOBS_PROVIDER`` names."""
    if dispatcher is None:
        from jobs.providers import build_provider

        dispatcher = jobs.Dispatcher(events.event_registry(), build_provider())
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=1)
    # A row is dead-lettered after this many failed publishes while the bus answers its probe: with backoffs
    # from 0.5 s doubling up to 5 minutes, some 10 to 20 minutes of trouble (an outage of the bus itself
    # uses up no attempt).
    options.setdefault("max_attempts", RELAY_MAX_ATTEMPTS)
    return MeasuredRelay(engine, events.SCHEMA, dispatcher, **options)


def main() -> None:
    settings = load_settings(Settings, service_name="fleet-api-relay")
    configure_logging(settings.service_name, settings.log_level, settings.log_dir)
    relay = build_relay(settings)
    if settings.relay_metrics_port:
        start_http_server(settings.relay_metrics_port, addr=settings.relay_metrics_address)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    log.info("outbox relay started", extra={"provider": relay.dispatcher.provider.name})
    relay.run_forever(stop)
    log.info("outbox relay stopped")


if __name__ == "__main__":
    main()
