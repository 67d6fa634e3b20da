"""One extraction run, end to end: browser -> loads -> gpt-service -> summaries -> the insights view.

Runs in the background thread of the worker that recorded the run (background/run_executor.py); it always
ends the run in a state (succeeded, partial or failed), never leaves it "running".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from .. import metrics
from ..adapters.browser import Progress, SaveArtifacts
from ..adapters.gpt import GptUnavailable
from ..adapters.portals import Portal
from ..adapters.unit_of_work import UnitOfWorkFactory
from ..domain.extracted_loads import Load
from ..domain.run_outcome import PortalResult, RunStatus, outcome
from ..domain.summaries import Summary, summary_rows

# The runs' logger since the first run: the suite's log tracing reads its lines.
log = logging.getLogger("automation_service.runner")


class Extractor(Protocol):
    """Reads every portal's most recent loads (background/warm_browser.py); never raises for a portal."""

    def extract(
        self, portals: list[Portal], *, progress: Progress, save_artifacts: SaveArtifacts
    ) -> list[PortalResult]: ...


class Summariser(Protocol):
    """gpt-service's /summarize-loads (adapters/gpt.py); raises GptUnavailable without a usable answer."""

    def summarize(self, loads: list[Load]) -> Summary: ...


def execute_run(
    run_id: str,
    *,
    uows: UnitOfWorkFactory,
    browser: Extractor,
    gpt: Summariser,
    portals: Callable[[], list[Portal]],
    artifacts: Callable[[str], SaveArtifacts],
) -> RunStatus:
    """``portals`` builds the portals a run reads; ``artifacts(run_id)`` saves a failed portal's page."""
    errors: list[str] = []
    loads_count = summaries_count = 0
    summary_json: dict[str, Any] | None = None
    status = RunStatus.FAILED
    started = time.perf_counter()
    try:
        results = browser.extract(portals(), progress=_progress_of(uows, run_id), save_artifacts=artifacts(run_id))
        errors.extend(r.error for r in results if r.error)
        loads = [load for r in results for load in r.loads]
        with uows() as uow:
            load_ids = uow.loads.upsert(run_id, loads)
            uow.commit()
        loads_count = len(load_ids)
        summaries_error = None
        if loads:
            try:
                summary = gpt.summarize(loads)
            except GptUnavailable as exc:
                summaries_error = f"summaries: {exc}"
                errors.append(summaries_error)
            else:
                summary_json = summary.model_dump(exclude={"notes"})
                with uows() as uow:
                    summaries_count = uow.summaries.add(run_id, summary_rows(summary, loads, load_ids))
                    uow.commit()
        with uows() as uow:
            uow.insights.refresh()
            uow.commit()
        status = outcome(results, summaries_error)
    except Exception as exc:  # noqa: BLE001 - a run must end in a state, never stay "running"
        log.exception("run %s failed", run_id)
        errors.append(f"internal error: {type(exc).__name__}: {exc}")
        status = RunStatus.FAILED
    finally:
        with uows() as uow:
            uow.runs.finish(
                run_id,
                status.value,
                loads_count=loads_count,
                summaries_count=summaries_count,
                summary=summary_json,
                errors=errors,
            )
            uow.commit()
        metrics.RUNS.labels(status.value).inc()
        metrics.RUN_SECONDS.labels(status.value).observe(time.perf_counter() - started)
        log.info(
            "run %s finished %s in %.1f s: %d loads, %d summaries",
            run_id,
            status.value,
            time.perf_counter() - started,
            loads_count,
            summaries_count,
        )
    return status


def _progress_of(uows: UnitOfWorkFactory, run_id: str) -> Progress:
    """Each portal's progress, written as it happens (GET /runs/<id> shows it), from the browser's loop."""

    def update(portal: str, fields: dict[str, Any]) -> None:
        with uows() as uow:
            uow.runs.update_portal(run_id, portal, fields)
            uow.commit()

    async def progress(portal: str, fields: dict[str, Any]) -> None:
        await asyncio.to_thread(update, portal, fields)

    return progress
