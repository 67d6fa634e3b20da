"""Start an extraction run: record it as running (one at a time across every worker) and queue it in this
process; by POST /runs or by the schedule."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from servicekit.domain_errors import Conflict, Unavailable

from ..adapters.unit_of_work import AutomationUnitOfWork
from ..domain.models import Run
from ..domain.run_outcome import RunStatus
from ..domain.schedule import run_is_due

log = logging.getLogger("automation_service.runner")


class RunQueue(Protocol):
    """Executes recorded runs in the background of this process (background/run_executor.py)."""

    def submit(self, run_id: str) -> None:
        """Raises RuntimeError when the process no longer executes runs (it is stopping)."""


def start_run(
    uow: AutomationUnitOfWork,
    queue: RunQueue,
    *,
    trigger: str,
    requested_by: str | None,
    portals: list[str],
    stale_after_seconds: int,
) -> Run:
    """The run, recorded as running and queued; Conflict (with ``run_id``) while another one runs."""
    with uow:
        uow.runs.abandon_stale(stale_after_seconds)
        row = uow.runs.start(trigger, requested_by, portals)
        if row is None:
            running = uow.runs.running_id() or "unknown"
            raise Conflict(
                f"Run {running} is still running; wait for it to finish.", title="Run in progress", run_id=running
            )
        uow.commit()
    run = Run.model_validate(row)
    try:
        queue.submit(str(run.id))
    except RuntimeError as exc:
        # Recorded but never to be executed here: end it now rather than leave it blocking every start.
        _end_unexecuted(uow, str(run.id), str(exc))
        raise Unavailable("This worker is stopping and runs no more extractions; start the run again.") from None
    return run


def start_run_if_due(
    uow: AutomationUnitOfWork,
    queue: RunQueue,
    *,
    now: datetime,
    interval_seconds: int,
    portals: list[str],
    stale_after_seconds: int,
) -> Run | None:
    """The schedule's start: a run when the last one started ``interval_seconds`` ago or more, else None."""
    with uow:
        last = uow.runs.last_started_at()
    if not run_is_due(last, now, interval_seconds):
        return None
    return start_run(
        uow, queue, trigger="schedule", requested_by=None, portals=portals, stale_after_seconds=stale_after_seconds
    )


def _end_unexecuted(uow: AutomationUnitOfWork, run_id: str, reason: str) -> None:
    with uow:
        uow.runs.finish(
            run_id,
            RunStatus.FAILED.value,
            loads_count=0,
            summaries_count=0,
            summary=None,
            errors=[f"not executed: {reason}"],
        )
        uow.commit()
    log.warning("run %s not executed: %s", run_id, reason)
