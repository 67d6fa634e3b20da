"""The suite's AWS twin: moto's server, held to the promises DynamoDB makes, and kept on disk.

    python -m testkit.aws_twin [-H 127.0.0.1] [-p 4566] [--state-dir DIR [--no-fsync]]

moto's own server differs from DynamoDB in three ways that matter to dispatch-service:

- **Atomicity.** DynamoDB evaluates a condition and applies the write as one step, and a transaction is
  serialisable against every other write. moto's threaded server evaluates the condition, then writes, with
  other requests' threads free to run in between: two conditional puts of one key can both succeed. The twin
  runs one request at a time (bodies are read before the turn is taken, so a slow client holds no one up),
  which gives every conditional write and transaction DynamoDB's isolation.
- **Cost of a transaction.** moto copies every table a `TransactWriteItems` touches, whole, before applying
  it, so that it can roll back: on a table of 20,000 items one transaction of 100 puts takes seconds. The twin
  keeps a copy of the items the transaction touches instead, and puts those back when it is cancelled.
- **Memory only.** moto forgets everything when it stops. With `--state-dir`, the twin keeps its DynamoDB and
  S3 state in that folder (testkit.aws_twin_store): every request that may change them is appended to a journal
  in the turn it is applied in (so the journal's order is the order of application) and is on disk before
  it is answered; a snapshot of the backends, written by a forked child, replaces the journal once replaying
  it would take more than --compact-after-seconds (5 s) or four times the last compaction's time, and at
  shutdown. At start the
  snapshot is loaded and the journal replayed, each request with the clock and the random seed it was first
  applied with, so timestamps, S3 version ids and every other generated value come back as they were. A
  SIGKILL at any moment loses nothing the twin answered for. Other services moto serves stay in memory.

moto also remembers every model object it ever created (items, S3 objects, overwritten or deleted too) for
its dashboard; the twin switches that off, or a long-running one would grow with every write.

The local stack serves it as its AWS endpoint (state in .local/aws); the tests' `moto_url` fixture starts it
in memory on a free port.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import io
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import moto
import time_machine
from moto.backends import get_backend
from moto.core import common_models
from moto.core.base_backend import BackendDict
from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY as PRESERVED_HEADER_NAMES
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import table_export, table_import
from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.moto_api._internal import mock_random
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.s3 import models as s3_models
from moto.s3 import utils as s3_utils
from werkzeug.serving import BaseWSGIServer, make_server

from .aws_twin_store import Entry, Opened, Store, TwinStateError

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
log = logging.getLogger("testkit.aws_twin")

PERSISTED_SERVICES = ("dynamodb", "s3")
COMPACT_AFTER_BYTES = 64 * 1024 * 1024
# Replaying the journal takes about as long as applying its requests did: this bounds a restart's replay.
COMPACT_AFTER_SECONDS = 5.0
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# DynamoDB operations that change nothing; every other one is journaled (a PartiQL statement may write).
DYNAMODB_READS = frozenset(
    {
        "BatchGetItem",
        "DescribeBackup",
        "DescribeContinuousBackups",
        "DescribeContributorInsights",
        "DescribeEndpoints",
        "DescribeExport",
        "DescribeGlobalTable",
        "DescribeGlobalTableSettings",
        "DescribeImport",
        "DescribeKinesisStreamingDestination",
        "DescribeLimits",
        "DescribeTable",
        "DescribeTableReplicaAutoScaling",
        "DescribeTimeToLive",
        "GetItem",
        "GetResourcePolicy",
        "ListBackups",
        "ListContributorInsights",
        "ListExports",
        "ListGlobalTables",
        "ListImports",
        "ListTables",
        "ListTagsOfResource",
        "Query",
        "Scan",
        "TransactGetItems",
    }
)
# What of a request's WSGI environment moto reads, kept in its journal record.
ENVIRON_KEYS = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "RAW_URI",
    "REQUEST_URI",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "CONTENT_TYPE",
    "wsgi.url_scheme",
)


class Journaling(Protocol):
    """What OneAtATime asks of the persistence, in the turn: the entry of a request that may change the state
    (None for a read), its record appended, the ticket to wait on; after the turn: durability."""

    def entry_for(self, environ: dict[str, Any], body: bytes) -> Entry | None: ...

    def append(self, entry: Entry, seconds: float) -> int: ...

    def ticket(self) -> int: ...

    def wait_durable(self, ticket: int) -> None: ...


class OneAtATime:
    """A WSGI wrapper that runs the wrapped application for one request at a time.

    The request body is read before the turn is taken and the response body is drawn whole within it, so the
    application never runs two requests' code side by side and no client's pace holds the turn. With a
    journal, a request that may change the state is applied with a recorded clock and seed and appended in its
    turn; every answer waits until what its request did, or could have seen, is on disk."""

    def __init__(self, app: WSGIApp, journal: Journaling | None = None) -> None:
        self.app = app
        self.journal = journal
        self.turn = threading.Lock()
        self.closed = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body_bytes = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body_bytes)
        environ["CONTENT_LENGTH"] = str(len(body_bytes))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        started: list[tuple[Any, ...]] = []
        body: list[bytes] = []

        def remember(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            started[:] = [(status, headers, exc_info)]
            return body.append

        ticket = 0
        with self.turn:
            if self.closed:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain"), ("Retry-After", "1")])
                return [b"the AWS twin is stopping\n"]
            entry = self.journal.entry_for(environ, body_bytes) if self.journal else None
            applying = time.perf_counter()
            try:
                with applied_as(entry):
                    result = self.app(environ, remember)
                    try:
                        body.extend(result)
                    finally:
                        close = getattr(result, "close", None)
                        if close is not None:
                            close()
            finally:
                # Even a request that failed half-way is journaled: replayed, it fails at the same point.
                if self.journal is not None:
                    if entry is not None:
                        answered = int(started[0][0].split()[0]) if started else 500
                        seconds = time.perf_counter() - applying
                        ticket = self.journal.append(dataclasses.replace(entry, status=answered), seconds)
                    else:
                        ticket = self.journal.ticket()
        if self.journal is not None:
            self.journal.wait_durable(ticket)
        status, headers, exc_info = started[0]
        start_response(status, headers, exc_info)
        return body


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return bytes(stream.read(int(length)))
    if environ.get("wsgi.input_terminated") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return bytes(stream.read())
    return b""


@contextlib.contextmanager
def applied_as(entry: Entry | None) -> Iterator[None]:
    """moto's random numbers and clock as the entry says: the same request gives the same state when replayed."""
    if entry is None:
        yield
        return
    mock_random.seed(entry.seed)
    with time_machine.travel(entry.time, tick=False):
        yield


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


