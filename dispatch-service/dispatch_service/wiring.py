"""dispatch-service's dependencies, built once per process by ``create_app`` and read by views through ``deps()``.

``build_dependencies`` only builds: no thread, no connection, no write. The boto3 clients connect at their first
call, and the table and the bucket are created (on an emulator only) at the first call that needs them
(``AssignmentsTable.ensure``, ``Files.ensure``), never here. The service has no background work of its own: an
/assign run's lease renewer lives and dies with the request; ``background(deps)`` closes the clients when the
process stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import servicekit
from servicekit import Lifecycle, OnClose

from .adapters import aws
from .adapters.assignments_table import AssignmentsTable
from .adapters.day_ledger import DayLedger
from .adapters.files import Files
from .adapters.parsed_lists import ParsedLists
from .adapters.unit_of_work import DispatchUnitOfWork
from .settings import Settings
from .usecases import Clock, utc_now
from .usecases.assign_day import Checkpoint, no_checkpoint
from .usecases.day_lease import LeaseTerms


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    assignments: AssignmentsTable
    ledger: DayLedger
    files: Files
    # The day's lists parsed once per version, for the process's next requests.
    parsed_lists: ParsedLists = field(default_factory=ParsedLists)
    clock: Clock = field(default=utc_now)
    # Called by /assign between its steps (step name, run id); tests pause runs there to interleave them.
    checkpoint: Checkpoint = field(default=no_checkpoint)

    def uow(self) -> DispatchUnitOfWork:
        """A fresh unit of work (one per use case call)."""
        return DispatchUnitOfWork(self.assignments, self.ledger, self.files, self.parsed_lists)

    @property
    def lease_terms(self) -> LeaseTerms:
        return LeaseTerms(self.settings.lease_seconds, self.settings.assign_wait_seconds)

    def close(self) -> None:
        """Close the AWS clients' connection pools."""
        self.assignments.close()
        self.files.close()


def build_dependencies(settings: Settings) -> Dependencies:
    assignments = AssignmentsTable(
        aws.resource("dynamodb", settings),
        settings.assignments_table,
        provision=settings.provisions_aws,
        write_concurrency=settings.aws_write_concurrency,
    )
    return Dependencies(
        settings=settings,
        assignments=assignments,
        ledger=DayLedger(assignments, lanes=settings.aws_write_concurrency),
        files=Files.on_s3(aws.client("s3", settings), settings.logs_bucket, provision=settings.provisions_aws),
    )


def background(deps: Dependencies) -> Lifecycle:
    """The process's parts, not started: only the release of the AWS clients (there is no background work)."""
    return Lifecycle(OnClose(deps.close))


def deps() -> Dependencies:
    return servicekit.current_dependencies(Dependencies)
