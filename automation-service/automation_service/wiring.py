"""automation-service's dependencies, built once per process by ``create_app`` and read by views through ``deps()``.

``build_dependencies`` only builds: no thread, no connection, no write (the engine connects at its first use, the
warm browser's loop and Chromium start with the background work). ``background(deps)`` lists the process's
background parts for a servicekit Lifecycle, which create_app starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import servicekit
import storage
from servicekit import Lifecycle
from servicekit.db import make_engine
from sqlalchemy import Engine

from .adapters.artifacts import FailureArtifacts
from .adapters.browser import ExtractionOptions, SaveArtifacts
from .adapters.gpt import GptClient
from .adapters.portals import build_portals
from .adapters.unit_of_work import AutomationUnitOfWork, unit_of_work_factory
from .background.run_executor import RunExecutor
from .background.run_schedule import RunSchedule
from .background.warm_browser import WarmBrowser
from .settings import Settings
from .usecases.execute_run import execute_run


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    engine: Engine
    browser: WarmBrowser
    gpt: GptClient
    # Executes the runs this process records (POST /runs, the schedule), one at a time.
    runs: RunExecutor

    def uow(self) -> AutomationUnitOfWork:
        """A fresh unit of work (one per use case call)."""
        return AutomationUnitOfWork(self.engine)


def build_dependencies(settings: Settings, *, artifact_files: storage.Storage | None = None) -> Dependencies:
    """``artifact_files``: a storage.Storage for failure screenshots (None: the configured one, when needed)."""
    engine = make_engine(settings.database_url, pool_size=5)
    browser = WarmBrowser(extraction_options(settings), idle_seconds=settings.browser_idle_seconds)
    gpt = GptClient(settings)

    def artifacts(run_id: str) -> SaveArtifacts:
        return FailureArtifacts(settings.artifact_prefix, run_id, artifact_files).save_async

    execute = partial(
        execute_run,
        uows=unit_of_work_factory(engine),
        browser=browser,
        gpt=gpt,
        portals=partial(build_portals, settings),
        artifacts=artifacts,
    )
    return Dependencies(settings=settings, engine=engine, browser=browser, gpt=gpt, runs=RunExecutor(execute))


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


def background(deps: Dependencies) -> Lifecycle:
    """The warm browser, the run executor and (with SCHEDULE_INTERVAL_SECONDS) the schedule, not started.
    Closed newest first: the schedule stops starting runs, the run under way ends, the browser closes, then the
    pool."""
    parts: list[servicekit.Background] = [servicekit.OnClose(deps.engine.dispose), deps.browser, deps.runs]
    settings = deps.settings
    if settings.schedule_interval_seconds > 0:
        parts.append(
            RunSchedule(
                unit_of_work_factory(deps.engine),
                deps.runs,
                interval_seconds=settings.schedule_interval_seconds,
                portals=settings.portal_names(),
                stale_after_seconds=settings.run_stale_after_seconds,
            )
        )
    return Lifecycle(*parts)


def deps() -> Dependencies:
    dependencies: Dependencies = servicekit.current_dependencies(Dependencies)
    return dependencies