def _untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)


class _SeededOs:
    """`os` inside moto's S3 models, whose multipart upload ids come from os.urandom: drawn from moto's seeded
    generator instead, so that a replayed upload gets the id its parts name."""

    @staticmethod
    def urandom(size: int) -> bytes:
        return mock_random.randbytes(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def _versioned_key_store(cls: type, versions: dict[str, list[Any]], attributes: dict[str, Any]) -> Any:
    store = cls()
    for key, kept in versions.items():
        dict.__setitem__(store, key, kept)
    store.__dict__.update(attributes)
    return store


def _reduce_versioned_key_store(self: Any, _protocol: Any = None) -> tuple[Any, ...]:
    """An S3 bucket's keys, every version of each: the store's `items()` yields the latest only, which is all
    that pickle (and deepcopy) would otherwise keep."""
    return _versioned_key_store, (type(self), {key: list(kept) for key, kept in self.lists()}, dict(self.__dict__))


def _limited_size_dict(attributes: dict[str, Any]) -> Any:
    restored = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(restored, attributes)
    return restored


def _reduce_limited_size_dict(self: Any, _protocol: Any = None) -> tuple[Any, ...]:
    """An item's attributes, restored without checking the item's size once per attribute (each check sums the
    whole item: loading a day's table took a minute instead of seconds). They were checked when written."""
    return _limited_size_dict, (dict(self),)


def patch_moto() -> None:
    dynamodb_models.copy = _TablesNotCopied()  # type: ignore[assignment]
    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    common_models.BaseModel.__new__ = _untracked  # type: ignore[method-assign]
    s3_utils._VersionedKeyStore.__reduce_ex__ = _reduce_versioned_key_store  # type: ignore[method-assign]
    LimitedSizeDict.__reduce_ex__ = _reduce_limited_size_dict  # type: ignore[method-assign]
    # Every random value DynamoDB and S3 draw comes from moto's seedable generator (applied_as seeds it).
    s3_models.os = _SeededOs()  # type: ignore[assignment]
    table_export.uuid4 = mock_random.uuid4
    table_import.uuid4 = mock_random.uuid4


# --- persistence ----------------------------------------------------------------------------------------------


def _backends(service: str) -> BackendDict[Any]:
    # moto types get_backend by literal service name, one overload each.
    if service == "dynamodb":
        return get_backend("dynamodb")
    if service == "s3":
        return get_backend("s3")
    raise TwinStateError(f"the twin does not keep the state of {service!r}")


def capture_backends() -> dict[str, Any]:
    """The DynamoDB and S3 backends' state, every account and region: what a snapshot holds."""
    return {
        service: {
            account: {region: dict(backend.__dict__) for region, backend in regions.items()}
            for account, regions in _backends(service).items()
        }
        for service in PERSISTED_SERVICES
    }


def install_backends(state: dict[str, Any]) -> None:
    for service, accounts in state.items():
        backends = _backends(service)
        for account, regions in accounts.items():
            for region, attributes in regions.items():
                backends[account][region].__dict__.update(attributes)


class Persistence:
    """The twin's journaling on a Store, and the compaction that keeps replay short, in a thread of its own."""

    def __init__(self, dispatcher: DomainDispatcherApplication, store: Store) -> None:
        self.dispatcher = dispatcher
        self.store = store
        self.turn: threading.Lock | None = None
        self._wanted = threading.Event()
        self._stopping = False
        self._compactor = threading.Thread(target=self._compact_when_asked, name="aws-twin-compaction", daemon=True)
        self.server_fd = -1

    def entry_for(self, environ: dict[str, Any], body: bytes) -> Entry | None:
        if not self._may_change_state(environ):
            return None
        kept = {key: environ[key] for key in ENVIRON_KEYS if key in environ}
        kept.update({key: value for key, value in environ.items() if key.startswith("HTTP_")})
        preserved = environ.get(PRESERVED_HEADER_NAMES)
        if preserved:
            kept[PRESERVED_HEADER_NAMES] = preserved
        return Entry(time.time(), int.from_bytes(os.urandom(8), "big"), kept, body)

    def _may_change_state(self, environ: dict[str, Any]) -> bool:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api"):
            return method not in READ_METHODS  # reset and its kin act on every backend
        if method in READ_METHODS:
            return False
        host = self.dispatcher.infer_service_region_host(environ, path) or "s3.us-east-1.amazonaws.com"
        service = self.dispatcher.get_backend_for_host(host)
        if service == "dynamodb":
            return environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2] not in DYNAMODB_READS
        return service in PERSISTED_SERVICES

    def append(self, entry: Entry, seconds: float) -> int:
        try:
            ticket = self.store.append(entry, seconds)
        except OSError as exc:
            # moto holds a change the journal does not: answering would promise what a restart would lose.
            # Stop instead; the supervisor starts the twin again from what is on disk.
            print(f"AWS twin: cannot append to its journal ({exc}); stopping", file=sys.stderr, flush=True)
            os._exit(75)
        if self.store.wants_compaction():
            self._wanted.set()
        return ticket

    def ticket(self) -> int:
        return self.store.ticket()

    def wait_durable(self, ticket: int) -> None:
        self.store.wait_durable(ticket)

    def replay(self, entry: Entry) -> str | None:
        """One journaled request, applied again as it was first applied; a note if it answered otherwise."""
        environ = {
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.input_terminated": False,
            **entry.environ,
            "wsgi.input": io.BytesIO(entry.body),
            "CONTENT_LENGTH": str(len(entry.body)),
        }
        answered: list[int] = []

        def remember(status: str, *_args: Any) -> Callable[[bytes], None]:
            answered.append(int(status.split()[0]))
            return lambda _data: None

        try:
            with applied_as(entry):
                result = self.dispatcher(environ, remember)
                try:
                    for _ in result:
                        pass
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
        except Exception as exc:  # noqa: BLE001  # failed the same way when first applied, or the note says
            answered.append(500)
            error = repr(exc)
        else:
            error = ""
        if answered and answered[-1] == entry.status:
            return None
        what = f"{entry.environ.get('REQUEST_METHOD')} {entry.environ.get('PATH_INFO')}"
        target = entry.environ.get("HTTP_X_AMZ_TARGET")
        return f"{target or what} answered {answered[-1] if answered else '-'} on replay, {entry.status} first {error}"

    def start(self, turn: threading.Lock, server_fd: int, compact_now: bool) -> None:
        self.turn = turn
        self.server_fd = server_fd
        self._compactor.start()
        if compact_now:
            self._wanted.set()

    def compact(self) -> None:
        """The state as a new snapshot, the journal behind it dropped.

        Pickling a day's state takes seconds, too long to hold every request: a forked child pickles the state as
        it stood at the fork (copy-on-write), as Redis's BGSAVE does, while this process goes on serving and
        journaling into the next generation's journal. Requests wait only for the fork."""
        assert self.turn is not None
        started = time.perf_counter()
        with self.turn:
            taken = time.perf_counter()
            generation = self.store.rotate()
            child = os.fork()
            if child == 0:
                self._write_snapshot_and_exit(generation)
        held = time.perf_counter() - taken
        _, status = os.waitpid(child, 0)
        temporary = self.store.temporary_path(generation)
        if os.waitstatus_to_exitcode(status) != 0:
            temporary.unlink(missing_ok=True)
            raise RuntimeError(f"the writer of snapshot {generation} exited with {status}")
        size = temporary.stat().st_size
        self.store.put_in_place(temporary, generation, size)
        self.store.last_compaction_seconds = time.perf_counter() - started
        print(
            f"AWS twin: compacted into snapshot generation {generation} ({size / 1e6:.1f} MB) in"
            f" {time.perf_counter() - started:.2f}s, requests held for {held:.3f}s",
            flush=True,
        )

    def _write_snapshot_and_exit(self, generation: int) -> None:
        """In the forked child: only this thread runs here, and no request was in moto when it forked."""
        try:
            os.nice(10)  # serving requests comes first on a machine of two cores
            # Let go of the port, the folder's lock and the journal: should the twin die meanwhile, its successor
            # must not find them held by this child.
            for fd in [self.server_fd, *self.store.inherited()]:
                os.close(fd)
            self.store.write_temporary(generation, self.store.snapshot_data())
        except BaseException as exc:  # noqa: BLE001  # reported by the exit status; no Python cleanup in a child
            os.write(2, f"AWS twin: writing snapshot {generation} failed: {exc!r}\n".encode())
            os._exit(1)
        os._exit(0)

    def _compact_when_asked(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._stopping:
                return
            try:
                self.compact()
            except Exception:  # the journal still holds everything; try again after the next writes
                log.exception("AWS twin: compaction failed")

    def stop(self, twin: OneAtATime) -> None:
        """At shutdown: no more requests, the state as a snapshot, the folder released."""
        self._stopping = True
        self._wanted.set()
        if self._compactor.is_alive():
            self._compactor.join()  # a compaction under way finishes first
        started = time.perf_counter()
        with twin.turn:
            twin.closed = True
            dirty = self.store.journal is not None and self.store.journal.size > 0
            generation, data = self.store.cut() if dirty else (0, b"")
        if dirty:
            self.store.write_snapshot(generation, data)
            print(
                f"AWS twin: stopped, state in snapshot generation {generation} ({len(data) / 1e6:.1f} MB),"
                f" written in {time.perf_counter() - started:.2f}s",
                flush=True,
            )
        self.store.close()


class Twin:
    """The twin's HTTP server (werkzeug, a thread per connection) and, with a state folder, its persistence."""

    def __init__(self, server: BaseWSGIServer, app: OneAtATime, persistence: Persistence | None, opened: Opened):
        self.server = server
        self.app = app
        self.persistence = persistence
        self.opened = opened

    @property
    def port(self) -> int:
        return self.server.server_port

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def shutdown(self) -> None:
        """Stop serving; with a state folder, write the state as a snapshot (a quick start next time)."""
        self.server.shutdown()
        if self.persistence is not None:
            self.persistence.stop(self.app)

    def server_close(self) -> None:
        self.server.server_close()


def make_twin(
    host: str,
    port: int,
    *,
    state_dir: Path | str | None = None,
    fsync: bool = True,
    compact_after_bytes: int = COMPACT_AFTER_BYTES,
    compact_after_seconds: float = COMPACT_AFTER_SECONDS,
) -> Twin:
    """The twin, not yet serving. With `state_dir`, its state is loaded (snapshot, then journal) first."""
    patch_moto()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access line per request
    dispatcher = DomainDispatcherApplication(create_backend_app)
    persistence: Persistence | None = None
    opened = Opened()

    def replay(entry: Entry) -> str | None:
        assert persistence is not None  # the store replays only from open(), once persistence is made
        return persistence.replay(entry)

    if state_dir is not None:
        # S3 objects in memory, not in temporary files past 5 MB: a forked snapshot writer reading such a file
        # would move the offset the serving process reads it by.
        os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(2**40))
        store = Store(
            Path(state_dir),
            capture=capture_backends,
            install=install_backends,
            apply=replay,
            fsync=fsync,
            compact_after_bytes=compact_after_bytes,
            compact_after_seconds=compact_after_seconds,
            version=moto.__version__,
        )
        persistence = Persistence(dispatcher, store)
        opened = store.open()
    app = OneAtATime(dispatcher, persistence)
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    if persistence is not None:
        persistence.start(app.turn, server.socket.fileno(), compact_now=opened.replayed > 0)
    return Twin(server, app, persistence, opened)


