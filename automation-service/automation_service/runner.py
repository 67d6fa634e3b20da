"""One extraction run, end to end: browser -> loads -> gpt-service -> summaries -> the insights view.

The application layer: it wires the domain rules to the adapters and runs in a background thread
of the worker that accepted POST /runs (or of the scheduler), so the request returns at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from servicekit.logs import current_request_id, request_id_context

from . import metrics
from .adapters.artifacts import FailureArtifacts
from .adapters.browser import ExtractionOptions, WarmBrowser
from .adapters.gpt import GptClient, GptUnavailable
from .adapters.portals import build_portals
from .adapters.postgres import LoadboardRepository, RunInProgress
from .domain.runs import PortalResult, RunStatus, outcome
from .domain.summaries import summary_rows
from .settings import Settings

log = logging.getLogger(__name__)


class RunManager:
    def __init__(
        self,
        settings: Settings,
        repository: LoadboardRepository | None = None,
        gpt: GptClient | None = None,
        artifact_files=None,
    ) -> None:
        self.settings = settings
        self.repository = repository or LoadboardRepository(settings.database_url)
        self.gpt = gpt or GptClient(settings)
        self.artifact_files = artifact_files  # a storage.Storage; None = storage.get_storage() when needed
        # Launched by the first run, not here: gunicorn may fork after the dependencies are built.
        self.browser = WarmBrowser(extraction_options(settings), idle_seconds=settings.browser_idle_seconds)
        # One run at a time per process; the database enforces it across processes.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extraction-run")
        self._scheduler: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, trigger: str = "api", requested_by: str | None = None) -> dict:
        """Record a running run and execute it in the background; RunInProgress if one is running."""
        run = self.repository.start_run(
            trigger, requested_by, self.settings.portal_names(), self.settings.run_stale_after_seconds
        )
        run_id = str(run["id"])
        # The run's log lines and its gpt-service calls carry the id of the request that started it.
        future = self.executor.submit(self._execute_for, current_request_id(), run_id)
        future.add_done_callback(lambda f: _log_crash(run_id, f))
        return run

    def _execute_for(self, request_id: str | None, run_id: str) -> RunStatus:
        with request_id_context(request_id):
            return self.execute(run_id)

    def execute(self, run_id: str) -> RunStatus:
        errors: list[str] = []
        loads_count = summaries_count = 0
        summary_json = None
        results: list[PortalResult] = []
        status = RunStatus.FAILED
        started = time.perf_counter()
        try:
            results = self._extract(run_id)
            errors.extend(r.error for r in results if r.error)
            loads = [load for r in results for load in r.loads]
            load_ids = self.repository.save_loads(run_id, loads)
            loads_count = len(load_ids)
            summaries_error = None
            if loads:
                try:
                    summary = self.gpt.summarize(loads)
                except GptUnavailable as exc:
                    summaries_error = f"summaries: {exc}"
                    errors.append(summaries_error)
                else:
                    summary_json = summary.model_dump(exclude={"notes"})
                    summaries_count = self.repository.save_summaries(run_id, summary_rows(summary, loads, load_ids))
            self.repository.refresh_insights()
            status = outcome(results, summaries_error)
        except Exception as exc:  # noqa: BLE001 - a run must end in a state, never stay "running"
            log.exception("run %s failed", run_id)
            errors.append(f"internal error: {type(exc).__name__}: {exc}")
            status = RunStatus.FAILED
        finally:
            self.repository.finish_run(
                run_id,
                status.value,
                loads_count=loads_count,
                summaries_count=summaries_count,
                summary=summary_json,
                errors=errors,
            )
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

    def _extract(self, run_id: str) -> list[PortalResult]:
        artifacts = FailureArtifacts(self.settings.artifact_prefix, run_id, self.artifact_files)

        async def progress(portal: str, fields: dict) -> None:
            await asyncio.to_thread(self.repository.update_portal, run_id, portal, fields)

        return self.browser.extract(
            build_portals(self.settings), progress=progress, save_artifacts=artifacts.save_async
        )

    # --- the schedule -------------------------------------------------------------------------------
    def start_schedule(self) -> None:
        interval = self.settings.schedule_interval_seconds
        if interval <= 0 or self._scheduler is not None:
            return
        self._scheduler = threading.Thread(
            target=self._schedule_loop, args=(interval,), daemon=True, name="extraction-schedule"
        )
        self._scheduler.start()

    def stop(self) -> None:
        self._stop.set()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.browser.close()

    def _schedule_loop(self, interval: int) -> None:
        # Every worker runs this loop; the last start time in the database keeps them from piling up,
        # and the one-running-run index settles a race between two of them.
        while not self._stop.wait(min(interval, 30)):
            try:
                last = self.repository.last_run_started_at()
                if last is None or datetime.now(UTC) - last >= timedelta(seconds=interval):
                    self.start(trigger="schedule")
            except RunInProgress:
                continue
            except Exception:  # noqa: BLE001 - the schedule must survive a database hiccup
                log.exception("scheduled run could not start")


def extraction_options(settings: Settings) -> ExtractionOptions:
    return ExtractionOptions(
        chromium_path=settings.chromium_path,
        loads_per_portal=settings.loads_per_portal,
        max_attempts=settings.portal_max_attempts,
        backoff_seconds=settings.retry_backoff_seconds,
        backoff_max_seconds=settings.retry_backoff_max_seconds,
        block_resources=settings.block_resources,
        run_timeout_seconds=settings.run_timeout_seconds,
    )


def _log_crash(run_id: str, future: Future) -> None:
    if future.exception() is not None:
        log.error("run %s crashed outside its own error handling", run_id, exc_info=future.exception())
