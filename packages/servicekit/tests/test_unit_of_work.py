"""The unit of work: what a block writes is committed together or not at all, and a block left without
commit (an error, a refusal) leaves nothing behind."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from servicekit import NotFound, SqlUnitOfWork
from servicekit.db import make_engine

pytestmark = pytest.mark.integration


class Notes:
    def __init__(self, connection: sa.Connection, table: str) -> None:
        self.connection, self.table = connection, table

    def add(self, text: str) -> None:
        self.connection.execute(sa.text(f"INSERT INTO {self.table} (text) VALUES (:t)"), {"t": text})  # noqa: S608


class NotesUnitOfWork(SqlUnitOfWork):
    def __init__(self, engine: sa.Engine, table: str) -> None:
        super().__init__(engine)
        self.table = table

    def bind(self, connection: sa.Connection) -> None:
        self.notes = Notes(connection, self.table)
        self.outbox = Notes(connection, self.table + "_outbox")


@pytest.fixture()
def uow(postgres_url: str):
    engine = make_engine(postgres_url)
    table = f"notes_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (text text)"))
        conn.execute(sa.text(f"CREATE TABLE {table}_outbox (text text)"))
    yield NotesUnitOfWork(engine, table)
    engine.dispose()


def _count(uow: NotesUnitOfWork, table: str) -> int:
    with uow.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608


def test_a_committed_block_keeps_the_change_and_its_outbox_row(uow) -> None:
    with uow:
        uow.notes.add("order placed")
        uow.outbox.add("order.placed")
        uow.commit()
    assert _count(uow, uow.table) == 1 and _count(uow, uow.table + "_outbox") == 1


def test_a_block_left_without_commit_leaves_nothing(uow) -> None:
    with uow:
        uow.notes.add("order placed")
        uow.outbox.add("order.placed")
    with pytest.raises(NotFound), uow:
        uow.notes.add("order placed")
        raise NotFound("no such cake")
    assert _count(uow, uow.table) == 0 and _count(uow, uow.table + "_outbox") == 0


def test_one_unit_of_work_serves_block_after_block_but_not_two_at_once(uow) -> None:
    for text in ("a", "b"):
        with uow:
            uow.notes.add(text)
            uow.commit()
    assert _count(uow, uow.table) == 2
    with uow, pytest.raises(RuntimeError):
        uow.__enter__()
    with pytest.raises(RuntimeError):
        _ = uow.connection
