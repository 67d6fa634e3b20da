"""``python -m fleet_api.relay``: the outbox relay's process (background/outbox_relay.py says what it does).

It builds the relay, serves the relay's /metrics on ``RELAY_METRICS_PORT`` and runs it in a servicekit Lifecycle
until SIGTERM or SIGINT; the local stack, compose, k8s and Terraform start it with this command.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any

import jobs
from prometheus_client import start_http_server
from servicekit import Lifecycle, load_settings
from servicekit.db import make_engine
from servicekit.logs import configure_logging

from .adapters.outbox import SCHEMA, event_registry
from .background.outbox_relay import RELAY_MAX_ATTEMPTS, MeasuredRelay, OutboxRelayRunner
from .settings import Settings

log = logging.getLogger("fleet_api.relay")


def build_relay(settings: Settings, dispatcher: jobs.Dispatcher | None = None, **options: Any) -> MeasuredRelay:
    """Without a dispatcher, one for fleet's event types on the provider ``JOBS_PROVIDER`` names."""
    if dispatcher is None:
        from jobs.providers import build_provider

        dispatcher = jobs.Dispatcher(event_registry(), build_provider())
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=1)
    options.setdefault("max_attempts", RELAY_MAX_ATTEMPTS)
    return MeasuredRelay(engine, SCHEMA, dispatcher, **options)


def main() -> None:
    settings = load_settings(Settings, service_name="fleet-api-relay")
    configure_logging(settings.service_name, settings.log_level, settings.log_dir)
    from jobs.providers import build_provider

    dispatcher = jobs.Dispatcher(event_registry(), build_provider())
    runner = OutboxRelayRunner(build_relay(settings, dispatcher))
    if settings.relay_metrics_port:
        start_http_server(settings.relay_metrics_port, addr=settings.relay_metrics_address)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    lifecycle = Lifecycle(runner)
    log.info("outbox relay started", extra={"provider": dispatcher.provider.name})
    lifecycle.start()
    # The relay's loop outlives every error of the bus and the database; should its thread end all the same,
    # the process ends with it, for its supervisor to restart.
    while not stop.wait(0.5) and runner.running:
        pass
    lifecycle.close()
    log.info("outbox relay stopped")
    if not stop.is_set():
        sys.exit(1)


if __name__ == "__main__":
    main()
