"""The bakery's unit of work: one transaction holding the repositories and the outbox of outside actions.

    with uow:
        order = uow.orders.get(order_id, for_update=True)
        ...
        uow.outbox.add(SlackReadyNotice(...))
        uow.commit()

An order and the outside actions it causes are written together or not at all (servicekit.SqlUnitOfWork).
"""

from __future__ import annotations

from collections.abc import Callable

from servicekit import SqlUnitOfWork
from sqlalchemy.engine import Connection, Engine

from .action_outbox import ActionOutbox
from .postgres import Batches, Cakes, DriveDocuments, Employees, Orders


class BakeryUnitOfWork(SqlUnitOfWork):
    cakes: Cakes
    orders: Orders
    batches: Batches
    employees: Employees
    drive_documents: DriveDocuments
    outbox: ActionOutbox

    def bind(self, connection: Connection) -> None:
        self.cakes = Cakes(connection)
        self.orders = Orders(connection)
        self.batches = Batches(connection)
        self.employees = Employees(connection)
        self.drive_documents = DriveDocuments(connection)
        self.outbox = ActionOutbox(connection)


#: A fresh unit of work each call (one is used by one thread, one block at a time).
UnitOfWorkFactory = Callable[[], BakeryUnitOfWork]


def unit_of_work_factory(engine: Engine) -> UnitOfWorkFactory:
    return lambda: BakeryUnitOfWork(engine)


class SettleWrites:
    """What goes with marking an outside action done, written in the transaction in which the outbox settles
    it (jobs.outbox ``Outcome.then``): only if the settle takes, so a late attempt writes nothing."""

    def __init__(self, connection: Connection) -> None:
        self.orders = Orders(connection)
        self.batches = Batches(connection)
        self.outbox = ActionOutbox(connection)


def in_settle(then: Callable[[SettleWrites], None]) -> Callable[[Connection], None]:
    """``then`` as the outbox's settle calls it."""
    return lambda connection: then(SettleWrites(connection))
