"""automation-service's unit of work: one Postgres transaction holding the loadboard repositories.

    with uow:
        uow.runs.abandon_stale(stale_after_seconds)
        run = uow.runs.start(trigger, requested_by, portals)
        uow.commit()

A block left without ``commit()`` leaves nothing behind (servicekit.SqlUnitOfWork).
"""

from __future__ import annotations

from collections.abc import Callable

from servicekit import SqlUnitOfWork
from sqlalchemy import Connection, Engine

from .postgres import Insights, Loads, Runs, Summaries


class AutomationUnitOfWork(SqlUnitOfWork):
    runs: Runs
    loads: Loads
    summaries: Summaries
    insights: Insights

    def bind(self, connection: Connection) -> None:
        self.runs = Runs(connection)
        self.loads = Loads(connection)
        self.summaries = Summaries(connection)
        self.insights = Insights(connection)


#: A fresh unit of work each call: one is used by one thread, one block at a time (a run's two portals report
#: their progress from two threads at once).
UnitOfWorkFactory = Callable[[], AutomationUnitOfWork]


def unit_of_work_factory(engine: Engine) -> UnitOfWorkFactory:
    return lambda: AutomationUnitOfWork(engine)
