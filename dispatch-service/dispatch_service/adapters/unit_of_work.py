"""dispatch-service's unit of work: DeliveryAssignments (the assignments and the day's ledger), the day's lists and
the operational log, held together for one block of a use case.

    with uow:
        item = uow.assignments.update_status(...)
        uow.add_log(day, "update", name, records)
        uow.commit()

DynamoDB has no transaction that spans calls: what it has is the single conditional write and the
TransactWriteItems of up to 100 actions, each atomic on its own. So every write to the table is a transaction
of its own, committed when made (the ledger's are all fenced by the day's lease, see day_ledger.py), and what
the unit of work holds back is the operational log: the objects a block adds are written to the logs bucket by
``commit()``, in the order added, and dropped when the block is left without it (a refusal, an error). A log
object is therefore written only for writes that took, never for a refused update. A log lost to an outage
after its writes is written by the request's retry (an update to the status an item already has succeeds
again; a run resumes) or, for a run cut short, by the day's next run.

One unit of work serves one thread, one block at a time; the repositories it holds are thread-safe and shared
by the process (the parallel lanes of an /assign write through ``uow.ledger``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Self

from servicekit import UnitOfWork

from .assignments_table import AssignmentsTable
from .day_ledger import DayLedger
from .files import Files
from .parsed_lists import ParsedLists


@dataclass(frozen=True)
class LogObject:
    day: str
    kind: str
    name: str
    records: list[dict[str, Any]]


class DispatchUnitOfWork(UnitOfWork):
    def __init__(self, assignments: AssignmentsTable, ledger: DayLedger, files: Files, parsed: ParsedLists):
        self.assignments = assignments
        self.ledger = ledger
        self.files = files
        self.parsed = parsed
        self._pending: list[LogObject] | None = None

    def __enter__(self) -> Self:
        if self._pending is not None:
            raise RuntimeError("this unit of work is already in a `with` block")
        self._pending = []
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._pending = None

    def add_log(self, day: str, kind: str, name: str, records: Iterable[dict[str, Any]]) -> None:
        """An operational-log object (one per request), written by ``commit()``."""
        self._block().append(LogObject(day, kind, name, list(records)))

    def commit(self) -> None:
        pending = self._block()
        while pending:
            entry = pending[0]
            self.files.write_log(entry.day, entry.kind, entry.name, entry.records)
            pending.pop(0)

    def rollback(self) -> None:
        self._block().clear()

    def _block(self) -> list[LogObject]:
        if self._pending is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._pending
