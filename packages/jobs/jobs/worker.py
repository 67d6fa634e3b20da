"""`python -m jobs.worker --app module:function`: consume jobs with the configured provider.

The function registers the application's handlers (`audit_worker.consumer:register`); it may take the
registry as its one argument or register through `jobs.handler`. The worker serves `/healthz`,
`/readyz` and `/metrics` on JOBS_WORKER_HOST:JOBS_WORKER_PORT (and, for a push provider such as
QStash or Trigger.dev, the `POST /jobs/<type>` endpoint). On SIGTERM or SIGINT it stops taking jobs,
lets the jobs in flight finish (up to JOBS_SHUTDOWN_SECONDS; a job still running then is redelivered
later, since it was never acknowledged) and exits 0.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from werkzeug.serving import BaseWSGIServer, make_server

from . import metrics
from .dispatcher import Dispatcher
from .providers import build_provider
from .registry import JobRegistry, default_registry
from .settings import JobsSettings

log = logging.getLogger("jobs.worker")


def load_app(target: str, registry: JobRegistry) -> None:
    """Import `module:function` and call it to register handlers."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise SystemExit(f"--app must look like package.module:function, not {target!r}")
    fn: Callable[..., object] = getattr(importlib.import_module(module_name), attr)
    if len(inspect.signature(fn).parameters) >= 1:
        fn(registry)
    else:
        fn()


class Worker:
    def __init__(
        self,
        dispatcher: Dispatcher,
        settings: JobsSettings,
        *,
        job_types: Sequence[str] | None = None,
        shutdown_seconds: float = 30.0,
    ):
        self.dispatcher = dispatcher
        self.settings = settings
        self.job_types = list(job_types or dispatcher.registry.types(with_handler=True))
        self.shutdown_seconds = shutdown_seconds
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: BaseWSGIServer | None = None

    def http_app(self) -> Flask:
        app = Flask("jobs.worker")
        provider = self.dispatcher.provider

        @app.get("/healthz")
        def healthz() -> Response:
            return Response(json.dumps({"status": "ok"}), mimetype="application/json")

        @app.get("/readyz")
        def readyz() -> Response:
            checks: dict[str, str] = {}
            try:
                provider.ping()
                checks["broker"] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                checks["broker"] = f"error: {exc}"
            alive = [t for t in self._threads if t.is_alive()]
            checks["consumers"] = "ok" if provider.push_delivery or alive else "error: no consumer running"
            ready = all(v == "ok" for v in checks.values()) and not self.stop_event.is_set()
            body = {
                "status": "ready" if ready else "not ready",
                "provider": provider.name,
                "job_types": self.job_types,
                "checks": checks,
            }
            return Response(json.dumps(body), status=200 if ready else 503, mimetype="application/json")

        @app.get("/metrics")
        def metrics() -> Response:
            return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)

        if provider.push_delivery:
            from .push import push_blueprint, verifier_from_settings

            verifier = verifier_from_settings(self.settings)
            app.register_blueprint(
                push_blueprint(self.dispatcher, verifier, public_base_url=self.settings.push_base_url)
            )
        return app

    def start(self) -> None:
        provider = self.dispatcher.provider
        if not self.job_types:
            raise SystemExit("no job handler is registered: pass --app module:function")
        provider.provision(self.job_types)
        metrics.consuming(self.job_types, provider.name)
        self._server = make_server(self.settings.worker_host, self.settings.worker_port, self.http_app(), threaded=True)
        threading.Thread(target=self._server.serve_forever, name="jobs-http", daemon=True).start()
        if not provider.push_delivery:
            count = self.settings.concurrency if provider.parallel_consumers else 1
            for index in range(count):
                thread = threading.Thread(
                    target=provider.consume,
                    name=f"jobs-consumer-{index}",
                    args=(self.job_types, self.dispatcher.deliver, self.stop_event),
                )
                thread.start()
                self._threads.append(thread)
        log.info(
            "worker started",
            extra={"provider": provider.name, "job_types": self.job_types, "port": self.settings.worker_port},
        )

    @property
    def port(self) -> int:
        return self._server.server_port if self._server else self.settings.worker_port

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(self.shutdown_seconds)
        if self._server is not None:
            self._server.shutdown()
        self.dispatcher.provider.close()
        log.info("worker stopped")

    def run(self) -> None:
        """Start, wait for SIGTERM/SIGINT, stop gracefully."""

        def _signal(signum: int, _frame: object) -> None:
            log.info("signal %s: finishing jobs in flight", signal.Signals(signum).name)
            self.stop_event.set()

        signal.signal(signal.SIGTERM, _signal)
        signal.signal(signal.SIGINT, _signal)
        self.start()
        while not self.stop_event.wait(1.0):
            if not self.dispatcher.provider.push_delivery and not any(t.is_alive() for t in self._threads):
                log.error("every consumer thread ended; exiting")
                break
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.worker", description=__doc__.split("\n")[0])
    parser.add_argument("--app", help="module:function registering the handlers (env JOBS_APP)")
    parser.add_argument("--types", help="comma-separated job types to consume (default: every registered)")
    parser.add_argument(
        "--shutdown-seconds", type=float, default=30.0, help="how long SIGTERM waits for jobs in flight"
    )
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr
        )
    settings = JobsSettings()
    app = args.app or settings.app
    if not app:
        parser.error("--app (or JOBS_APP) is required")
    load_app(app, default_registry)
    dispatcher = Dispatcher(default_registry, build_provider(settings))
    types = [t for t in (args.types or "").split(",") if t] or None
    Worker(dispatcher, settings, job_types=types, shutdown_seconds=args.shutdown_seconds).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
