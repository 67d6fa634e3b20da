"""JSON-lines logging to stdout and to ``LOG_DIR/<service>.log``, each line carrying the request id."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from flask import g, has_request_context

_STANDARD_FIELDS = list(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)
_RESERVED = set(_STANDARD_FIELDS) | {"message", "asctime"}


# Work done outside a request on a request's behalf (a run thread, a job handler) carries its id here.
_background_request_id: ContextVar[str | None] = ContextVar("servicekit_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, else the one set by ``request_id_context``, else None."""
    if has_request_context():
        request_id = getattr(g, "request_id", None)
        if request_id:
            return request_id
    return _background_request_id.get()


@contextmanager
def request_id_context(request_id: str | None) -> Iterator[None]:
    """Log lines (and HttpClient calls) inside the block carry ``request_id``: for background work that a
    request caused, run in another thread or process. A None id leaves the lines without one."""
    token = _background_request_id.set(request_id)
    try:
        yield
    finally:
        _background_request_id.reset(token)


_encode = json.JSONEncoder(default=str).encode


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service
        self._second = -1
        self._second_text = ""

    def _timestamp(self, created: float) -> str:
        # Formatting a date is most of a line's cost; lines come many per second, so the second is kept.
        second = int(created)
        if second != self._second:
            self._second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        return f"{self._second_text}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        # A record goes to stdout and to the file: it is serialised once.
        line = record.__dict__.get("_servicekit_line")
        if line is not None:
            return line
        entry = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = record.__dict__
        request_id = fields.get("request_id") or current_request_id()
        if request_id:
            entry["request_id"] = request_id
        # A record's own attributes come first, in a fixed order; only what follows can be an extra field.
        for key in islice(fields, len(_STANDARD_FIELDS), None):
            if key not in _RESERVED and key not in entry and key[0] != "_":
                entry[key] = fields[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        line = _encode(entry)
        record._servicekit_line = line  # type: ignore[attr-defined]
        return line


def configure_logging(service: str, level: str = "INFO", log_dir: Path | None = None) -> None:
    """Idempotent: a second call (another app in the same process) replaces the handlers."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_servicekit", False):
            root.removeHandler(handler)
    formatter = JsonFormatter(service)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if log_dir:
        log_dir.mkdir(parents=True, exist_ok=True)
        # WatchedFileHandler reopens after rotation; O_APPEND keeps lines from several workers whole.
        handlers.append(logging.handlers.WatchedFileHandler(log_dir / f"{service}.log", encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler._servicekit = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel("WARNING")
    # From the logging docs' "Optimization" section: no caller lookup (a stack walk per record), no thread
    # or multiprocessing names, none of which the JSON lines print. Process ids stay: gunicorn's own log
    # format prints them.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logMultiprocessing = False
