"""The twin's folder on its own (testkit.aws_twin_store), with a list standing in for moto: a torn last record is
cut off wherever the cut falls, a compaction interrupted at any step loses nothing, and a folder that cannot be
used is refused without being changed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testkit.aws_twin_store import Entry, Store, TwinStateError, read_records


class Model:
    """The state a Store keeps for these tests: the bodies applied, in order."""

    def __init__(self) -> None:
        self.applied: list[bytes] = []

    def capture(self) -> list[bytes]:
        return list(self.applied)

    def install(self, state: list[bytes]) -> None:
        self.applied = list(state)

    def apply(self, entry: Entry) -> None:
        self.applied.append(entry.body)


def open_store(directory: Path, **options) -> tuple[Store, Model]:
    model = Model()
    store = Store(directory, capture=model.capture, install=model.install, apply=model.apply, fsync=False, **options)
    store.open()
    return store, model


def write(store: Store, model: Model, body: bytes) -> None:
    """What the twin does for one request: apply it, append its record, wait until it is durable."""
    model.apply(Entry(0.0, 0, {}, body))
    store.wait_durable(store.append(Entry(1.5, 7, {"REQUEST_METHOD": "POST"}, body, 200), 0.001))


def test_an_entry_comes_back_as_it_was_written(tmp_path: Path) -> None:
    environ = {"PATH_INFO": "/a b/ü", "HTTP_X_AMZ_TARGET": "T.PutItem"}
    entry = Entry(1764547200.25, 2**63 + 5, environ, b"\x00\xff{}", 400)
    (tmp_path / "j").write_bytes(entry.encode() + entry.encode())
    assert [Entry.decode(record) for _, record in read_records(tmp_path / "j")] == [entry, entry]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kept=st.lists(st.binary(max_size=40), min_size=0, max_size=6),
    torn=st.binary(min_size=1, max_size=40),
    cut=st.floats(min_value=0, max_value=1, exclude_max=True),
    garbage=st.booleans(),
)
def test_a_torn_last_record_is_cut_off_wherever_the_kill_cut_it(tmp_path_factory, kept, torn, cut, garbage) -> None:
    directory = tmp_path_factory.mktemp("state")
    store, model = open_store(directory)
    for body in kept:
        write(store, model, body)
    store.close()
    journal = directory / "journal-0000000000"
    whole = journal.stat().st_size
    record = Entry(2.0, 1, {}, torn, 200).encode()
    tail = record[: max(1, int(len(record) * cut))]
    if garbage:  # the length made it to disk, the rest is whatever the block held
        tail = record[:8] + bytes(len(record) - 8)
    journal.write_bytes(journal.read_bytes() + tail)

    store, model = open_store(directory)
    assert model.applied == kept
    assert journal.stat().st_size == whole
    write(store, model, b"after")  # appended after the last whole record, not after the torn bytes
    store.close()
    _, model = open_store(directory)
    assert model.applied == [*kept, b"after"]


def test_a_compaction_cut_short_at_any_step_loses_nothing(tmp_path: Path) -> None:
    store, model = open_store(tmp_path)
    for i in range(5):
        write(store, model, b"%d" % i)
    generation, data = store.cut()  # in the turn: the state, and a new journal for what follows
    write(store, model, b"5")
    # Killed before the snapshot is written: the old journal and the new one hold everything.
    store.close()
    assert sorted(p.name for p in tmp_path.glob("journal-*")) == ["journal-0000000000", "journal-0000000001"]
    store, model = open_store(tmp_path)
    assert model.applied == [b"0", b"1", b"2", b"3", b"4", b"5"]

    generation, data = store.cut()
    write(store, model, b"6")
    store.write_snapshot(generation, data)
    assert sorted(p.name for p in tmp_path.glob("journal-*")) == ["journal-0000000002"]
    store.close()
    # A journal older than the snapshot, left by a kill between the rename and its removal, is not replayed.
    (tmp_path / "journal-0000000001").write_bytes(Entry(0, 0, {}, b"stale", 200).encode())
    store, model = open_store(tmp_path)
    assert model.applied == [b"0", b"1", b"2", b"3", b"4", b"5", b"6"]
    assert not (tmp_path / "journal-0000000001").exists()
    store.close()


def test_compaction_is_asked_for_once_the_journal_outgrows_the_threshold_and_the_snapshot(tmp_path: Path) -> None:
    store, model = open_store(tmp_path, compact_after_bytes=1000)
    while not store.wants_compaction():
        write(store, model, b"x" * 100)
    assert store.journal is not None and store.journal.size >= 1000
    generation, data = store.cut()
    store.write_snapshot(generation, data)
    assert not store.wants_compaction()
    store.close()


def test_compaction_is_asked_for_once_replaying_the_journal_would_take_too_long(tmp_path: Path) -> None:
    store, model = open_store(tmp_path, compact_after_seconds=0.5)
    for _ in range(3):
        store.append(Entry(0, 0, {}, b"slow", 200), 0.2)
        assert store.wants_compaction() == (store.pending_seconds >= 0.5)
    assert store.wants_compaction()
    store.rotate()
    assert store.pending_seconds == 0 and not store.wants_compaction()
    store.close()


def test_every_answer_waits_for_the_records_before_it_with_one_sync_for_many(tmp_path: Path) -> None:
    model = Model()
    store = Store(tmp_path, capture=model.capture, install=model.install, apply=model.apply, fsync=True)
    store.open()
    tickets = [store.append(Entry(0, 0, {}, b"%d" % i, 200)) for i in range(50)]
    waiters = [threading.Thread(target=store.wait_durable, args=(ticket,)) for ticket in tickets]
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join(10)
    assert store.journal is not None and store.journal.durable == 50
    store.close()


def test_a_folder_another_twin_holds_is_refused(tmp_path: Path) -> None:
    holder, _ = open_store(tmp_path)
    with pytest.raises(TwinStateError, match="another AWS twin is using"):
        open_store(tmp_path)
    holder.close()
    open_store(tmp_path)[0].close()


def test_a_damaged_snapshot_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    store, model = open_store(tmp_path)
    write(store, model, b"kept")
    store.write_snapshot(*store.cut())
    store.close()
    snapshot = tmp_path / "snapshot"
    damaged = snapshot.read_bytes()[:-3] + b"xyz"
    snapshot.write_bytes(damaged)
    with pytest.raises(TwinStateError, match="is damaged"):
        open_store(tmp_path)
    assert snapshot.read_bytes() == damaged
