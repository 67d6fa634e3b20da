"""JSON-lines logging to stdout and to ``LOG_DIR/<service>.log``, each line carrying the request id."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from itertools import islice
from json.encoder import encode_basestring_ascii as _quote
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
        if isinstance(request_id, str) and request_id:
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
        self.quoted_service = _quote(service)
        self._second: tuple[int, str] = (-1, "")

    def _timestamp(self, created: float) -> str:
        # Formatting a date is most of a line's cost; lines come many per second, so the second is kept
        # (as one tuple: threads share the formatter).
        second = int(created)
        cached_second, text = self._second
        if second != cached_second:
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._second = (second, text)
        return f"{text}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        # A record goes to stdout and to the file: it is serialised once.
        line = record.__dict__.get("_servicekit_line")
        if isinstance(line, str):
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
        record._servicekit_line = line
        return line


ACCESS_LOGGER = "servicekit.access"
access_log = logging.getLogger(ACCESS_LOGGER)


class _Line(logging.LogRecord):
    """A record that is already a line. The servicekit handlers' formatter returns it as is."""

    # What a handler may read when its write fails (Handler.handleError).
    args = None
    exc_info = None
    filename = "servicekit/logs.py"
    lineno = 0
    levelno = logging.INFO
    levelname = "INFO"
    name = ACCESS_LOGGER

    def __init__(self, line: str):  # no LogRecord.__init__: nothing else of a record is read
        self._servicekit_line = line
        self.msg = line


# The handlers and formatter configure_logging installed; the access line goes straight to them.
_installed: tuple[JsonFormatter | None, tuple[logging.Handler, ...]] = (None, ())


def write_access_line(
    method: str, path: str, route: str | None, status: int, duration_ms: float, request_id: str
) -> None:
    """One request's access line: the JSON line the ``servicekit.access`` logger would write, with the same
    fields, level and handlers, built without a LogRecord and the logger hierarchy. Every request pays for
    this line, and going through ``logging`` made it the largest part of servicekit's per-request cost
    (about 20 of 40 us, measured by bench/fleet_loads.py). Silenced like the logger: ``LOG_LEVEL=WARNING``
    or ``servicekit.access`` set above INFO."""
    formatter, handlers = _installed
    if formatter is None or not access_log.isEnabledFor(logging.INFO):
        return
    quoted_path = _quote(path)
    line = (
        f'{{"ts": "{formatter._timestamp(time.time())}", "level": "info", "service": {formatter.quoted_service}, '
        f'"logger": "{ACCESS_LOGGER}", "message": {_quote(f"{method} {path} {status}")}, '
        f'"request_id": {_quote(request_id)}, "method": {_quote(method)}, "path": {quoted_path}, '
        f'"route": {"null" if route is None else _quote(route)}, "status": {status}, "duration_ms": {duration_ms!r}}}'
    )
    record = _Line(line)
    for handler in handlers:
        if handler.level <= logging.INFO:
            handler.handle(record)


def configure_logging(service: str, level: str = "INFO", log_dir: Path | None = None) -> None:
    """Idempotent: a second call (another app in the same process) replaces the handlers."""
    global _installed
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
    _installed = (formatter, tuple(handlers))
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel("WARNING")
    # From the logging docs' "Optimization" section: no caller lookup (a stack walk per record), no thread
    # or multiprocessing names, none of which the JSON lines print. Process ids stay: gunicorn's own log
    # format prints them.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
