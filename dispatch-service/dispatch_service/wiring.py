"""dispatch-service's dependencies, built once per app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import servicekit

from .adapters import aws
from .adapters.assignments_table import AssignmentsTable
from .adapters.day_ledger import DayLedger
from .adapters.files import Files
from .settings import Settings


def _no_checkpoint(step: str, run_id: str) -> None:
    return None


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    assignments: AssignmentsTable
    ledger: DayLedger
    files: Files
    # Called by /assign between its steps (step name, run id); tests pause runs there to interleave them.
    checkpoint: Callable[[str, str], None] = field(default=_no_checkpoint)


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


def deps() -> Dependencies:
    return servicekit.current_dependencies(Dependencies)
