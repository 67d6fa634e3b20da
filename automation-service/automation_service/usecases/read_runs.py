"""Read runs: one by id (state, per-portal progress, counts, errors and gpt-service's summary), or the recent
ones."""

from __future__ import annotations

import uuid

from servicekit.domain_errors import NotFound

from ..adapters.unit_of_work import AutomationUnitOfWork
from ..domain.models import Run, RunQuery


def read_run(uow: AutomationUnitOfWork, run_id: str) -> Run:
    try:
        uuid.UUID(run_id)
    except ValueError:
        raise NotFound(f"No run {run_id!r}: run ids are UUIDs.") from None
    with uow:
        row = uow.runs.get(run_id)
    if row is None:
        raise NotFound(f"No run {run_id}.")
    return Run.model_validate(row)


def list_runs(uow: AutomationUnitOfWork, query: RunQuery) -> list[Run]:
    """The most recent runs, newest first, of one status if asked."""
    with uow:
        rows = uow.runs.recent(query.limit, query.status)
    return [Run.model_validate(row) for row in rows]
