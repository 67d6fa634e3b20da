"""fleet-api's unit of work: one Postgres transaction holding the repositories and the events outbox.

    with uow:
        assignment = uow.assignments.insert(driver_id, load_id)
        ...
        uow.outbox.add(event)
        uow.commit()

A block left without ``commit()`` leaves nothing behind: no row, no history, no event.
"""

from __future__ import annotations

from jobs import JobRegistry
from servicekit import SqlUnitOfWork
from sqlalchemy import Connection, Engine

from .outbox import EventOutbox
from .postgres import AssignmentRepository, DriverRepository, LoadRepository, UserRepository


class FleetUnitOfWork(SqlUnitOfWork):
    users: UserRepository
    drivers: DriverRepository
    loads: LoadRepository
    assignments: AssignmentRepository
    outbox: EventOutbox

    def __init__(self, engine: Engine, registry: JobRegistry):
        super().__init__(engine)
        self._registry = registry

    def bind(self, connection: Connection) -> None:
        self.users = UserRepository(connection)
        self.drivers = DriverRepository(connection)
        self.loads = LoadRepository(connection)
        self.assignments = AssignmentRepository(connection)
        self.outbox = EventOutbox(connection, self._registry)