def describe(opened: Opened) -> str:
    if not (opened.snapshot_bytes or opened.replayed):
        return "no earlier state"
    parts = [
        f"snapshot of generation {opened.generation} ({opened.snapshot_bytes / 1e6:.1f} MB) in"
        f" {opened.snapshot_seconds:.2f}s"
        if opened.snapshot_bytes
        else "no snapshot",
        f"{opened.replayed} journaled requests ({opened.replayed_bytes / 1e6:.1f} MB) replayed in"
        f" {opened.replay_seconds:.2f}s",
        *opened.notes,
    ]
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=4566)
    parser.add_argument("--state-dir", type=Path, help="keep DynamoDB and S3 in this folder (default: memory only)")
    parser.add_argument(
        "--fsync",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="wait for the disk before answering a write (--no-fsync: survives a killed twin, not a lost machine)",
    )
    parser.add_argument(
        "--compact-after-seconds",
        type=float,
        default=COMPACT_AFTER_SECONDS,
        metavar="SECONDS",
        help="compact once applying the journal's requests has taken this long (replaying them takes about as long)",
    )
    parser.add_argument(
        "--compact-after-bytes",
        type=int,
        default=COMPACT_AFTER_BYTES,
        metavar="BYTES",
        help="compact once the journal is this long, or as long as the snapshot if that is longer",
    )
    args = parser.parse_args(argv)
    if args.state_dir:
        print(f"AWS twin: loading its state from {args.state_dir}", flush=True)
    try:
        twin = make_twin(
            args.host,
            args.port,
            state_dir=args.state_dir,
            fsync=args.fsync,
            compact_after_bytes=args.compact_after_bytes,
            compact_after_seconds=args.compact_after_seconds,
        )
    except TwinStateError as exc:
        print(f"AWS twin: {exc}", file=sys.stderr, flush=True)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    where = f", state in {args.state_dir}: {describe(twin.opened)}" if args.state_dir else " (memory only)"
    print(f"AWS twin serving on {args.host}:{twin.port}{where}", flush=True)
    serving = threading.Thread(target=twin.serve_forever, daemon=True)
    serving.start()
    try:
        while serving.is_alive():
            serving.join(0.5)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        twin.shutdown()
        twin.server_close()
    # Without the interpreter's teardown, in which moto's S3 objects complain about closing their buffers.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    # Through the module's own name, so that what a snapshot pickles is named testkit.aws_twin, not __main__.
    from testkit.aws_twin import main as twin_main

    raise SystemExit(twin_main())
