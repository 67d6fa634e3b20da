"""The suite's AWS twin: moto's server, held to the promises DynamoDB makes.

    python -m testkit.aws_twin [-H 127.0.0.1] [-p 4566]

moto's own server differs from DynamoDB in two ways that matter to dispatch-service:

- **Atomicity.** DynamoDB evaluates a condition and applies the write as one step, and a transaction is
  serialisable against every other write. moto's threaded server evaluates the condition, then writes, with
  other requests' threads free to run in between: two conditional puts of one key can both succeed. The twin
  runs one request at a time (bodies are read before the turn is taken, so a slow client holds no one up),
  which gives every conditional write and transaction DynamoDB's isolation.
- **Cost of a transaction.** moto copies every table a `TransactWriteItems` touches, whole, before applying
  it, so that it can roll back: on a table of 20,000 items one transaction of 100 puts takes seconds. The twin
  keeps a copy of the items the transaction touches instead, and puts those back when it is cancelled.

The local stack serves it as its AWS endpoint; the tests' `moto_url` fixture starts it on a free port.
"""

from __future__ import annotations

import argparse
import copy
import io
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OneAtATime:
    """A WSGI wrapper that runs the wrapped application for one request at a time.

    The request body is read before the turn is taken and the response body is drawn whole within it, so the
    application never runs two requests' code side by side and no client's pace holds the turn."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.turn = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ["wsgi.input"] = io.BytesIO(_read_body(environ))
        environ["CONTENT_LENGTH"] = str(environ["wsgi.input"].getbuffer().nbytes)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        started: list[tuple[Any, ...]] = []
        body: list[bytes] = []

        def remember(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [(status, headers, exc_info)]
            return body.append

        with self.turn:
            result = self.app(environ, remember)
            try:
                body.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        status, headers, exc_info = started[0]
        start_response(status, headers, exc_info)
        return body


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return stream.read()
    return b""


class _TablesNotCopied:
    """Stands in for the `copy` module inside moto's DynamoDB backend: a table is 'copied' as itself, so the
    backend's own rollback (putting its copies back) changes nothing; `transact_write_items` below restores the
    touched items instead. Every other copy is a real one."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> tuple[Table, Any, Any] | None:
    table = backend.tables.get(op.get("TableName"))
    if table is None:
        return None
    key = op["Item"] if op_type == "Put" else op.get("Key", {})
    hash_value = key.get(table.hash_key_attr)
    range_value = key.get(table.range_key_attr) if table.range_key_attr else None
    if hash_value is None:
        return None
    return table, DynamoType(hash_value), DynamoType(range_value) if range_value is not None else None


def _held(table: Table, hash_key: Any, range_key: Any) -> Any:
    if range_key is None:
        return table.items.get(hash_key)
    return table.items.get(hash_key, {}).get(range_key)


def _put_back(table: Table, hash_key: Any, range_key: Any, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    if item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
        if hash_key in table.items and not table.items[hash_key]:
            del table.items[hash_key]
    else:
        table.items[hash_key][range_key] = item


_moto_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems, rolled back by the items it touched rather than by whole-table copies."""
    saved = []
    for entry in transact_items:
        for op_type, op in entry.items():
            located = _key_of(self, op_type, op)
            if located is not None:
                table, hash_key, range_key = located
                saved.append((table, hash_key, range_key, copy.deepcopy(_held(table, hash_key, range_key))))
    try:
        _moto_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(saved):
            _put_back(table, hash_key, range_key, item)
        raise


def patch_moto() -> None:
    dynamodb_models.copy = _TablesNotCopied()  # type: ignore[assignment]
    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def make_twin(host: str, port: int) -> Any:
    """The twin's HTTP server (werkzeug, a thread per connection), not yet serving."""
    patch_moto()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access line per request
    app = OneAtATime(DomainDispatcherApplication(create_backend_app))
    return make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    args = parser.parse_args(argv)
    server = make_twin(args.host, args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"AWS twin serving on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
