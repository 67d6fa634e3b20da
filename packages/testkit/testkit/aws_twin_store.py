"""The AWS twin's state on disk: a snapshot of moto's DynamoDB and S3 backends, and a journal of every request
that may have changed them since, in the order the twin applied them.

    <state dir>/snapshot              header line (JSON) + pickle of the backends; replaced whole (written as
                                      snapshot-<generation>.tmp, fsync'd, renamed), never edited
    <state dir>/journal-<generation>  the requests applied after the snapshot of that generation, one framed
                                      record each: length, CRC-32, then the record
    <state dir>/lock                  held (flock) by the one twin that owns the folder

A record is appended, and made durable, before the twin answers the request it describes. At start the snapshot
is loaded and the journals from its generation on are replayed in order; a record cut short by a kill (short, or
failing its CRC) ends its file and is cut off, since the twin never answered for it. Compaction starts the next
generation's journal and writes the state as it stood then as that generation's snapshot, so replay stays short;
until the rename, the old snapshot and every journal since still hold the whole state.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle  # nosec B403  # only the twin's own files, in a folder of its own
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FRAME = struct.Struct(">II")  # length of the record, CRC-32 of the record
META_LENGTH = struct.Struct(">I")
SNAPSHOT_FORMAT = 1


@dataclass(frozen=True)
class Entry:
    """One request as the twin applied it: when (the clock moto saw), the seed of moto's random numbers (ids,
    S3 version ids), the WSGI environment that matters, and the body."""

    time: float
    seed: int
    environ: dict[str, Any]
    body: bytes
    status: int = 0  # what the twin answered, so that a replay answering otherwise is noticed

    def encode(self) -> bytes:
        meta = {"t": self.time, "s": self.seed, "c": self.status, "e": self.environ}
        encoded = json.dumps(meta, separators=(",", ":")).encode()
        record = META_LENGTH.pack(len(encoded)) + encoded + self.body
        return FRAME.pack(len(record), zlib.crc32(record)) + record

    @classmethod
    def decode(cls, record: bytes) -> Entry:
        (meta_length,) = META_LENGTH.unpack_from(record)
        meta = json.loads(record[META_LENGTH.size : META_LENGTH.size + meta_length])
        return cls(meta["t"], meta["s"], meta["e"], record[META_LENGTH.size + meta_length :], meta["c"])


@dataclass
class Opened:
    """What opening the folder found: figures for the log line and the tests."""

    generation: int = 0
    snapshot_bytes: int = 0
    snapshot_seconds: float = 0.0
    replayed: int = 0
    replayed_bytes: int = 0
    replay_seconds: float = 0.0
    cut_bytes: int = 0  # a torn last record, dropped
    notes: list[str] = field(default_factory=list)


class TwinStateError(RuntimeError):
    """The folder cannot be used (another twin holds it, or its snapshot cannot be read); nothing was changed."""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_records(path: Path) -> Iterator[tuple[int, bytes]]:
    """(offset, record) of each whole record; stops at the first one that is cut short or fails its CRC."""
    with path.open("rb") as journal:
        offset = 0
        while True:
            frame = journal.read(FRAME.size)
            if len(frame) < FRAME.size:
                return
            length, crc = FRAME.unpack(frame)
            record = journal.read(length)
            if len(record) < length or zlib.crc32(record) != crc:
                return
            yield offset, record
            offset += FRAME.size + length


class Journal:
    """The journal file appended to. `append` runs in the twin's turn (one request at a time), so the file's
    order is the order requests were applied; `wait_durable` runs after the turn, so one fdatasync covers
    every record written meanwhile (group commit) instead of one each."""

    def __init__(self, path: Path, *, fsync: bool, written: int = 0):
        self.path = path
        self.fsync = fsync
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.size = os.fstat(self.fd).st_size
        self.written = written  # records appended by this process, across journal files
        self.durable = written
        self._synced = threading.Condition()
        self._syncing = False

    def append(self, record: bytes) -> int:
        _write_all(self.fd, record)
        self.size += len(record)
        self.written += 1
        return self.written

    def wait_durable(self, ticket: int) -> None:
        """Return once record number `ticket` (and every one before it) is on disk."""
        if not self.fsync:
            return
        with self._synced:
            while self.durable < ticket:
                if self._syncing:
                    self._synced.wait()
                    continue
                self._syncing = True
                # Every record up to `target` was written before `written` counted it.
                target = self.written
                self._synced.release()
                try:
                    os.fdatasync(self.fd)
                finally:
                    self._synced.acquire()
                    self._syncing = False
                    self._synced.notify_all()
                self.durable = max(self.durable, target)

    def close(self) -> None:
        """Flush and close; in the turn, so nothing is appended meanwhile."""
        with self._synced:
            while self._syncing:
                self._synced.wait()
            if self.fsync:
                os.fdatasync(self.fd)
            self.durable = self.written
            os.close(self.fd)
            self._synced.notify_all()


class Store:
    """The twin's folder: opened once at start (load, replay), appended to while serving, compacted now and
    then. `capture` returns the state to snapshot; `install` puts a loaded one in place; `apply` replays one
    entry, returning a note when it did not go as it first did. All three are moto's business
    (testkit.aws_twin)."""

    def __init__(
        self,
        directory: Path,
        *,
        capture: Callable[[], Any],
        install: Callable[[Any], None],
        apply: Callable[[Entry], str | None],
        fsync: bool = True,
        compact_after_bytes: int = 64 * 1024 * 1024,
        compact_after_seconds: float = 5.0,
        version: str = "",
    ):
        self.directory = Path(directory)
        self.capture = capture
        self.install = install
        self.apply = apply
        self.fsync = fsync
        self.compact_after_bytes = compact_after_bytes
        self.compact_after_seconds = compact_after_seconds
        self.pending_seconds = 0.0  # what applying the journal's requests took: about what replaying them takes
        self.last_compaction_seconds = 0.0
        self.version = version
        self.generation = 0
        self.snapshot_size = 0
        self.written_generation = 0
        self.journal: Journal | None = None
        self._lock_fd: int | None = None
        self._writing = threading.Lock()  # one snapshot put in place at a time

    # --- opening ----------------------------------------------------------------------------------------

    def open(self) -> Opened:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._take_lock()
        try:
            return self._load()
        except BaseException:
            self.close()
            raise

    def _load(self) -> Opened:
        opened = Opened()
        snapshot = self.directory / "snapshot"
        if snapshot.exists():
            started = time.perf_counter()
            self.generation, state, written_by = self._read_snapshot(snapshot)
            if written_by != self.version:
                opened.notes.append(f"snapshot written with moto {written_by}, loaded with moto {self.version}")
            self.written_generation = self.generation
            self.install(state)
            self.snapshot_size = snapshot.stat().st_size
            opened.snapshot_bytes = self.snapshot_size
            opened.snapshot_seconds = time.perf_counter() - started
        opened.generation = self.generation
        for temporary in self.directory.glob("snapshot-*.tmp"):
            temporary.unlink()  # a snapshot whose writing a kill cut short
        journals = self._journals()
        for generation, path in journals:
            if generation < self.generation:
                path.unlink()  # compacted into the snapshot; a kill came before its removal
        live = [(g, p) for g, p in journals if g >= self.generation]
        started = time.perf_counter()
        for generation, path in live:
            end = 0
            for offset, record in read_records(path):
                note = self.apply(Entry.decode(record))
                if note:
                    opened.notes.append(f"{path.name}@{offset}: {note}")
                end = offset + FRAME.size + len(record)
                opened.replayed += 1
            size = path.stat().st_size
            opened.replayed_bytes += end
            if end < size:
                # Cut short by a kill mid-write: the twin never answered for it. Cut it off so that what is
                # appended next follows the last whole record.
                with path.open("r+b") as torn:
                    torn.truncate(end)
                    os.fsync(torn.fileno())
                opened.cut_bytes += size - end
                opened.notes.append(f"{path.name}: dropped a torn last record ({size - end} bytes)")
            self.generation = max(self.generation, generation)
        opened.replay_seconds = time.perf_counter() - started
        self.journal = Journal(self._journal_path(self.generation), fsync=self.fsync)
        _fsync_dir(self.directory)
        return opened

    def _take_lock(self) -> None:
        fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise TwinStateError(f"another AWS twin is using {self.directory}") from None
        self._lock_fd = fd

    def _journal_path(self, generation: int) -> Path:
        return self.directory / f"journal-{generation:010d}"

    def _journals(self) -> list[tuple[int, Path]]:
        found = []
        for path in self.directory.glob("journal-*"):
            suffix = path.name.removeprefix("journal-")
            if suffix.isdigit():
                found.append((int(suffix), path))
        return sorted(found)

    def _read_snapshot(self, path: Path) -> tuple[int, Any, str]:
        with path.open("rb") as snapshot:
            header = json.loads(snapshot.readline())
            data = snapshot.read()
        whole = len(data) == header.get("bytes") and zlib.crc32(data) == header.get("crc32")
        if header.get("format") != SNAPSHOT_FORMAT or not whole:
            raise TwinStateError(f"{path} is damaged or of another format; nothing was changed (make clean forgets it)")
        try:
            state = pickle.loads(data)  # noqa: S301  # nosec B301  # the twin's own file, CRC-checked
        except Exception as exc:
            written_by = header.get("moto")
            hint = (
                f"it was written with moto {written_by}, this is moto {self.version}: install that version to read it"
                if written_by != self.version
                else "it was written by this version"
            )
            raise TwinStateError(
                f"{path} cannot be read ({exc!r}); {hint}; nothing was changed (`make clean` forgets it)"
            ) from exc
        return int(header["generation"]), state, str(header.get("moto", ""))

    # --- serving ------------------------------------------------------------------------------------------

    def append(self, entry: Entry, seconds: float = 0.0) -> int:
        """In the turn: the record on file (not yet durable); its ticket for `wait_durable`. `seconds`: what
        applying it took."""
        assert self.journal is not None
        self.pending_seconds += seconds
        return self.journal.append(entry.encode())

    def ticket(self) -> int:
        """In the turn: the ticket of the last record appended, which a read may have seen."""
        return self.journal.written if self.journal else 0

    def wait_durable(self, ticket: int) -> None:
        if self.journal is not None:
            self.journal.wait_durable(ticket)

    def wants_compaction(self) -> bool:
        """Once replaying the journal would take longer than compact_after_seconds, or it outgrows both
        compact_after_bytes and the snapshot; never sooner than four times the last compaction's time, so that
        compacting a big state costs at most a fifth of the time spent on requests."""
        journal = self.journal
        if journal is None or journal.size == 0:
            return False
        due = max(self.compact_after_seconds, 4 * self.last_compaction_seconds)
        return self.pending_seconds >= due or journal.size >= max(self.compact_after_bytes, self.snapshot_size)

    # --- compaction ---------------------------------------------------------------------------------------

    def rotate(self) -> int:
        """In the turn: a new journal for what follows; the generation of the snapshot of the state as it stands,
        which replaces every journal before it."""
        assert self.journal is not None
        written = self.journal.written
        self.journal.close()
        self.generation += 1
        self.journal = Journal(self._journal_path(self.generation), fsync=self.fsync, written=written)
        self.pending_seconds = 0.0
        return self.generation

    def snapshot_data(self) -> bytes:
        return pickle.dumps(self.capture(), protocol=pickle.HIGHEST_PROTOCOL)

    def cut(self) -> tuple[int, bytes]:
        """In the turn: a new journal, and the state as it stands, pickled."""
        return self.rotate(), self.snapshot_data()

    def temporary_path(self, generation: int) -> Path:
        return self.directory / f"snapshot-{generation:010d}.tmp"

    def write_temporary(self, generation: int, data: bytes) -> Path:
        """The snapshot of `generation`, on disk beside the current one."""
        header = {
            "format": SNAPSHOT_FORMAT,
            "generation": generation,
            "bytes": len(data),
            "crc32": zlib.crc32(data),
            "moto": self.version,
        }
        temporary = self.temporary_path(generation)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, json.dumps(header).encode() + b"\n")
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return temporary

    def put_in_place(self, temporary: Path, generation: int, size: int) -> None:
        """The written snapshot of `generation` in place of the last one, then the journals it replaces removed.
        Until the rename, the old snapshot and every journal since still hold the state."""
        with self._writing:
            if generation <= self.written_generation:
                temporary.unlink(missing_ok=True)
                return  # a later snapshot is in place already (the one written at shutdown)
            os.replace(temporary, self.directory / "snapshot")
            _fsync_dir(self.directory)
            self.snapshot_size = size
            self.written_generation = generation
            for older, path in self._journals():
                if older < generation:
                    path.unlink(missing_ok=True)

    def write_snapshot(self, generation: int, data: bytes) -> None:
        self.put_in_place(self.write_temporary(generation, data), generation, len(data))

    def inherited(self) -> list[int]:
        """The descriptors a forked writer of a snapshot must let go of (the folder's lock, the journal)."""
        return [fd for fd in (self._lock_fd, self.journal.fd if self.journal else None) if fd is not None]

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
