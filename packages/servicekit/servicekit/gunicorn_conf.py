"""The gunicorn settings every service shares; a service's ``gunicorn.conf.py`` imports them.

It prepares Prometheus multiprocess mode before any worker imports prometheus_client, and marks a
worker's samples dead when it exits, so ``/metrics`` adds up every live worker.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def settings_for(service: str, default_port: int) -> dict:
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(
        Path(tempfile.gettempdir()) / f"prometheus-{service}-{os.getpid()}"
    )
    shutil.rmtree(metrics_dir, ignore_errors=True)
    Path(metrics_dir).mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    os.environ.setdefault("SERVICE_NAME", service)
    return {
        "bind": f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', default_port)}",
        "workers": int(os.environ.get("WEB_CONCURRENCY", "2")),
        "threads": int(os.environ.get("GUNICORN_THREADS", "4")),
        "timeout": int(os.environ.get("GUNICORN_TIMEOUT", "60")),
        "graceful_timeout": 20,
        "accesslog": None,  # servicekit writes one JSON access line per request
        "errorlog": "-",
        # Heartbeat files on tmpfs: a disk-backed /tmp can stall workers (gunicorn's own advice).
        "worker_tmp_dir": "/dev/shm" if Path("/dev/shm").is_dir() else None,  # noqa: S108
        # One control socket per user by default: six services on one host would fight over it.
        "control_socket_disable": True,
    }


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
