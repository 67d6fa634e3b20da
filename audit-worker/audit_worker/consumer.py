"""A consumer process of its own, for a shared (MongoDB or Postgres) store: ``python -m audit_worker.consumer``, the
same as ``python -m jobs.worker --app audit_worker.consumer:register`` (health and metrics on
JOBS_WORKER_PORT, which must then differ from the web process's PORT).

With the memory store the consumer must run inside the web process instead (AUDIT_CONSUMER=embedded,
the default), since a second process would fill a memory nobody serves.
"""

from __future__ import annotations

import jobs
from servicekit import load_settings

from .adapters.notify import Notifier
from .adapters.stores import build_store
from .background.event_consumer import AuditHandler
from .settings import Settings


def register(registry: jobs.JobRegistry | None = None, settings: Settings | None = None) -> AuditHandler:
    settings = settings or load_settings(Settings)
    if settings.audit_store == "memory":
        raise SystemExit(
            "configuration error: AUDIT_STORE=memory needs the consumer inside the web "
            "process (AUDIT_CONSUMER=embedded); a separate consumer needs AUDIT_STORE=mongo or postgres"
        )
    handler = AuditHandler(build_store(settings).unit_of_work, Notifier.from_settings(settings))
    handler.register(registry or jobs.default_registry)
    return handler


if __name__ == "__main__":
    import sys

    from jobs.worker import main
    from servicekit.logs import configure_logging

    # The same JSON lines in LOG_DIR as the web process, so that a request id can be followed here too.
    _settings = load_settings(Settings)
    configure_logging(_settings.service_name, _settings.log_level, _settings.log_dir)

    sys.exit(main(["--app", "audit_worker.consumer:register", *sys.argv[1:]]))
