"""The unit of work: one transaction holding the connection, the repositories and the outbox together.

    with uow:
        order = uow.orders.get(order_id)
        ...
        uow.outbox.add(...)
        uow.commit()

Leaving the block without ``commit()`` (an error, a refusal) rolls everything back, so a change and the
events or outside actions it causes are written together or not at all. A service subclasses
``SqlUnitOfWork`` and binds its repositories to the connection in ``bind``; use cases take the unit of work
(or a factory of them) and never a connection or the whole wiring.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


class UnitOfWork(ABC):
    """The interface use cases see (cosmicpython's AbstractUnitOfWork)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.rollback()

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...


class SqlUnitOfWork(UnitOfWork):
    """A unit of work over one SQLAlchemy connection and its transaction; reusable, one block at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._connection

    def bind(self, connection: Connection) -> None:
        """Attach the repositories (and the outbox) to this block's connection."""

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already in a `with` block")
        self._connection = self.engine.connect()
        try:
            self._connection.begin()
            self.bind(self._connection)
        except BaseException:
            self._connection.close()
            self._connection = None
            raise
        return self

    def __exit__(self, *exc_info: Any) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if connection.in_transaction():
                connection.rollback()
        finally:
            connection.close()

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()
