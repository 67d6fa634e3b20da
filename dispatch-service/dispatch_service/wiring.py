"""dispatch-service's dependencies, built once per app."""

from __future__ import annotations

from dataclasses import dataclass

import servicekit

from .adapters import aws
from .adapters.assignments_table import AssignmentsTable
from .adapters.files import Files
from .settings import Settings


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    assignments: AssignmentsTable
    files: Files


def build_dependencies(settings: Settings) -> Dependencies:
    return Dependencies(
        settings=settings,
        assignments=AssignmentsTable(
            aws.resource("dynamodb", settings),
            settings.assignments_table,
            provision=settings.provisions_aws,
            write_concurrency=settings.aws_write_concurrency,
        ),
        files=Files.on_s3(aws.client("s3", settings), settings.logs_bucket, provision=settings.provisions_aws),
    )


def deps() -> Dependencies:
    return servicekit.current_dependencies(Dependencies)
