"""The gunicorn settings every service shares; a service's ``gunicorn.conf.py`` imports them.

It prepares Prometheus multiprocess mode before any worker imports prometheus_client, and marks a
worker's samples dead when it exits, so ``/metrics`` adds up every live worker. Its worker class
(``gunicorn_worker.GuardedThreadWorker``) collects each request before a thread takes it, cuts a request
not in within ``REQUEST_READ_TIMEOUT_SECONDS`` and answers gunicorn's own refusals as problem+json, like
every other error of the suite. Workers die with their master: when a supervisor restarts a killed master,
the port is free again at once.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker


def transport_settings() -> dict[str, Any]:
    """How every server of the suite (the six services and loadboard-sim) takes requests: servicekit's
    worker (requests collected before a thread takes them, a read deadline, a Host check, problem+json
    refusals) and gunicorn's request-line and header limits, stated here so the docs can name them."""
    return {
        "worker_class": "servicekit.gunicorn_worker.GuardedThreadWorker",
        "limit_request_line": 4094,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
    }


def settings_for(service: str, default_port: int) -> dict[str, Any]:
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(
        Path(tempfile.gettempdir()) / f"prometheus-{service}-{os.getpid()}"
    )
    shutil.rmtree(metrics_dir, ignore_errors=True)
    Path(metrics_dir).mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    os.environ.setdefault("SERVICE_NAME", service)
    return {
        **transport_settings(),
        # All interfaces, so that a container is reachable; the local stack sets HOST=127.0.0.1.
        "bind": f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', default_port)}",  # nosec B104
        "workers": int(os.environ.get("WEB_CONCURRENCY", "2")),
        "threads": int(os.environ.get("GUNICORN_THREADS", "4")),
        "timeout": int(os.environ.get("GUNICORN_TIMEOUT", "60")),
        "graceful_timeout": 20,
        "accesslog": None,  # servicekit writes one JSON access line per request
        "errorlog": "-",
        # Heartbeat files on tmpfs: a disk-backed /tmp can stall workers (gunicorn's own advice).
        "worker_tmp_dir": "/dev/shm" if Path("/dev/shm").is_dir() else None,  # noqa: S108  # nosec B108
        # One control socket per user by default: six services on one host would fight over it.
        "control_socket_disable": True,
        "post_fork": die_with_master,
        "worker_exit": close_background,
    }


def close_background(server: Arbiter, worker: Worker) -> None:
    """Stop the worker's background work (servicekit.lifecycle) before it exits: a graceful stop lets an
    outbox processor or a consumer settle what it holds instead of leaving it to a lease's expiry."""
    from .lifecycle import close_app

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        close_app(app)


def die_with_master(server: Arbiter, worker: Worker) -> None:
    """A master killed outright (SIGKILL, OOM) leaves its workers holding the listening socket until they
    notice, which took 5-10 s here, and the restarted master cannot bind meanwhile. The kernel sends each
    worker SIGTERM the moment its master dies (Linux's PR_SET_PDEATHSIG), and it shuts down gracefully."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def child_exit(server: Arbiter, worker: Worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # unannotated in prometheus_client
