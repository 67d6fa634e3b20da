"""``python -m fleet_api.relay``: publishes committed fleet events from the outbox to the bus.

A process of its own (not a thread in the web workers): it runs once however many gunicorn workers
serve the API, and it keeps publishing while the API restarts. Several relays may run; rows are
taken with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import logging
import signal
import threading

import jobs
import sqlalchemy as sa
from jobs.outbox import OutboxRelay
from prometheus_client import start_http_server
from servicekit import counter, gauge, load_settings
from servicekit.db import make_engine
from servicekit.logs import configure_logging

from .adapters import events
from .settings import Settings

log = logging.getLogger("fleet_api.relay")

_pending = gauge(
    "fleet_outbox_pending_events", "Outbox rows not yet published (grows while the bus is down)", (), "livemax"
)
_published = counter("fleet_outbox_published_events_total", "Outbox rows published to the bus by this relay")


class MeasuredRelay(OutboxRelay):
    """The outbox relay, counting what it publishes and measuring the backlog after every batch."""

    def run_once(self) -> int:
        try:
            published = super().run_once()
        finally:
            # Measured even when publishing failed: a backlog matters most while the bus is down.
            self.measure_backlog()
        _published.inc(published)
        return published

    def measure_backlog(self) -> None:
        try:
            _pending.set(self.pending())
        except sa.exc.SQLAlchemyError:
            log.debug("outbox backlog not measured: the database did not answer", exc_info=True)


def build_relay(settings: Settings, dispatcher: jobs.Dispatcher | None = None, **options) -> MeasuredRelay:
    """Without a dispatcher, one for fleet's event types on the provider ``JOBS_PROVIDER`` names."""
    if dispatcher is None:
        from jobs.providers import build_provider

        dispatcher = jobs.Dispatcher(events.event_registry(), build_provider())
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=1)
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
